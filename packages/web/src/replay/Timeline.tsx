import { useEffect, useRef, useState } from "react";
import type { Anomaly, Note, SegmentInfo } from "../api.js";
import { fmtT, SEVERITY_NAMES, sevColor } from "../util.js";

export interface TimelineBand {
  segment_id: string;
  t_from: number;
  t_to: number;
  color: string;
  title: string;
  /** Identifies the evidence item (one item may be drawn on several segments). */
  key: string;
}

/** Segment i occupies [offset_i, offset_i + span_i] of the global timeline; t within it is segment-local. */
export function layoutSegments(segments: SegmentInfo[]) {
  const spans = segments.map((s) => Math.max(Number(s.t_max) - Number(s.t_min), 0) || 1e-6);
  const total = spans.reduce((a, b) => a + b, 0) || 1;
  let acc = 0;
  const offsets = spans.map((sp) => {
    const o = acc;
    acc += sp;
    return o;
  });
  return { spans, offsets, total };
}

const BASE_H = 64;
const LANE = 6;
const PAD = 8;

export function Timeline(props: {
  segments: SegmentInfo[];
  current: { segment_id: string; t: number };
  anomalies: Record<string, Anomaly[]>;
  notes: Note[];
  bands: TimelineBand[];
  showAnomalies: boolean;
  showBoundaries: boolean;
  onSeek: (segment_id: string, t: number) => void;
}) {
  const { segments, current, anomalies, notes, bands, showAnomalies, showBoundaries, onSeek } = props;
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(900);
  useEffect(() => {
    const el = ref.current!;
    const ro = new ResizeObserver(() => setWidth(Math.max(300, el.clientWidth)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const { spans, offsets, total } = layoutSegments(segments);
  const inner = width - 2 * PAD;
  const idx = new Map(segments.map((s, i) => [s.segment_id, i]));
  // spans and offsets have one entry per segment.
  const x = (segId: string, t: number) => {
    const i = idx.get(segId) ?? 0;
    const s = segments[i];
    if (!s) return PAD; // no segments
    const local = Math.min(Math.max(t - s.t_min, 0), spans[i]!);
    return PAD + ((offsets[i]! + local) / total) * inner;
  };

  const seekAt = (clientX: number) => {
    const rect = ref.current!.getBoundingClientRect();
    const g = ((clientX - rect.left - PAD) / inner) * total;
    let i = offsets.findIndex((o, k) => g >= o && g <= o + spans[k]!);
    if (i < 0) i = g < 0 ? 0 : segments.length - 1;
    const s = segments[i];
    if (!s) return; // no segments
    onSeek(s.segment_id, Math.min(Math.max(s.t_min + (g - offsets[i]!), s.t_min), s.t_max));
  };

  // Evidence bands: one lane per objective (the key is "objective.evidence"), under the segment bar.
  const lanes = bands.length ? Math.max(...bands.map((b) => Number(b.key.split(".")[0]) || 0)) + 1 : 0;
  const H = BASE_H + Math.max(0, lanes - 1) * LANE;
  const cur = idx.get(current.segment_id) ?? 0;
  const curSeg = segments[cur];
  const headX = x(current.segment_id, current.t);
  const globalNow = curSeg ? offsets[cur]! + (current.t - curSeg.t_min) : 0;

  return (
    <div
      className="timeline"
      ref={ref}
      data-testid="timeline"
      role="slider"
      tabIndex={-1}
      aria-label="Session timeline"
      aria-valuemin={0}
      aria-valuemax={Number(total.toFixed(4))}
      aria-valuenow={Number(globalNow.toFixed(4))}
      aria-valuetext={`${segments[cur]?.label ?? ""} t=${fmtT(current.t)}`}
      onPointerDown={(e) => {
        seekAt(e.clientX);
        const move = (ev: PointerEvent) => seekAt(ev.clientX);
        const up = () => {
          window.removeEventListener("pointermove", move);
          window.removeEventListener("pointerup", up);
        };
        window.addEventListener("pointermove", move);
        window.addEventListener("pointerup", up);
      }}
    >
      <svg width={width} height={H} aria-hidden="true">
        {segments.map((s, i) => {
          const x0 = PAD + (offsets[i]! / total) * inner;
          const w = (spans[i]! / total) * inner;
          return (
            <g key={s.segment_id} data-testid="timeline-segment" data-segment={s.segment_id}>
              <rect
                x={x0}
                y={18}
                width={Math.max(w, 1)}
                height={22}
                rx={3}
                className={i === cur ? "tl-seg current" : "tl-seg"}
              />
              {w > 40 ? (
                <text x={x0 + w / 2} y={33} textAnchor="middle" className="tl-label">
                  {s.label}
                </text>
              ) : null}
              {showBoundaries && i > 0 ? (
                <line x1={x0} x2={x0} y1={8} y2={H - 8} className="tl-boundary" data-testid="timeline-boundary" />
              ) : null}
            </g>
          );
        })}
        {bands.map((b) => {
          if (!idx.has(b.segment_id)) return null;
          const x0 = x(b.segment_id, b.t_from);
          const x1 = x(b.segment_id, b.t_to);
          return (
            <rect
              key={`${b.key}-${b.segment_id}`}
              data-evidence={b.key}
              x={x0}
              y={42 + (Number(b.key.split(".")[0]) || 0) * LANE}
              width={Math.max(x1 - x0, 3)}
              height={LANE - 1}
              fill={b.color}
              data-testid="timeline-evidence"
            >
              <title>{b.title}</title>
            </rect>
          );
        })}
        {showAnomalies
          ? segments.flatMap((s) =>
              (anomalies[s.segment_id] ?? []).map((a, k) => {
                const ax = x(s.segment_id, a.t);
                return (
                  <path
                    // biome-ignore lint/suspicious/noArrayIndexKey: anomalies have no id; order is stable
                    key={`${s.segment_id}-${k}`}
                    d={`M${ax - 5},6 L${ax + 5},6 L${ax},15 Z`}
                    fill={sevColor(a.severity)}
                    stroke="#1e293b"
                    strokeWidth={0.5}
                    data-testid="timeline-anomaly"
                    data-severity={a.severity ?? 1}
                  >
                    <title>{`${a.type} · severity ${a.severity ?? "?"} (${SEVERITY_NAMES[a.severity ?? 1] ?? ""}) · ${s.label} t=${fmtT(a.t)}`}</title>
                  </path>
                );
              }),
            )
          : null}
        {notes.map((n) => {
          const seg = n.segment_id && idx.has(n.segment_id) ? n.segment_id : current.segment_id;
          const nx = x(seg, n.t);
          return (
            <g key={String(n.id)} data-testid="timeline-note">
              <rect x={nx - 4} y={H - 12} width={8} height={8} rx={2} className="tl-note" />
              <title>{`Note by ${n.author} at ${fmtT(n.t)}: ${n.text}`}</title>
            </g>
          );
        })}
        <line x1={headX} x2={headX} y1={2} y2={H - 2} className="tl-head" />
      </svg>
    </div>
  );
}
