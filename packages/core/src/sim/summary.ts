import { computeTopLevel, isV2, maxSeverity, segmentsOf } from "../session.js";
import type { Scores, SessionLog } from "../types.js";
import { getScenario } from "./scenarios.js";

/** What mastery promotion and the curriculum need to know about one session. */
export interface SessionSummary {
  session_id: string;
  timestamp: string;
  operator_id?: string;
  scenario: string;
  difficulty: string;
  device_type?: string;
  mastery_level?: number;
  score_final: number;
  scores: Scores;
  anomaly_count: number;
  max_severity: number;
  /** Anomalies per severity: index 0 = severity 1 … index 4 = severity 5 (anomalies without severity count as 1). */
  severity_counts: [number, number, number, number, number];
  /** Anomalies per type. */
  anomaly_types: Record<string, number>;
  segment_count: number;
  sample_count: number;
  extensions: string[];
  /** The scenario (when it is a built-in one) has disturbances or an input schedule: "under variation". */
  disturbed: boolean;
}

export function summarizeSession(log: SessionLog): SessionSummary {
  const top = computeTopLevel(log);
  const severity_counts: SessionSummary["severity_counts"] = [0, 0, 0, 0, 0];
  const anomaly_types: Record<string, number> = {};
  // s - 1 indexes the five counts: s is a whole number in 1..5 (JSON has no NaN).
  for (const seg of segmentsOf(log)) {
    for (const a of seg.anomalies ?? []) {
      const s = Math.max(1, Math.min(5, Math.round(a.severity ?? 1)));
      severity_counts[s - 1]!++;
      anomaly_types[a.type] = (anomaly_types[a.type] ?? 0) + 1;
    }
  }
  if (isV2(log) && log.segments)
    for (const a of log.anomalies ?? []) {
      const s = Math.max(1, Math.min(5, Math.round(a.severity ?? 1)));
      severity_counts[s - 1]!++;
      anomaly_types[a.type] = (anomaly_types[a.type] ?? 0) + 1;
    }
  const def = getScenario(log.scenario);
  const v2 = isV2(log) ? log : undefined;
  return {
    session_id: log.session_id,
    timestamp: log.timestamp,
    operator_id: v2?.operator_id,
    scenario: log.scenario,
    difficulty: log.difficulty,
    device_type: v2?.device_type ?? log.device,
    mastery_level: v2?.mastery_level,
    score_final: log.scores.final,
    scores: { ...log.scores },
    anomaly_count: top.anomaly_count,
    max_severity: maxSeverity(log),
    severity_counts,
    anomaly_types,
    segment_count: top.segment_count,
    sample_count: top.sample_count,
    extensions: [...(v2?.extensions ?? [])],
    disturbed: !!def && ((def.disturbances?.length ?? 0) > 0 || (def.inputs?.length ?? 0) > 0),
  };
}
