import { interpolateYlOrRd } from "d3";
import { useEffect, useRef } from "react";
import type { CtfColumns } from "../api.js";

/**
 * The seed's semantic-drift heatmap: mean semantic drift per tool (rows) per bucket of steps (columns), from the
 * columns endpoint. Empty cells (no step of that tool there) are light grey. Clicking a cell moves the debugger to the
 * bucket's first step.
 */
export function DriftHeatmap({ heat, onSeek }: { heat: CtfColumns["heat"]; onSeek: (ord: number) => void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const rowH = 16;
  const rows = heat.rows.map((r, i) => ({ name: r ?? "(no tool)", values: heat.values[i] ?? [] }));
  const shown = rows.filter((r) => r.values.some((v) => v !== null));
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const w = c.clientWidth || 600;
    c.width = Math.round(w * devicePixelRatio);
    c.height = Math.round(shown.length * rowH * devicePixelRatio);
    const ctx = c.getContext("2d")!;
    ctx.scale(devicePixelRatio, devicePixelRatio);
    const cw = w / Math.max(1, heat.buckets);
    shown.forEach((r, y) => {
      r.values.forEach((v, b) => {
        ctx.fillStyle = v === null ? "#f1f5f9" : interpolateYlOrRd(Math.max(0, Math.min(1, v)));
        ctx.fillRect(b * cw, y * rowH, Math.ceil(cw), rowH - 1);
      });
    });
  });
  const span = heat.to - heat.from;
  return (
    <section className="ctf-panel" aria-label="Semantic drift heatmap">
      <h3>Semantic drift heatmap</h3>
      <div className="heatmap" data-testid="drift-heatmap" data-rows={shown.length} data-buckets={heat.buckets}>
        <div className="heat-labels" aria-hidden="true">
          {shown.map((r) => (
            <div key={r.name} style={{ height: rowH }}>
              {r.name}
            </div>
          ))}
        </div>
        <canvas
          ref={canvas}
          style={{ height: shown.length * rowH }}
          role="img"
          aria-label={`Mean semantic drift per tool over ${span} steps in ${heat.buckets} buckets; darker is higher`}
          onClick={(e) => {
            const rect = e.currentTarget.getBoundingClientRect();
            const b = Math.floor(((e.clientX - rect.left) / rect.width) * heat.buckets);
            onSeek(heat.from + Math.floor((b * span) / Math.max(1, heat.buckets)));
          }}
        />
      </div>
      <p className="muted small">Rows: tools. Columns: steps in order. Colour: mean drift, 0 (pale) to 1 (dark red).</p>
    </section>
  );
}
