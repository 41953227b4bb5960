import { useEffect, useRef } from "react";
import uPlot from "uplot";
import type { CtfColumns, CtfRewind } from "../api.js";
import { laneWidth, mountLaneStack, placeHead } from "../plotStack.js";
import { useLatest } from "../util.js";
import { metricRange, stepAxis } from "./laneAxes.js";
import { Q_LANES, STATUS_CODE_COLORS, toolColor } from "./status.js";

type LaneKind = "q" | "latency" | "status" | "tool";
interface Lane {
  key: string;
  label: string;
  kind: LaneKind;
  color: string;
  height: number;
  threshold?: number;
}

/** The lanes in order: status, the Q-metrics with the tool lane under tool entropy, then latency. */
export function laneList(spec: Record<string, number> | undefined): Lane[] {
  const q = (k: (typeof Q_LANES)[number]): Lane => ({
    key: k.key,
    label: k.label,
    kind: "q",
    color: k.color,
    height: 78,
    threshold: spec?.[k.spec],
  });
  const [drift, entropy, latDrift, branching, retry] = Q_LANES;
  return [
    { key: "status", label: "status", kind: "status", color: "#000", height: 34 },
    q(drift),
    q(entropy),
    { key: "tool", label: "tool", kind: "tool", color: "#000", height: 64 },
    q(latDrift),
    { key: "latency_ms", label: "latency ms", kind: "latency", color: "#475569", height: 78 },
    q(branching),
    q(retry),
  ];
}

/** Runs of consecutive points where `pred` holds, as [first index, last index]. */
function runs(n: number, pred: (i: number) => boolean): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let s = -1;
  for (let i = 0; i <= n; i++) {
    const on = i < n && pred(i);
    if (on && s < 0) s = i;
    else if (!on && s >= 0) {
      out.push([s, i - 1]);
      s = -1;
    }
  }
  return out;
}

/**
 * Fills spans [x0, x1] (device pixels) as one path, spans closer than a pixel merged first: a big trace has thousands
 * of abandoned or over-threshold stretches, and the browser rasterises every rectangle it is given.
 */
function fillSpans(ctx: CanvasRenderingContext2D, spans: Array<[number, number]>, top: number, height: number): void {
  ctx.beginPath();
  let a = Number.NaN;
  let b = Number.NaN;
  for (const [x0, x1] of spans) {
    if (x0 <= b + 1) b = Math.max(b, x1);
    else {
      if (Number.isFinite(a)) ctx.rect(a, top, Math.max(1, b - a), height);
      a = x0;
      b = x1;
    }
  }
  if (Number.isFinite(a)) ctx.rect(a, top, Math.max(1, b - a), height);
  ctx.fill();
}

/**
 * The trace's waveforms: one uPlot lane per Q-metric (the corridor_spec threshold drawn as a band, the steps over it
 * shaded), a status enum lane, a tool lane and a latency lane, on one x axis (step position) with one shared
 * cursor. Steps a rewind abandoned are greyed on every lane and every rewind is a marker on every lane. The cursor
 * is a DOM line moved without redrawing. Clicking a lane moves the debugger to that step.
 */
export function Lanes(props: {
  columns: CtfColumns;
  tools: string[];
  spec: Record<string, number> | undefined;
  rewinds: CtfRewind[];
  cursor: number;
  onSeek: (ord: number) => void;
}) {
  const { columns, tools, spec, rewinds, cursor, onSeek } = props;
  const host = useRef<HTMLDivElement>(null);
  const plots = useRef<uPlot[]>([]);
  const heads = useRef<HTMLDivElement[]>([]);
  const latest = useLatest({ onSeek, cursor, rewinds });

  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuilt for new data only; the rest is read from `latest`
  useEffect(() => {
    const el = host.current!;
    el.dataset.drawn = "false";
    const width = laneWidth(el);
    const sync = uPlot.sync(`ctf-${columns.id}`);
    // Every column of the body has one value per point of `ord` (n of them); the drawing passes read points i < n
    // and assert it (hot paths: no per-point checks).
    const x = columns.ord;
    const n = x.length;
    const lanes = laneList(spec);
    const half = (i: number, dir: -1 | 1) => {
      const j = i + dir;
      if (j < 0 || j >= n) return x[i]! + dir * 0.5;
      return (x[i]! + x[j]!) / 2;
    };
    const abandoned = runs(n, (i) => columns.valid[i] === 0);
    const created: uPlot[] = [];
    const createdHeads: HTMLDivElement[] = [];
    let drawn = 0;
    lanes.forEach((lane, li) => {
      const last = li === lanes.length - 1;
      const values: Array<number | null> =
        lane.kind === "status"
          ? columns.status.map((s) => (s === null ? null : 0.5))
          : lane.kind === "tool"
            ? columns.tool
            : (columns[lane.key as keyof CtfColumns] as Array<number | null>);
      const over =
        lane.threshold !== undefined
          ? runs(n, (i) => {
              const v = values[i]!;
              return v !== null && v > (lane.threshold as number);
            })
          : [];
      const wrap = document.createElement("div");
      wrap.className = "plot lane";
      wrap.dataset.testid = `lane-${lane.key}`;
      wrap.setAttribute("role", "img");
      wrap.setAttribute(
        "aria-label",
        lane.kind === "q"
          ? `${lane.label} per step, threshold ${lane.threshold ?? "none"}, ${over.length} stretches over it`
          : `${lane.label} per step`,
      );
      const caption = document.createElement("div");
      caption.className = "lane-label";
      caption.textContent = lane.label;
      caption.style.color = lane.kind === "q" || lane.kind === "latency" ? lane.color : "#334155";
      wrap.appendChild(caption);
      el.appendChild(wrap);
      const draw = (u: uPlot) => {
        const ctx = u.ctx;
        const { top, height, left, width: w } = u.bbox;
        const xs = (v: number) => u.valToPos(v, "x", true);
        const ys = (v: number) => u.valToPos(v, "y", true);
        ctx.save();
        ctx.beginPath();
        ctx.rect(left, top, w, height);
        ctx.clip();
        ctx.fillStyle = "rgba(100,116,139,0.16)";
        fillSpans(
          ctx,
          abandoned.map(([a, b]) => [xs(half(a, -1)), xs(half(b, 1))]),
          top,
          height,
        );
        if (lane.kind === "status") {
          // One fill style at a time: a status change is rare next to the steps.
          for (const [code, color] of STATUS_CODE_COLORS.entries()) {
            ctx.fillStyle = color;
            const spans: Array<[number, number]> = [];
            for (let i = 0; i < n; i++) if (columns.status[i] === code) spans.push([xs(half(i, -1)), xs(half(i, 1))]);
            fillSpans(ctx, spans, top + 3, height - 6);
          }
        }
        if (lane.kind === "tool") {
          const r = 3 * devicePixelRatio;
          for (let i = 0; i < n; i++) {
            const t = columns.tool[i]!;
            if (t === null) continue;
            ctx.fillStyle = toolColor(t);
            ctx.fillRect(xs(x[i]!) - r, ys(t) - r, 2 * r, 2 * r);
          }
        }
        if (lane.threshold !== undefined) {
          const yT = ys(lane.threshold);
          if (yT > top) {
            ctx.fillStyle = "rgba(220,38,38,0.07)";
            ctx.fillRect(left, top, w, Math.min(height, yT - top));
          }
          ctx.fillStyle = "rgba(249,115,22,0.22)";
          fillSpans(
            ctx,
            over.map(([a, b]) => [xs(half(a, -1)), xs(half(b, 1))]),
            top,
            height,
          );
          ctx.setLineDash([5 * devicePixelRatio, 4 * devicePixelRatio]);
          ctx.strokeStyle = "#dc2626";
          ctx.lineWidth = devicePixelRatio;
          ctx.beginPath();
          ctx.moveTo(left, yT);
          ctx.lineTo(left + w, yT);
          ctx.stroke();
        }
        // One marker per pixel column, in one path; dashed only while they are few (a big trace has thousands,
        // and every dash is rasterised).
        const cols = new Set<number>();
        let marks = 0;
        for (const r of latest.current.rewinds) {
          const px = Math.round(xs(r.at - 0.5));
          if (px < left || px > left + w) continue;
          marks++;
          cols.add(px);
        }
        ctx.setLineDash(cols.size < 200 ? [3 * devicePixelRatio, 2 * devicePixelRatio] : []);
        ctx.strokeStyle = cols.size < 200 ? "#9333ea" : "rgba(147,51,234,0.45)";
        ctx.lineWidth = (cols.size < 200 ? 1.5 : 1) * devicePixelRatio;
        ctx.beginPath();
        for (const px of cols) {
          ctx.moveTo(px, top);
          ctx.lineTo(px, top + height);
        }
        ctx.stroke();
        ctx.restore();
        wrap.dataset.rewindMarkers = String(marks);
        wrap.dataset.band = lane.threshold !== undefined ? String(lane.threshold) : "";
        wrap.dataset.over = String(over.length);
      };
      const opts: uPlot.Options = {
        width,
        height: lane.height + (last ? 26 : 0),
        class: "rtt-plot",
        padding: [4, 18, 0, 0],
        legend: { show: false },
        cursor: { sync: { key: sync.key }, drag: { x: true, y: false, setScale: true }, points: { show: false } },
        scales: {
          x: { time: false },
          y:
            lane.kind === "status"
              ? { range: [0, 1] }
              : lane.kind === "tool"
                ? { range: [-0.6, Math.max(0.6, tools.length - 0.4)] }
                : { range: metricRange(() => lane.threshold) },
        },
        axes: [
          stepAxis(last),
          {
            size: 118,
            stroke: "#475569",
            grid: { show: lane.kind !== "status", stroke: "#e2e8f0" },
            splits:
              lane.kind === "status" ? () => [] : lane.kind === "tool" ? () => tools.map((_t, i) => i) : undefined,
            values: lane.kind === "tool" ? (_u: uPlot, s: number[]) => s.map((i) => tools[i] ?? "") : undefined,
          },
        ],
        series: [
          { label: "step" },
          {
            label: lane.label,
            stroke: lane.kind === "q" || lane.kind === "latency" ? lane.color : "transparent",
            width: 1.4,
            paths: lane.kind === "q" || lane.kind === "latency" ? undefined : () => null,
            points: { show: lane.kind !== "status" && lane.kind !== "tool" && n < 300 },
            spanGaps: false,
          },
        ],
        hooks: {
          draw: [
            (u) => {
              draw(u);
              placeHead(u, createdHeads[li], latest.current.cursor);
              if (++drawn === lanes.length) {
                el.dataset.drawn = "true";
                el.dataset.points = String(n);
                performance.mark("rtt:ctf-lanes-drawn");
                requestAnimationFrame(() => performance.mark("rtt:ctf-painted"));
              }
            },
          ],
        },
      };
      const u = new uPlot(opts, [x, values] as unknown as uPlot.AlignedData, wrap);
      sync.sub(u);
      let downX = Number.NaN;
      u.over.addEventListener("mousedown", (e) => {
        downX = e.clientX;
      });
      u.over.addEventListener("click", (e) => {
        if (Math.abs(e.clientX - downX) > 3) return;
        const rect = u.over.getBoundingClientRect();
        const v = Math.round(u.posToVal(e.clientX - rect.left, "x"));
        latest.current.onSeek(Math.max(columns.from, Math.min(columns.to - 1, v)));
      });
      u.over.addEventListener("dblclick", () => {
        for (const p of created) p.setScale("x", { min: x[0]! - 0.5, max: x[n - 1]! + 0.5 }); // n > 0: a trace with steps
      });
      const head = document.createElement("div");
      head.className = "playhead";
      u.over.appendChild(head);
      created.push(u);
      createdHeads.push(head);
    });
    plots.current = created;
    heads.current = createdHeads;
    const teardown = mountLaneStack(el, sync, () => created);
    return () => {
      teardown();
      plots.current = [];
      heads.current = [];
    };
  }, [columns]);

  // The cursor (also placed after the lanes are rebuilt).
  // biome-ignore lint/correctness/useExhaustiveDependencies: columns rebuilds the lanes
  useEffect(() => {
    plots.current.forEach((u, i) => {
      placeHead(u, heads.current[i], cursor);
    });
  }, [cursor, columns]);

  return (
    <>
      <div className="plots ctf-lanes" ref={host} data-testid="ctf-lanes" />
      <p className="muted small">
        Grey: steps a rewind abandoned. Red dashed line and tint: the corridor_spec threshold; orange: steps over it.
        Purple dashed: rewinds. Drag to zoom, double-click to see every step, click to move the debugger there.
      </p>
    </>
  );
}
