import type { Anomaly, Sample, Segment } from "../../types.js";
import { columnsOf, type SampleColumns } from "../columns.js";
import type { DetectorConfig, DetectorConfigs, Severity } from "../taxonomy.js";
import { detectorParam, severityOf } from "../taxonomy.js";
import { anomalyOf, clusterFindings, type PointFinding } from "./episodes.js";

/**
 * Whole-run detectors (taxonomy scopes "segment" and "session"). They read recorded samples only, so they run on any
 * v2 log as well as inside the simulator. Each one's measure and trigger is written in spec/taxonomy/anomalies.json.
 *
 * Each detector is one linear pass over a segment's columns (`SampleColumns`: the simulator records into columns, so
 * a 1 h session at 1 ms is 3.6 M numbers per field, not 3.6 M objects). The `Sample[]` forms below convert and
 * delegate, for logs read from disk.
 */

export interface CorridorContext {
  C_target: number;
  /** Half the C band width. */
  h: number;
}

/** CORRIDOR_C_DRIFT: C stays on one side of the target, at least level*h away, for min_duration_s or longer. */
export function detectDrift(samples: Sample[], c: CorridorContext, cfg: DetectorConfig): Anomaly[] {
  return driftOf(columnsOf(samples), c, cfg);
}

// The column passes below index only below `cols.length` (<= every column's capacity): their typed-array reads are in
// range by the loop bounds and are asserted with `!` (no check on the hot path).

export function driftOf(cols: SampleColumns, c: CorridorContext, cfg: DetectorConfig): Anomaly[] {
  const level = detectorParam(cfg, "CORRIDOR_C_DRIFT", "level");
  const min_duration_s = detectorParam(cfg, "CORRIDOR_C_DRIFT", "min_duration_s");
  const { t, C } = cols;
  const n = cols.length;
  const out: Anomaly[] = [];
  // The run in progress: samples start..i-1 on one side (start < 0: none). Plain locals, read by `driftRun` as
  // arguments: a closure over them would keep `sum` in a context slot, a fresh heap number on every sample.
  let start = -1;
  let side = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = (C[i]! - c.C_target) / c.h;
    const s = Math.abs(e) >= level ? Math.sign(e) : 0;
    if (s !== side) {
      if (start >= 0) driftRun(t, start, i - 1, side, sum, min_duration_s, cfg, out);
      start = -1;
      side = 0;
      sum = 0;
      if (s !== 0) {
        start = i;
        side = s;
      }
    }
    if (s !== 0) sum += Math.abs(e);
  }
  if (start >= 0) driftRun(t, start, n - 1, side, sum, min_duration_s, cfg, out);
  return out;
}

/** Reports the drift run start..end (0 <= start <= end < t.length) when it lasted long enough and is severe. */
function driftRun(
  t: Float64Array,
  start: number,
  end: number,
  side: number,
  sum: number,
  min_duration_s: number,
  cfg: DetectorConfig,
  out: Anomaly[],
): void {
  const t0 = t[start]!;
  const t1 = t[end]!;
  const dur = t1 - t0;
  const measure = sum / (end - start + 1);
  const sev = severityOf(measure, cfg.thresholds);
  if (dur >= min_duration_s && sev)
    out.push(
      anomalyOf("CORRIDOR_C_DRIFT", t0, sev, {
        measure,
        direction: side > 0 ? "above" : "below",
        t_end: t1,
        duration: dur,
      }),
    );
}

/**
 * A jitter spike: C jumps at least rate*dt away from the previous sample and comes straight back (within half the
 * jump) at the next one — faster than any control action can move C, so it is the sensor, not the corridor.
 */
export function isJitterSpike(samples: Sample[], i: number, dt: number, rate: number): boolean {
  if (i < 1 || i + 1 >= samples.length) return false;
  return jitterSpikeAt(samples[i - 1]!.C, samples[i]!.C, samples[i + 1]!.C, rate * dt);
}

/** isJitterSpike on three successive values of C; `min` = rate*dt. */
function jitterSpikeAt(before: number, at: number, after: number, min: number): boolean {
  const d1 = at - before;
  const d2 = after - at;
  return (
    Math.abs(d1) >= min &&
    Math.abs(d2) >= min &&
    Math.sign(d1) !== Math.sign(d2) &&
    Math.abs(d1 + d2) <= 0.5 * Math.min(Math.abs(d1), Math.abs(d2))
  );
}

/**
 * HUNTING_OSCILLATION: direction reversals of C (zig-zag with hysteresis), clustered by max_gap_s, counted.
 * Jitter spikes (see isJitterSpike, SENSOR_INTEGRITY_DROP's rate) are skipped: chasing them is not the operator's doing.
 */
export function detectHunting(
  samples: Sample[],
  c: CorridorContext,
  cfg: DetectorConfig,
  dt = 0,
  jitterRate = Number.POSITIVE_INFINITY,
): Anomaly[] {
  return huntingOf(columnsOf(samples), c, cfg, dt, jitterRate);
}

export function huntingOf(
  cols: SampleColumns,
  c: CorridorContext,
  cfg: DetectorConfig,
  dt = 0,
  jitterRate = Number.POSITIVE_INFINITY,
): Anomaly[] {
  const n = cols.length;
  if (n < 3) return [];
  const { t, C } = cols;
  const H = detectorParam(cfg, "HUNTING_OSCILLATION", "hysteresis") * c.h;
  const maxGap = detectorParam(cfg, "HUNTING_OSCILLATION", "max_gap_s");
  const min = jitterRate * dt;
  const reversals: PointFinding[] = [];
  let dir = 0;
  let hi = C[0]!; // n >= 3
  let lo = hi;
  let ext = hi;
  let extT = t[0]!;
  for (let i = 0; i < n; i++) {
    const x = C[i]!;
    if (dt > 0 && i >= 1 && i + 1 < n && jitterSpikeAt(C[i - 1]!, x, C[i + 1]!, min)) continue;
    if (dir === 0) {
      hi = Math.max(hi, x);
      lo = Math.min(lo, x);
      if (x >= lo + H || x <= hi - H) {
        dir = x >= lo + H ? 1 : -1;
        ext = x;
        extT = t[i]!;
      }
    } else if (dir * (x - ext) > 0) {
      ext = x;
      extT = t[i]!;
    } else if (dir * (ext - x) >= H) {
      reversals.push({ t: extT, amount: 1 });
      dir = -dir;
      ext = x;
      extT = t[i]!;
    }
  }
  return clusterFindings("HUNTING_OSCILLATION", reversals, maxGap, cfg.thresholds, true);
}

/** The segment's step: its declared meta.dt, else the median spacing of its samples. */
export function segmentDt(seg: Pick<Segment, "samples" | "meta">): number {
  const declared = seg.meta?.dt;
  if (typeof declared === "number" && declared > 0) return declared;
  return medianSpacing(columnsOf(seg.samples));
}

function medianSpacing(cols: SampleColumns): number {
  const t = cols.t;
  const d: number[] = [];
  for (let i = 1; i < cols.length; i++) d.push(t[i]! - t[i - 1]!);
  d.sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)] ?? 0; // no spacing without two samples
}

/** RESONANCE_TIME_SLIP: sample spacing off the dt grid, stalls, or time running backwards. */
export function detectTimeSlip(samples: Sample[], dt: number, cfg: DetectorConfig): Anomaly[] {
  return timeSlipOf(columnsOf(samples), dt, cfg);
}

export function timeSlipOf(cols: SampleColumns, dt: number, cfg: DetectorConfig): Anomaly[] {
  if (!(dt > 0)) return [];
  const tol = detectorParam(cfg, "RESONANCE_TIME_SLIP", "tolerance");
  const maxGap = detectorParam(cfg, "RESONANCE_TIME_SLIP", "max_gap_s");
  const t = cols.t;
  const found: PointFinding[] = [];
  for (let i = 1; i < cols.length; i++) {
    const ti = t[i]!;
    const gap = ti - t[i - 1]!;
    if (gap < 0) {
      found.push({ t: ti, amount: 1 + -gap / dt, critical: true, kind: "backwards" });
      continue;
    }
    const k = Math.round(gap / dt);
    if (k === 0) {
      found.push({ t: ti, amount: (dt - gap) / dt, kind: "stall" });
      continue;
    }
    const off = Math.abs(gap - k * dt) / dt;
    if (off > tol) found.push({ t: ti, amount: off, kind: "off_grid" });
  }
  return clusterFindings("RESONANCE_TIME_SLIP", found, maxGap, cfg.thresholds);
}

/** SENSOR_INTEGRITY_DROP: missing samples (gaps of whole steps), flatlines, and jitter spikes. */
export function detectSensorIntegrity(samples: Sample[], dt: number, cfg: DetectorConfig, tol = 0.1): Anomaly[] {
  return sensorIntegrityOf(columnsOf(samples), dt, cfg, tol);
}

export function sensorIntegrityOf(cols: SampleColumns, dt: number, cfg: DetectorConfig, tol = 0.1): Anomaly[] {
  if (!(dt > 0)) return [];
  const flatline_min_samples = detectorParam(cfg, "SENSOR_INTEGRITY_DROP", "flatline_min_samples");
  const jitter_rate = detectorParam(cfg, "SENSOR_INTEGRITY_DROP", "jitter_rate");
  const max_gap_s = detectorParam(cfg, "SENSOR_INTEGRITY_DROP", "max_gap_s");
  const { t, C, D } = cols;
  const n = cols.length;
  const min = jitter_rate * dt;
  const found: PointFinding[] = [];
  let flatStart = -1;
  for (let i = 1; i < n; i++) {
    const ti = t[i]!;
    const tp = t[i - 1]!;
    const ci = C[i]!;
    const cp = C[i - 1]!;
    const gap = ti - tp;
    const k = Math.round(gap / dt);
    if (k >= 2 && Math.abs(gap - k * dt) / dt <= tol) found.push({ t: tp, amount: (k - 1) * dt, kind: "missing" });
    const repeated = gap > 0 && ci === cp && D[i] === D[i - 1];
    if (repeated && flatStart < 0) flatStart = i;
    if ((!repeated || i === n - 1) && flatStart >= 0) {
      const end = repeated ? i : i - 1;
      // 1 <= flatStart <= end < n
      if (end - flatStart + 1 >= flatline_min_samples)
        found.push({ t: t[flatStart]!, amount: t[end]! - t[flatStart - 1]!, kind: "flatline" });
      flatStart = -1;
    }
    if (i + 1 < n && jitterSpikeAt(cp, ci, C[i + 1]!, min)) found.push({ t: ti, amount: dt, kind: "jitter" });
  }
  found.sort((x, y) => x.t - y.t);
  return clusterFindings("SENSOR_INTEGRITY_DROP", found, max_gap_s, cfg.thresholds);
}

/** What the boundary detector needs to know about a segment. */
export interface SegmentColumns {
  segment_id: string;
  /** "initial" segments restart from the initial state: no boundary to check. */
  start?: string;
  /** The declared step (meta.dt), if any. */
  dt?: number;
  cols: SampleColumns;
}

/**
 * SEGMENT_BOUNDARY_GLITCH: the jump from the last sample of a segment to the first of the next one that continues it
 * (meta.start not "initial"). Returns, per segment index, the anomalies that belong to it (at its first sample).
 */
export function detectBoundaryGlitches(segments: Segment[], c: CorridorContext, cfg: DetectorConfig): Anomaly[][] {
  return boundaryGlitchesOf(segments.map(segmentColumnsOf), c, cfg);
}

export function boundaryGlitchesOf(segments: SegmentColumns[], c: CorridorContext, cfg: DetectorConfig): Anomaly[][] {
  const out: Anomaly[][] = segments.map(() => []);
  const scale = detectorParam(cfg, "SEGMENT_BOUNDARY_GLITCH", "d_scale");
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!; // 1 <= i < length; `out` has the same length
    const prev = segments[i - 1]!;
    if (seg.start === "initial") continue;
    const a = prev.cols;
    const b = seg.cols;
    if (a.length === 0 || b.length === 0) continue;
    const j = a.length - 1;
    const dC = b.C[0]! - a.C[j]!;
    const dD = b.D[0]! - a.D[j]!;
    const measure = Math.max(
      Math.abs(dC) / c.h,
      Math.abs(dD) / scale,
      Math.abs(b.Q[0]! - a.Q[j]!) / scale,
      Math.abs(b.R[0]! - a.R[j]!) / scale,
    );
    const sev = severityOf(measure, cfg.thresholds);
    if (sev)
      out[i]!.push(
        anomalyOf("SEGMENT_BOUNDARY_GLITCH", b.t[0]!, sev as Severity, {
          measure,
          from_segment: prev.segment_id,
          dC,
          dD,
        }),
      );
  }
  return out;
}

function segmentColumnsOf(seg: Segment): SegmentColumns {
  return {
    segment_id: seg.segment_id,
    start: typeof seg.meta?.start === "string" ? seg.meta.start : undefined,
    dt: typeof seg.meta?.dt === "number" ? seg.meta.dt : undefined,
    cols: columnsOf(seg.samples),
  };
}

/** Every log-derivable whole-run detector over every segment: anomalies per segment index. */
export function detectRunAnomalies(segments: Segment[], c: CorridorContext, configs: DetectorConfigs): Anomaly[][] {
  return runAnomaliesOf(segments.map(segmentColumnsOf), c, configs);
}

export function runAnomaliesOf(segments: SegmentColumns[], c: CorridorContext, configs: DetectorConfigs): Anomaly[][] {
  const boundary = boundaryGlitchesOf(segments, c, configs.SEGMENT_BOUNDARY_GLITCH);
  const jitterRate = detectorParam(configs.SENSOR_INTEGRITY_DROP, "SENSOR_INTEGRITY_DROP", "jitter_rate");
  const gridTolerance = detectorParam(configs.RESONANCE_TIME_SLIP, "RESONANCE_TIME_SLIP", "tolerance");
  return segments.map((seg, i) => {
    const dt = typeof seg.dt === "number" && seg.dt > 0 ? seg.dt : medianSpacing(seg.cols);
    return [
      ...driftOf(seg.cols, c, configs.CORRIDOR_C_DRIFT),
      ...huntingOf(seg.cols, c, configs.HUNTING_OSCILLATION, dt, jitterRate),
      ...timeSlipOf(seg.cols, dt, configs.RESONANCE_TIME_SLIP),
      ...sensorIntegrityOf(seg.cols, dt, configs.SENSOR_INTEGRITY_DROP, gridTolerance),
      ...boundary[i]!, // one entry per segment
    ];
  });
}
