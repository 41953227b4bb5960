import { type ListQuery, SORT_COLUMN } from "./types.js";

export const SESSION_COLUMNS = [
  "seq",
  "session_id",
  "spec_version",
  "engine_version",
  "mode",
  "operator_id",
  "operator_display",
  "operator_team",
  "mastery_level",
  "timestamp",
  "ts_ms",
  "device",
  "device_type",
  "scenario",
  "difficulty",
  "sample_count",
  "segment_count",
  "anomaly_count",
  "max_severity",
  "score_final",
  "summary",
  "content_sha256",
  "byte_length",
  "ingested_at",
].join(", ");

/** Builds the keyset-paginated session list query; `ph(i)` renders the i-th (1-based) placeholder. */
export function buildListQuery(q: ListQuery, ph: (i: number) => string): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(clause(ph(params.length)));
  };
  if (q.operator !== undefined) add((p) => `operator_id = ${p}`, q.operator);
  if (q.device_type !== undefined) add((p) => `device_type = ${p}`, q.device_type);
  if (q.scenario !== undefined) add((p) => `scenario = ${p}`, q.scenario);
  if (q.difficulty !== undefined) add((p) => `difficulty = ${p}`, q.difficulty);
  if (q.mode !== undefined) add((p) => `mode = ${p}`, q.mode);
  if (q.spec_version !== undefined) add((p) => `spec_version = ${p}`, q.spec_version);
  if (q.level_min !== undefined) add((p) => `mastery_level >= ${p}`, q.level_min);
  if (q.level_max !== undefined) add((p) => `mastery_level <= ${p}`, q.level_max);
  if (q.has_anomalies !== undefined) add((p) => `has_anomalies = ${p}`, q.has_anomalies ? 1 : 0);
  if (q.from_ms !== undefined) add((p) => `ts_ms >= ${p}`, q.from_ms);
  if (q.to_ms !== undefined) add((p) => `ts_ms <= ${p}`, q.to_ms);
  const key = SORT_COLUMN[q.sort];
  const dir = q.desc ? "DESC" : "ASC";
  const cmp = q.desc ? "<" : ">";
  if (q.after) {
    params.push(q.after.value, q.after.value, q.after.seq);
    const n = params.length;
    where.push(`(${key} ${cmp} ${ph(n - 2)} OR (${key} = ${ph(n - 1)} AND seq ${cmp} ${ph(n)}))`);
  }
  params.push(q.limit + 1);
  const sql =
    `SELECT ${SESSION_COLUMNS}, ${key} AS sort_value FROM sessions` +
    (where.length ? ` WHERE ${where.join(" AND ")}` : "") +
    ` ORDER BY ${key} ${dir}, seq ${dir} LIMIT ${ph(params.length)}`;
  return { sql, params };
}
