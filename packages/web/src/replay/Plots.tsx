import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import type { Anomaly, Columns, Note } from "../api.js";
import { laneWidth, mountLaneStack, placeHead } from "../plotStack.js";
import { sevColor, useLatest } from "../util.js";

export interface Band {
  t_from: number;
  t_to: number;
  color: string;
}

export interface PlotOverlays {
  anomalies: Anomaly[];
  showAnomalies: boolean;
  notes: Note[];
  bands: Band[];
  range?: { from?: number; to?: number };
}

const heightOf = (i: number) => (i === 3 ? 122 : 96);

const SERIES = [
  { key: "C", label: "C(t)", color: "#2563eb" },
  { key: "D", label: "D(t)", color: "#059669" },
  { key: "Q", label: "Q(t)", color: "#7c3aed" },
  { key: "R", label: "R(t)", color: "#c2410c" },
] as const;

/** The visible x range after a zoom. */
export interface XRange {
  min: number;
  max: number;
}

/** Columns of a zoomed-in range, shown instead of the overview while that zoom lasts. */
export interface PlotDetail {
  range: XRange;
  columns: Columns;
}

/**
 * Four stacked uPlot charts (C, D, Q, R) sharing one cursor. Overlays (anomaly lines coloured by severity,
 * note markers, curriculum evidence bands, the from/to range) are drawn in uPlot's draw hook from a ref,
 * so toggling them is a cheap redraw; the playhead is a DOM line moved without redrawing the canvas.
 *
 * `columns` is the overview (the whole segment, possibly decimated). Dragging across a plot zooms all four on x
 * and reports the range through `onZoom`; the caller may then pass `detail` (the range's columns at a finer
 * resolution), which replaces the plotted data while keeping the zoom. Double-click or "Reset zoom" returns to
 * the overview and reports `onZoom(null)`.
 */
export function Plots(props: {
  columns: Columns;
  overlays: PlotOverlays;
  t: number;
  onSeek: (t: number) => void;
  onDrawn?: (columns: Columns) => void;
  detail?: PlotDetail | null;
  onZoom?: (range: XRange | null) => void;
  /** Zoom to apply when the plots are built for new columns (a shared link's zoom). */
  initialZoom?: XRange | null;
}) {
  const { columns, overlays, t, onSeek, onDrawn, detail, onZoom, initialZoom } = props;
  const host = useRef<HTMLDivElement>(null);
  const plots = useRef<uPlot[]>([]);
  const heads = useRef<HTMLDivElement[]>([]);
  // The plots are rebuilt only for new columns; their hooks and listeners read everything else from here.
  const latest = useLatest({ overlays, onSeek, onDrawn, onZoom, initialZoom, t });
  /** The current zoom (null: whole overview); set from plot 0's x scale. */
  const zoom = useRef<XRange | null>(null);
  const resetRef = useRef<() => void>(() => {});
  const [zoomed, setZoomed] = useState(false);

  // Rebuilt only when the data changes; everything else is read through refs.
  useEffect(() => {
    const el = host.current!;
    const width = laneWidth(el);
    const sync = uPlot.sync(`rtt-${columns.segment_id}`);
    zoom.current = null;
    setZoomed(false);
    delete el.dataset.detail;
    const n = columns.t.length;
    const t0 = columns.t[0] ?? 0;
    const t1 = columns.t[n - 1] ?? 0;
    const eps = (t1 - t0) * 1e-9;
    const drawOverlays = (u: uPlot) => {
      const o = latest.current.overlays;
      const ctx = u.ctx;
      const { top, height, left, width: w } = u.bbox;
      const xs = (v: number) => u.valToPos(v, "x", true);
      ctx.save();
      ctx.beginPath();
      ctx.rect(left, top, w, height);
      ctx.clip();
      for (const b of o.bands) {
        const x0 = xs(b.t_from);
        const x1 = Math.max(xs(b.t_to), x0 + 2);
        ctx.fillStyle = b.color;
        ctx.fillRect(x0, top, x1 - x0, height);
      }
      if (o.range && (o.range.from !== undefined || o.range.to !== undefined)) {
        ctx.fillStyle = "rgba(100,116,139,0.12)";
        if (o.range.from !== undefined) ctx.fillRect(left, top, xs(o.range.from) - left, height);
        if (o.range.to !== undefined) ctx.fillRect(xs(o.range.to), top, left + w - xs(o.range.to), height);
      }
      if (o.showAnomalies) {
        ctx.lineWidth = 2 * devicePixelRatio;
        for (const a of o.anomalies) {
          const x = Math.round(xs(a.t));
          ctx.strokeStyle = sevColor(a.severity);
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
        }
      }
      ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
      ctx.lineWidth = devicePixelRatio;
      ctx.strokeStyle = "#0f766e";
      for (const n of o.notes) {
        const x = Math.round(xs(n.t));
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
      }
      ctx.restore();
    };

    const created: uPlot[] = [];
    const createdHeads: HTMLDivElement[] = [];
    let drawnCount = 0;
    SERIES.forEach((s, i) => {
      const wrap = document.createElement("div");
      wrap.className = "plot";
      wrap.dataset.testid = `plot-${s.key}`;
      el.appendChild(wrap);
      const opts: uPlot.Options = {
        width,
        height: heightOf(i),
        class: "rtt-plot",
        padding: [6, 18, 0, 0],
        legend: { show: false },
        cursor: {
          sync: { key: sync.key },
          drag: { x: true, y: false, setScale: true },
          points: { show: false },
          // Double-click resets to the overview (handled below); uPlot's own would fit the zoomed data only.
          bind: { dblclick: () => null },
        },
        scales: {
          x: { time: false },
          y: {
            range: (_u, min, max) => {
              if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
              const pad = max - min > 1e-12 ? (max - min) * 0.08 : Math.abs(min) * 0.05 || 0.05;
              return [min - pad, max + pad];
            },
          },
        },
        axes: [
          {
            size: i === SERIES.length - 1 ? 28 : 2,
            stroke: "#475569",
            grid: { stroke: "#e2e8f0" },
            ticks: { show: i === SERIES.length - 1 },
            values: i === SERIES.length - 1 ? undefined : (_u: uPlot, splits: number[]) => splits.map(() => ""),
          },
          {
            size: 64,
            stroke: "#475569",
            grid: { stroke: "#e2e8f0" },
            label: s.key,
            labelSize: 14,
            labelFont: "bold 13px system-ui, sans-serif",
          },
        ],
        series: [{ label: "t" }, { label: s.label, stroke: s.color, width: 1.25, points: { show: columns.n < 200 } }],
        hooks: {
          draw: [
            (u) => {
              drawOverlays(u);
              placeHead(u, createdHeads[i], latest.current.t);
              if (i === 0) {
                el.dataset.points = String(u.data[0].length);
                el.dataset.xMin = String(u.scales.x?.min);
                el.dataset.xMax = String(u.scales.x?.max);
              }
              if (++drawnCount === SERIES.length) latest.current.onDrawn?.(columns);
            },
          ],
          setScale: [
            (u, key) => {
              if (i !== 0 || key !== "x") return;
              const min = u.scales.x?.min;
              const max = u.scales.x?.max;
              if (min === undefined || max === undefined) return;
              const whole = min <= t0 + eps && max >= t1 - eps;
              const next = whole ? null : { min, max };
              const cur = zoom.current;
              // Unchanged (e.g. the scale re-set after swapping in a detail body): nothing to report.
              if (
                next === null ? cur === null : cur !== null && Math.abs(cur.min - min) + Math.abs(cur.max - max) <= eps
              )
                return;
              zoom.current = next;
              setZoomed(next !== null);
              latest.current.onZoom?.(next);
            },
          ],
        },
      };
      const u = new uPlot(opts, [columns.t, columns[s.key]] as uPlot.AlignedData, wrap);
      sync.sub(u);
      // A drag zooms; only a click that did not move seeks.
      let downX = Number.NaN;
      u.over.addEventListener("mousedown", (e) => {
        downX = e.clientX;
      });
      u.over.addEventListener("click", (e) => {
        if (Math.abs(e.clientX - downX) > 3) return;
        const rect = u.over.getBoundingClientRect();
        latest.current.onSeek(u.posToVal(e.clientX - rect.left, "x"));
      });
      u.over.addEventListener("dblclick", () => resetRef.current());
      const head = document.createElement("div");
      head.className = "playhead";
      u.over.appendChild(head);
      created.push(u);
      createdHeads.push(head);
    });
    plots.current = created;
    heads.current = createdHeads;
    const z = latest.current.initialZoom;
    // Only a range inside the data and narrower than it is a zoom; plot 0's setScale hook reports it.
    if (z && z.min >= t0 && z.max <= t1 && z.max - z.min > eps && z.max - z.min < t1 - t0 - eps)
      for (const u of created) u.setScale("x", { min: z.min, max: z.max });
    resetRef.current = () => {
      delete el.dataset.detail;
      // Back to the overview data; uPlot re-fits x to it, and plot 0's setScale hook reports onZoom(null).
      created.forEach((p, i) => {
        p.setData([columns.t, columns[SERIES[i]!.key]] as uPlot.AlignedData); // one plot per series
      });
    };

    const teardown = mountLaneStack(
      el,
      sync,
      () => created,
      (_, i) => heightOf(i),
    );
    return () => {
      teardown();
      plots.current = [];
      heads.current = [];
    };
  }, [columns]);

  // A zoomed range's finer columns: swap the data, keep the zoom (ignored once the zoom was reset).
  useEffect(() => {
    const z = zoom.current;
    if (!detail || !z || !plots.current.length) return;
    plots.current.forEach((u, i) => {
      u.setData([detail.columns.t, detail.columns[SERIES[i]!.key]] as uPlot.AlignedData, false); // one plot per series
      u.setScale("x", { min: z.min, max: z.max });
    });
    if (host.current) host.current.dataset.detail = `${detail.range.min}:${detail.range.max}`;
  }, [detail]);

  // Overlay changes: redraw without rebuilding paths.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the draw hook reads overlays from `latest`
  useEffect(() => {
    for (const u of plots.current) u.redraw(false, false);
  }, [overlays]);

  // Playhead (also repositioned after the plots are rebuilt).
  // biome-ignore lint/correctness/useExhaustiveDependencies: columns rebuilds the plots
  useEffect(() => {
    plots.current.forEach((u, i) => {
      placeHead(u, heads.current[i], t);
    });
  }, [t, columns]);

  return (
    <>
      <div className="plots" ref={host} data-testid="plots" />
      <p className="muted small">
        Drag across a plot to zoom in; double-click a plot to see the whole segment again.{" "}
        {zoomed ? (
          <button type="button" className="linklike" onClick={() => resetRef.current()} data-testid="reset-zoom">
            Reset zoom
          </button>
        ) : null}
      </p>
    </>
  );
}
