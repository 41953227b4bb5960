import type { Anomaly, Sample, SessionLog } from "@rtt/core";
import { segmentsOf } from "@rtt/core";

/** A segment prepared for replay: samples, anomalies in time order, and the merged event order. */
export interface ReplaySegment {
  segment_id: string;
  label: string;
  samples: Sample[];
  anomalies: Anomaly[];
  /** Merged time order: value i >= 0 is samples[i], value < 0 is anomalies[-value - 1]. Sample first at equal t. */
  order: Int32Array;
  /** t of each entry of `order` (non-decreasing), for binary search. */
  times: Float64Array;
  /** Serialized columns body, built on first use. */
  columnsJson?: string;
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
    // Stable sort by t (anomalies are not required to be ordered in the document).
    const anomalies = (seg.anomalies ?? [])
      .map((a, i) => [a, i] as const)
      .sort((x, y) => x[0].t - y[0].t || x[1] - y[1])
      .map(([a]) => a);
    const n = samples.length + anomalies.length;
    const order = new Int32Array(n);
    const times = new Float64Array(n);
    let i = 0;
    let j = 0;
    for (let k = 0; k < n; k++) {
      if (j >= anomalies.length || (i < samples.length && samples[i].t <= anomalies[j].t)) {
        order[k] = i;
        times[k] = samples[i++].t;
      } else {
        order[k] = -j - 1;
        times[k] = anomalies[j++].t;
      }
    }
    segments.set(seg.segment_id, { segment_id: seg.segment_id, label: seg.label, samples, anomalies, order, times });
  }
  // Parsed JSON costs a few times its source size; SSE frames and plot columns built on demand add about
  // two more; the order arrays add 12 bytes per event. The cache budgets with this estimate.
  let events = 0;
  for (const s of segments.values()) events += s.order.length;
  return { log, segments, bytes: sourceBytes * 5 + events * 12 };
}

export function eventAt(seg: ReplaySegment, k: number): ReplayEvent {
  const o = seg.order[k];
  return o >= 0
    ? { t: seg.times[k], kind: "sample", payload: seg.samples[o] }
    : { t: seg.times[k], kind: "anomaly", payload: seg.anomalies[-o - 1] };
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
    const o = seg.order[k];
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
  for (let k = 0; k < n; k++) buf.write(parts[k], offsets[k]);
  seg.frames = { buf, offsets };
  return seg.frames;
}

/** First index whose t >= from (or n). */
export function lowerBound(times: Float64Array, from: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid] < from) lo = mid + 1;
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
    if (times[mid] <= to) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `{segment_id, n, t, C, D, Q, R}` serialized once per segment (typed-array joins, no per-sample objects). */
export function columnsJson(seg: ReplaySegment): string {
  if (seg.columnsJson !== undefined) return seg.columnsJson;
  const n = seg.samples.length;
  const cols = {
    t: new Float64Array(n),
    C: new Float64Array(n),
    D: new Float64Array(n),
    Q: new Float64Array(n),
    R: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const s = seg.samples[i];
    cols.t[i] = s.t;
    cols.C[i] = s.C;
    cols.D[i] = s.D;
    cols.Q[i] = s.Q;
    cols.R[i] = s.R;
  }
  const arr = (a: Float64Array) => `[${a.join(",")}]`;
  seg.columnsJson = `{"segment_id":${JSON.stringify(seg.segment_id)},"n":${n},"t":${arr(cols.t)},"C":${arr(cols.C)},"D":${arr(cols.D)},"Q":${arr(cols.Q)},"R":${arr(cols.R)}}`;
  return seg.columnsJson;
}
