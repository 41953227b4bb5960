import { sampleCountOf } from "./sim/columnSegment.js";
import type { Anomaly, Sample, Segment, SessionLog, SessionLogV2 } from "./types.js";

export const ENGINE_VERSION = "RTT-2.0.0";

export function isV2(log: SessionLog): log is SessionLogV2 {
  return (log as SessionLogV2).spec_version === "v2";
}

/** Every segment of a log; a log with root samples only is seen as one segment (the adapter's view). */
export function segmentsOf(log: SessionLog): Segment[] {
  if (isV2(log) && Array.isArray(log.segments)) return log.segments;
  return [{ segment_id: "seg-1", label: "main", samples: log.samples ?? [], anomalies: log.anomalies ?? [] }];
}

export interface TopLevelCounts {
  sample_count: number;
  segment_count: number;
  anomaly_count: number;
  score_final: number;
}

/** The top-level numeric fields the seed asks emitters to add (for fast LogQL and dashboards). */
export function computeTopLevel(log: SessionLog): TopLevelCounts {
  let sampleCount = log.samples?.length ?? 0;
  let anomalyCount = log.anomalies?.length ?? 0;
  const segments = isV2(log) ? (log.segments ?? []) : [];
  for (const seg of segments) {
    sampleCount += sampleCountOf(seg); // a simulated segment's samples may still be columns: count, don't build
    anomalyCount += seg.anomalies?.length ?? 0;
  }
  return {
    sample_count: sampleCount,
    segment_count: segments.length,
    anomaly_count: anomalyCount,
    score_final: log.scores?.final,
  };
}

/** Highest anomaly severity in the log, 0 when there is none or none carries a severity. */
export function maxSeverity(log: SessionLog): number {
  let max = 0;
  const visit = (list: Anomaly[] | undefined) => {
    for (const a of list ?? []) if (typeof a.severity === "number" && a.severity > max) max = a.severity;
  };
  visit(log.anomalies);
  if (isV2(log)) for (const seg of log.segments ?? []) visit(seg.anomalies);
  return max;
}

export interface SessionHeader {
  session_id: string;
  timestamp: string;
  device: string;
  scenario: string;
  difficulty: string;
}

const ZERO_SCORES = { stability: 0, response: 0, quality: 0, final: 0 };

/** A v1 log in the seed's field order (stable bytes for the same inputs). */
export function buildSessionV1(
  header: SessionHeader,
  samples: Sample[],
  anomalies: Anomaly[] = [],
  scores = ZERO_SCORES,
): SessionLog {
  return {
    session_id: header.session_id,
    timestamp: header.timestamp,
    device: header.device,
    scenario: header.scenario,
    difficulty: header.difficulty,
    sample_count: samples.length,
    segment_count: 0,
    anomaly_count: anomalies.length,
    score_final: scores.final,
    samples,
    anomalies,
    scores: { ...scores },
  };
}

export interface V2Options {
  engine_version?: string;
  mode?: SessionLogV2["mode"];
  device_type?: SessionLogV2["device_type"];
  operator_id?: string;
  operator_display?: string;
  operator_team?: string;
  mastery_level?: number;
  extensions?: SessionLogV2["extensions"];
  triadic?: SessionLogV2["triadic"];
  anomalies?: Anomaly[];
  scores?: SessionLogV2["scores"];
}

/** A v2 segmented log with the top-level counts filled in, keys in a fixed order. */
export function buildSessionV2(header: SessionHeader, segments: Segment[], opts: V2Options = {}): SessionLogV2 {
  const scores = { ...(opts.scores ?? ZERO_SCORES) };
  const log: SessionLogV2 = {
    spec_version: "v2",
    engine_version: opts.engine_version ?? ENGINE_VERSION,
    mode: opts.mode ?? "TRAINING",
    session_id: header.session_id,
    timestamp: header.timestamp,
    device: header.device,
    device_type: opts.device_type,
    scenario: header.scenario,
    difficulty: header.difficulty,
    operator_id: opts.operator_id,
    operator_display: opts.operator_display,
    operator_team: opts.operator_team,
    mastery_level: opts.mastery_level,
    sample_count: 0,
    segment_count: 0,
    anomaly_count: 0,
    score_final: scores.final,
    extensions: opts.extensions,
    segments,
    anomalies: opts.anomalies,
    triadic: opts.triadic,
    scores,
  };
  Object.assign(log, computeTopLevel(log));
  for (const key of Object.keys(log) as Array<keyof SessionLogV2>) if (log[key] === undefined) delete log[key];
  return log;
}
