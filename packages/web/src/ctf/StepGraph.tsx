import { linkHorizontal } from "d3";
import { useEffect, useMemo, useRef } from "react";
import type { CtfRewind, CtfStep } from "../api.js";
import { STATUS_COLORS } from "./status.js";

const DX = 44;
const DY = 30;
const PAD = 18;

interface Placed {
  s: CtfStep;
  x: number;
  y: number;
}

/**
 * Rows for a window of steps: depth is x; the final lineage is row 0 and every other branch gets the next free row
 * below its parent's (children on the lineage first, then in file order).
 */
export function layoutSteps(steps: CtfStep[]): Map<number, Placed> {
  const byOrd = new Map(steps.map((s) => [s.ord, s]));
  const kids = new Map<number, CtfStep[]>();
  const roots: CtfStep[] = [];
  for (const s of steps) {
    if (s.parent_ord !== null && byOrd.has(s.parent_ord)) {
      const k = kids.get(s.parent_ord) ?? [];
      k.push(s);
      kids.set(s.parent_ord, k);
    } else roots.push(s);
  }
  const minDepth = Math.min(...steps.map((s) => s.depth));
  const out = new Map<number, Placed>();
  let nextRow = 0;
  const order = (a: CtfStep, b: CtfStep) => Number(b.on_lineage) - Number(a.on_lineage) || a.ord - b.ord;
  roots.sort(order);
  const stack: Array<{ s: CtfStep; row: number }> = [];
  for (const r of roots.reverse()) stack.push({ s: r, row: -1 });
  while (stack.length) {
    const { s, row: given } = stack.pop()!;
    const row = given < 0 ? nextRow++ : given;
    out.set(s.ord, { s, x: s.depth - minDepth, y: row });
    const ch = (kids.get(s.ord) ?? []).sort(order);
    // The first child continues the row; the others open new rows (assigned when popped, in order).
    for (let i = ch.length - 1; i >= 0; i--) stack.push({ s: ch[i]!, row: i === 0 ? row : -1 });
  }
  return out;
}

/**
 * Which steps a rewind had abandoned by step position `at`: each rewind walks from its from-step up to (not
 * including) its to-step; a step abandoned by one written later is still live before it.
 */
export function abandonedAt(steps: CtfStep[], rewinds: CtfRewind[]): Map<number, number> {
  const byOrd = new Map(steps.map((s) => [s.ord, s]));
  const when = new Map<number, number>();
  for (const r of rewinds) {
    let o = r.from_ord;
    while (o !== null && o !== r.to_ord) {
      if (!when.has(o)) when.set(o, r.at);
      const s = byOrd.get(o);
      o = s ? s.parent_ord : null;
    }
  }
  // A step under an abandoned one is abandoned with it.
  for (const s of steps)
    if (!when.has(s.ord) && s.parent_ord !== null && when.has(s.parent_ord))
      when.set(s.ord, Math.max(s.ord + 1, when.get(s.parent_ord)!));
  return when;
}

/**
 * The branching graph of a window of steps (d3 links): parent links, rewinds as dashed back-edges, branches a rewind
 * abandoned greyed (not hidden), the final lineage bold, the path from the debugger's step to the root highlighted.
 * Steps written after the cursor are faint: stepping or playing shows the corridor grow and, after a rewind, snap back
 * to the lineage. Clicking a step moves the debugger to it.
 */
export function StepGraph(props: {
  steps: CtfStep[];
  rewinds: CtfRewind[];
  cursor: number;
  onSeek: (ord: number) => void;
  partial: boolean;
}) {
  const { steps, rewinds, cursor, onSeek, partial } = props;
  const placed = useMemo(() => layoutSteps(steps), [steps]);
  const gone = useMemo(() => abandonedAt(steps, rewinds), [steps, rewinds]);
  const scroller = useRef<HTMLDivElement>(null);
  const path = new Set<number>();
  for (let o: number | null = cursor; o !== null && placed.has(o); o = placed.get(o)!.s.parent_ord) path.add(o);
  let w = 0;
  let h = 0;
  for (const p of placed.values()) {
    w = Math.max(w, p.x);
    h = Math.max(h, p.y);
  }
  const px = (p: Placed) => PAD + p.x * DX;
  const py = (p: Placed) => PAD + 10 + p.y * DY;
  const link = linkHorizontal<{ source: [number, number]; target: [number, number] }, [number, number]>();
  const cur = placed.get(cursor);
  useEffect(() => {
    const el = scroller.current;
    if (!el || !cur) return;
    const x = px(cur);
    if (x < el.scrollLeft + 40 || x > el.scrollLeft + el.clientWidth - 40) el.scrollLeft = x - el.clientWidth / 2;
  });
  const state = (s: CtfStep): string => {
    const g = gone.get(s.ord);
    if (s.ord > cursor) return "future";
    if (g !== undefined && g <= cursor) return "abandoned";
    return s.on_lineage ? "lineage" : "branch";
  };
  const visibleRewinds = rewinds.filter(
    (r) => r.from_ord !== null && r.to_ord !== null && placed.has(r.from_ord) && placed.has(r.to_ord),
  );
  return (
    <section className="ctf-panel" aria-label="Branching graph of steps">
      <h3>Branching graph</h3>
      {partial ? <p className="muted small">Showing the steps around the cursor ({steps.length} steps).</p> : null}
      <div className="step-graph" ref={scroller} data-testid="step-graph">
        <svg width={PAD * 2 + w * DX + 20} height={PAD * 2 + 20 + h * DY} aria-labelledby="step-graph-title">
          <title id="step-graph-title">Branching graph of the trace's steps</title>
          <defs>
            <marker id="rw-arrow" viewBox="0 0 8 8" refX="6" refY="4" markerWidth="7" markerHeight="7" orient="auto">
              <path d="M0,0 L8,4 L0,8 z" fill="#9333ea" />
            </marker>
          </defs>
          {[...placed.values()].map((p) => {
            const par = p.s.parent_ord !== null ? placed.get(p.s.parent_ord) : undefined;
            if (!par) return null;
            const st = state(p.s);
            return (
              <path
                key={`e${p.s.ord}`}
                data-testid="graph-edge"
                data-state={st}
                className={`g-edge ${st}${path.has(p.s.ord) ? " path" : ""}`}
                d={link({ source: [px(par), py(par)], target: [px(p), py(p)] }) ?? ""}
              />
            );
          })}
          {visibleRewinds.map((r) => {
            const a = placed.get(r.from_ord as number)!;
            const b = placed.get(r.to_ord as number)!;
            const x1 = px(a);
            const y1 = py(a);
            const x2 = px(b);
            const y2 = py(b);
            const lift = 14 + Math.abs(x1 - x2) * 0.25;
            return (
              <path
                key={`r${r.at}-${r.from_ord}`}
                data-testid="graph-rewind"
                className={`g-rewind${r.at > cursor ? " future" : ""}`}
                markerEnd="url(#rw-arrow)"
                d={`M${x1},${y1 - 7} C${x1},${y1 - lift} ${x2},${y2 - lift} ${x2 + 3},${y2 - 8}`}
              >
                <title>{`rewind from step ${r.from_step} to step ${r.to_step}`}</title>
              </path>
            );
          })}
          {[...placed.values()].map((p) => {
            const st = state(p.s);
            const fill = st === "abandoned" ? "#cbd5e1" : (STATUS_COLORS[p.s.corridor_status ?? ""] ?? "#94a3b8");
            return (
              // biome-ignore lint/a11y/useSemanticElements: an SVG node; the lanes and the keys reach every step too
              <g
                key={p.s.ord}
                role="button"
                tabIndex={-1}
                data-testid="graph-node"
                data-ord={p.s.ord}
                data-state={st}
                data-lineage={p.s.on_lineage}
                className={`g-node ${st}${p.s.ord === cursor ? " cursor" : ""}${path.has(p.s.ord) ? " path" : ""}`}
                transform={`translate(${px(p)},${py(p)})`}
                onClick={() => onSeek(p.s.ord)}
                aria-label={`step ${p.s.step_id}${p.s.tool ? ` (${p.s.tool})` : ""}, ${st}`}
              >
                <circle r={p.s.ord === cursor ? 8 : 6} fill={fill} />
                <text y={18} textAnchor="middle">
                  {p.s.step_id}
                </text>
              </g>
            );
          })}
        </svg>
      </div>
      <p className="muted small">
        Bold: the final lineage. Orange: the path to the current step. Grey: abandoned by a rewind. Purple arcs:
        rewinds. Faint: not yet written at the current step.
      </p>
    </section>
  );
}
