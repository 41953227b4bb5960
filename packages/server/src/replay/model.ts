import type { Anomaly, Sample, SessionLog } from "@rtt/core";
import { findTimeSlips, segmentsOf, timeSlipAnomaly } from "@rtt/core";

/** A segment prepared for replay: samples, anomalies in time order, and the merged event order. */
export interface ReplaySegment {
  segment_id: string;
  label: string;
  samples: Sample[];
  anomalies: Anomaly[];
  /** Merged time order: value i >= 0 is samples[i], value < 0 is anomalies[-value - 1]. Sample first at equal t. */
  order: Int32Array;
  /**
   * Replay time of each entry of `order` (non-decreasing), for binary search. A sample's replay time is the
   * running maximum of `t` (its own `t` unless time slipped backwards before it); an anomaly's is its `t`.
   */
  times: Float64Array;
  /** Where `t` went backwards (RESONANCE_TIME_SLIP); empty or absent for a well-ordered segment. */
  slips?: ReturnType<typeof findTimeSlips>;
  /** Serialized columns body, built on first use. */
  columnsJson?: string;
  /** The samples as typed columns (t, C, D, Q, R), built on first ranged or decimated columns request. */
  cols?: PlotColumns;
  /** A few ranged/decimated columns bodies, keyed by sample range and max_points (least recently used first). */
  columnsViews?: Map<string, string>;
  /** Every event as an SSE frame, back to back; frame k is bytes [offsets[k], offsets[k+1]). Built on first stream. */
  frames?: { buf: Buffer; offsets: Float64Array };
}

export interface ReplayEvent {
  t: number;
  kind: "sample" | "anomaly";
  payload: Sample | Anomaly;
}

export interface ReplaySession {
  log: SessionLog;
  segments: Map<string, ReplaySegment>;
  /** Approximate memory held, for the cache budget. */
  bytes: number;
}

export function buildReplaySession(log: SessionLog, sourceBytes: number): ReplaySession {
  const segments = new Map<string, ReplaySegment>();
  for (const seg of segmentsOf(log)) {
    const samples = seg.samples ?? [];
    // A time slip is replayed on a clock that never runs backwards: samples after the slip are held at the time
    // reached until their t passes it again (drawn as a vertical run at the slip), and the slip itself is marked
    // as the RESONANCE_TIME_SLIP anomaly (severity 5) the validator flagged. See spec/VALIDATION.md.
    const slips = findTimeSlips(samples);
    const clock = replayClock(samples, slips.length > 0);
    // Stable sort by t (anomalies are not required to be ordered in the document).
    const anomalies = [...(seg.anomalies ?? []), ...slips.map(timeSlipAnomaly)]
      .map((a, i) => [a, i] as const)
      .sort((x, y) => x[0].t - y[0].t || x[1] - y[1])
      .map(([a]) => a);
    const n = samples.length + anomalies.length;
    const order = new Int32Array(n);
    const times = new Float64Array(n);
    let i = 0;
    let j = 0;
    for (let k = 0; k < n; k++) {
      const a = anomalies[j];
      if (a === undefined || (i < samples.length && clock(i) <= a.t)) {
        order[k] = i;
        times[k] = clock(i++);
      } else {
        order[k] = -j - 1;
        times[k] = a.t;
        j++;
      }
    }
    segments.set(seg.segment_id, {
      segment_id: seg.segment_id,
      label: seg.label,
      samples,
      anomalies,
      order,
      times,
      slips,
    });
  }
  // Parsed JSON costs a few times its source size; SSE frames and plot columns built on demand add about
  // two more; the order arrays add 12 bytes per event, typed plot columns 40 per sample. The cache budgets
  // with this estimate.
  let events = 0;
  let samples = 0;
  for (const s of segments.values()) {
    events += s.order.length;
    samples += s.samples.length;
  }
  return { log, segments, bytes: sourceBytes * 5 + events * 12 + samples * 40 };
}

// Hot paths below (merge order, SSE frames, binary search, plot columns, decimation) read in-range indexes of
// arrays they were built from or bounded by (loop ranges, `order` entries, bisection inside [0, length)); those
// reads are asserted with `!` and pay no check.

/** Sample i's replay time (0 <= i < samples.length): its t, or (after a time slip) the running maximum of t up to it. */
function replayClock(samples: Sample[], slipped: boolean): (i: number) => number {
  if (!slipped) return (i) => samples[i]!.t;
  const held = new Float64Array(samples.length);
  let max = Number.NEGATIVE_INFINITY;
  let i = 0;
  for (const s of samples) {
    max = Math.max(max, s.t);
    held[i++] = max;
  }
  return (i) => held[i]!;
}

/** Event k of the merged order (0 <= k < seg.order.length). */
export function eventAt(seg: ReplaySegment, k: number): ReplayEvent {
  const o = seg.order[k]!;
  const t = seg.times[k]!;
  return o >= 0
    ? { t, kind: "sample", payload: seg.samples[o]! }
    : { t, kind: "anomaly", payload: seg.anomalies[-o - 1]! };
}

/**
 * The segment's SSE frames (`event`, `id` = index in the merged order, `data` = payload JSON), serialized once
 * and kept with the parsed session: a stream then writes slices of one buffer, so playing a segment again (or
 * by several viewers) costs about what copying its bytes to a socket costs.
 */
export function sseFrames(seg: ReplaySegment): { buf: Buffer; offsets: Float64Array } {
  if (seg.frames) return seg.frames;
  const n = seg.order.length;
  const parts: string[] = new Array(n);
  const offsets = new Float64Array(n + 1);
  let total = 0;
  for (let k = 0; k < n; k++) {
    const o = seg.order[k]!;
    const frame =
      o >= 0
        ? `event: sample\nid: ${k}\ndata: ${JSON.stringify(seg.samples[o])}\n\n`
        : `event: anomaly\nid: ${k}\ndata: ${JSON.stringify(seg.anomalies[-o - 1])}\n\n`;
    parts[k] = frame;
    offsets[k] = total;
    total += Buffer.byteLength(frame);
  }
  offsets[n] = total;
  const buf = Buffer.allocUnsafe(total);
  for (let k = 0; k < n; k++) buf.write(parts[k]!, offsets[k]!);
  seg.frames = { buf, offsets };
  return seg.frames;
}

/** First index whose t >= from (or n). */
export function lowerBound(times: Float64Array, from: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose t > to (or n). */
export function upperBound(times: Float64Array, to: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! <= to) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export const SERIES = ["C", "D", "Q", "R"] as const;

export interface PlotColumns {
  t: Float64Array;
  C: Float64Array;
  D: Float64Array;
  Q: Float64Array;
  R: Float64Array;
}

/** The segment's samples as typed columns, built once per parsed segment. */
export function plotColumns(seg: ReplaySegment): PlotColumns {
  if (seg.cols) return seg.cols;
  const n = seg.samples.length;
  const cols: PlotColumns = {
    t: new Float64Array(n),
    C: new Float64Array(n),
    D: new Float64Array(n),
    Q: new Float64Array(n),
    R: new Float64Array(n),
  };
  // x must be sorted for the plots and the range search: t on the replay clock (see buildReplaySession).
  let clock = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const s = seg.samples[i]!;
    clock = Math.max(clock, s.t);
    cols.t[i] = seg.slips?.length ? clock : s.t;
    cols.C[i] = s.C;
    cols.D[i] = s.D;
    cols.Q[i] = s.Q;
    cols.R[i] = s.R;
  }
  seg.cols = cols;
  return cols;
}

const arr = (a: Float64Array) => `[${a.join(",")}]`;

/** `{segment_id, n, t, C, D, Q, R}` serialized once per segment (typed-array joins, no per-sample objects). */
export function columnsJson(seg: ReplaySegment): string {
  if (seg.columnsJson !== undefined) return seg.columnsJson;
  const cols = plotColumns(seg);
  const n = cols.t.length;
  seg.columnsJson = `{"segment_id":${JSON.stringify(seg.segment_id)},"n":${n},"t":${arr(cols.t)},"C":${arr(cols.C)},"D":${arr(cols.D)},"Q":${arr(cols.Q)},"R":${arr(cols.R)}}`;
  return seg.columnsJson;
}

/** Most points a decimation bucket keeps: its first and last sample and the min and max of C, D, Q, R. */
export const POINTS_PER_BUCKET = 2 + 2 * SERIES.length;

/**
 * Indices in [start, end) to plot at most `maxPoints` points without losing what shows: the range is cut into
 * floor(maxPoints / 10) buckets of equal sample count, and each keeps its first and last sample and the samples
 * holding the min and the max of each of C, D, Q, R (first occurrence on ties). Indices come out sorted and
 * distinct, so every series keeps its exact extremes per bucket (hence over the range) on one shared t axis.
 * One pass over the typed columns; the result never exceeds maxPoints. Needs end - start > maxPoints >= 10.
 */
export function decimateIndices(cols: PlotColumns, start: number, end: number, maxPoints: number): Uint32Array {
  const len = end - start;
  const buckets = Math.floor(maxPoints / POINTS_PER_BUCKET);
  const out = new Uint32Array(buckets * POINTS_PER_BUCKET);
  const pick = new Uint32Array(POINTS_PER_BUCKET);
  const { C, D, Q, R } = cols;
  let k = 0;
  for (let b = 0; b < buckets; b++) {
    const lo = start + Math.floor((b * len) / buckets);
    const hi = start + Math.floor(((b + 1) * len) / buckets); // exclusive; hi > lo since len > buckets
    let cMin = lo;
    let cMax = lo;
    let dMin = lo;
    let dMax = lo;
    let qMin = lo;
    let qMax = lo;
    let rMin = lo;
    let rMax = lo;
    // start <= lo < hi <= end <= every column's length.
    let cLo = C[lo]!;
    let cHi = cLo;
    let dLo = D[lo]!;
    let dHi = dLo;
    let qLo = Q[lo]!;
    let qHi = qLo;
    let rLo = R[lo]!;
    let rHi = rLo;
    for (let i = lo + 1; i < hi; i++) {
      const c = C[i]!;
      if (c < cLo) {
        cLo = c;
        cMin = i;
      } else if (c > cHi) {
        cHi = c;
        cMax = i;
      }
      const d = D[i]!;
      if (d < dLo) {
        dLo = d;
        dMin = i;
      } else if (d > dHi) {
        dHi = d;
        dMax = i;
      }
      const q = Q[i]!;
      if (q < qLo) {
        qLo = q;
        qMin = i;
      } else if (q > qHi) {
        qHi = q;
        qMax = i;
      }
      const r = R[i]!;
      if (r < rLo) {
        rLo = r;
        rMin = i;
      } else if (r > rHi) {
        rHi = r;
        rMax = i;
      }
    }
    pick[0] = lo;
    pick[1] = hi - 1;
    pick[2] = cMin;
    pick[3] = cMax;
    pick[4] = dMin;
    pick[5] = dMax;
    pick[6] = qMin;
    pick[7] = qMax;
    pick[8] = rMin;
    pick[9] = rMax;
    pick.sort();
    // Buckets are consecutive, so sorted and deduplicated picks keep the whole output sorted and distinct.
    for (let j = 0; j < POINTS_PER_BUCKET; j++) if (j === 0 || pick[j] !== pick[j - 1]) out[k++] = pick[j]!;
  }
  return out.subarray(0, k);
}

export interface ColumnsView {
  from_t?: number;
  to_t?: number;
  max_points?: number;
}

const VIEW_CACHE_ENTRIES = 8;
const VIEW_CACHE_MAX_CHARS = 4 << 20;

/**
 * The columns body for a time range and/or a point budget: `{segment_id, n, n_total, decimated, t, C, D, Q, R}`
 * where n_total counts the samples in [from_t, to_t] and n the points returned (n < n_total when decimated).
 * Small bodies are kept per segment (a few, least recently used out), so the overview and recent zooms are free.
 */
export function columnsViewJson(seg: ReplaySegment, view: ColumnsView): string {
  const cols = plotColumns(seg);
  const n = cols.t.length;
  const start = view.from_t === undefined ? 0 : lowerBound(cols.t, view.from_t);
  const end = Math.max(start, view.to_t === undefined ? n : upperBound(cols.t, view.to_t));
  const total = end - start;
  const decimated = view.max_points !== undefined && total > view.max_points;
  const key = `${start}:${end}:${decimated ? view.max_points : ""}`;
  seg.columnsViews ??= new Map();
  const cache = seg.columnsViews;
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const head = `{"segment_id":${JSON.stringify(seg.segment_id)},"n":`;
  let body: string;
  if (!decimated && start === 0 && end === n) {
    // The whole segment: splice the two fields into the cached full-resolution body instead of joining again.
    const full = columnsJson(seg);
    const rest = full.slice(head.length + String(n).length);
    body = `${head}${n},"n_total":${n},"decimated":false${rest}`;
  } else {
    const pickCols = (idx: Uint32Array | null): string[] =>
      (["t", ...SERIES] as const).map((name) => {
        const src = cols[name];
        if (!idx) return `"${name}":${arr(src.subarray(start, end))}`;
        const a = new Float64Array(idx.length);
        for (let j = 0; j < idx.length; j++) a[j] = src[idx[j]!]!; // decimateIndices picks within [start, end)
        return `"${name}":${arr(a)}`;
      });
    const idx = decimated ? decimateIndices(cols, start, end, view.max_points as number) : null;
    const count = idx ? idx.length : total;
    body = `${head}${count},"n_total":${total},"decimated":${decimated},${pickCols(idx).join(",")}}`;
  }
  if (body.length <= VIEW_CACHE_MAX_CHARS) {
    cache.set(key, body);
    if (cache.size > VIEW_CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  }
  return body;
}
