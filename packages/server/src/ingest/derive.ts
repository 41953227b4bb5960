import {
  computeTopLevel,
  findTimeSlips,
  isV2,
  maxSeverity,
  type SessionLog,
  segmentsOf,
  TIME_SLIP_SEVERITY,
  TIME_SLIP_TYPE,
} from "@rtt/core";
import type { ErrorDetail } from "@rtt/http";
import type { SegmentIndexEntry, SessionColumns, SessionSummaryJson } from "../store/types.js";

/** Longest session_id the server stores (it appears in URLs, file names and labels). */
export const MAX_SESSION_ID_LENGTH = 256;
/** Longest value accepted in any indexed string column. */
export const MAX_INDEXED_LENGTH = 1024;

/** A UTF-16 code unit that is half of no pair. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** Index of the first C0 (but NUL, reported on its own), DEL or C1 control character, or -1. */
function controlAt(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x01 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f)) return i;
  }
  return -1;
}
/** Names of static routes beside /replay/{id}, which would answer instead of the session. */
const RESERVED_IDS = new Set(["sessions", "facets"]);

const codePoint = (code: number) => `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;

/**
 * Why a session_id cannot be acknowledged, or undefined. The id is a URL path segment (/replay/{id}) for as long
 * as the session is kept, so the server refuses here what no URL could reach afterwards: a lone surrogate has no
 * UTF-8 form (encodeURIComponent throws; SQLite keeps bytes that are not UTF-8, which no decoded URL matches),
 * a control character breaks the log lines, headers and file names the id is written into, "." and ".." are
 * removed from paths by every URL parser, and a static route name is answered by that route. A server rule,
 * not a schema rule: `rtt validate` still accepts such ids in files.
 */
export function sessionIdProblem(id: string): string | undefined {
  // The seed's schema allows "" (a string); no URL path segment can name it.
  if (id === "") return "session_id is empty: /replay/{id} could not name the session";
  const lone = LONE_SURROGATE.exec(id);
  if (lone)
    return `session_id is not well-formed Unicode (lone surrogate ${codePoint(lone[0].charCodeAt(0))} at index ${lone.index}): it could not be put in a URL`;
  const control = controlAt(id);
  if (control >= 0)
    return `session_id contains control character ${codePoint(id.charCodeAt(control))} at index ${control}: ids appear in URLs, headers and log lines`;
  if (id === "." || id === "..")
    return `session_id ${JSON.stringify(id)} cannot be a URL path segment: clients resolve it away, so /replay/{id} would not reach the session`;
  if (RESERVED_IDS.has(id))
    return `session_id ${JSON.stringify(id)} is the name of a route: /replay/${id} answers with that route, not the session`;
  return undefined;
}

export interface AnomalyFact {
  segment_id: string;
  segment_label: string;
  t: number;
  type: string;
  severity: number | null;
}

export interface Derived {
  columns: SessionColumns;
  summary: SessionSummaryJson;
  anomalies: AnomalyFact[];
  /** Seed top-level fields the document did not carry, for the emitted log line. */
  missingTopLevel: Record<string, unknown>;
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const int = (v: unknown): number | null => (typeof v === "number" && Number.isInteger(v) ? v : null);
const severityOf = (v: unknown): number | null =>
  typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 5 ? v : null;

/**
 * Server-side checks beyond the spec, needed to store and index a session safely.
 * Returns problems as located details (empty when fine).
 */
export function storageChecks(log: SessionLog): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  if (log.session_id.length > MAX_SESSION_ID_LENGTH)
    problems.push({ path: "/session_id", message: `session_id longer than ${MAX_SESSION_ID_LENGTH} characters` });
  const idProblem = sessionIdProblem(log.session_id);
  if (idProblem) problems.push({ path: "/session_id", message: idProblem });
  if (Number.isNaN(Date.parse(log.timestamp)))
    problems.push({ path: "/timestamp", message: "timestamp is not a parseable date-time" });
  for (const field of [
    "session_id",
    "device",
    "device_type",
    "scenario",
    "difficulty",
    "mode",
    "engine_version",
    "operator_id",
    "operator_display",
    "operator_team",
  ]) {
    const v = (log as Record<string, unknown>)[field];
    if (typeof v !== "string") continue;
    if (v.includes("\u0000")) problems.push({ path: `/${field}`, message: "NUL characters are not allowed" });
    else if (v.length > MAX_INDEXED_LENGTH)
      problems.push({ path: `/${field}`, message: `longer than ${MAX_INDEXED_LENGTH} characters` });
  }
  const op = (log as Record<string, unknown>).operator_id;
  if (op !== undefined && typeof op !== "string")
    problems.push({ path: "/operator_id", message: "operator_id must be a string" });
  return problems;
}

/** Everything the server needs besides the bytes: indexed columns, segment index, anomaly facts. */
export function deriveSession(log: SessionLog): Derived {
  const v2 = isV2(log);
  const top = computeTopLevel(log);
  const doc = log as Record<string, unknown>;
  const segments = segmentsOf(log);
  const anomalies: AnomalyFact[] = [];
  let slipMax = 0;
  let slipCount = 0;
  const index: SegmentIndexEntry[] = segments.map((seg) => {
    let tMin = Number.POSITIVE_INFINITY;
    let tMax = Number.NEGATIVE_INFINITY;
    for (const s of seg.samples) {
      if (s.t < tMin) tMin = s.t;
      if (s.t > tMax) tMax = s.t;
    }
    let segMax = 0;
    for (const a of seg.anomalies ?? []) {
      const severity = severityOf(a.severity);
      if (severity !== null && severity > segMax) segMax = severity;
      anomalies.push({ segment_id: seg.segment_id, segment_label: seg.label, t: a.t, type: a.type, severity });
    }
    // A time slip (t went backwards; a warning, not an error) is flagged as the taxonomy's anomaly, severity 5:
    // counted in the metrics, emitted to Loki, and in the segment's and session's max_severity.
    const slips = findTimeSlips(seg.samples);
    slipCount += slips.length;
    for (const slip of slips) {
      segMax = Math.max(segMax, TIME_SLIP_SEVERITY);
      slipMax = TIME_SLIP_SEVERITY;
      anomalies.push({
        segment_id: seg.segment_id,
        segment_label: seg.label,
        t: slip.t_before, // as timeSlipAnomaly: where the replay shows it
        type: TIME_SLIP_TYPE,
        severity: TIME_SLIP_SEVERITY,
      });
    }
    const has = seg.samples.length > 0;
    return {
      segment_id: seg.segment_id,
      label: seg.label,
      sample_count: seg.samples.length,
      // The replay's anomalies: the document's plus the flagged time slips.
      anomaly_count: (seg.anomalies?.length ?? 0) + slips.length,
      t_min: has ? tMin : null,
      t_max: has ? tMax : null,
      duration: has ? tMax - tMin : 0,
      max_severity: segMax,
    };
  });
  // v2 root-level anomalies next to segments belong to no segment; they are counted and emitted as "session".
  if (v2 && log.segments)
    for (const a of log.anomalies ?? [])
      anomalies.push({
        segment_id: "",
        segment_label: "session",
        t: a.t,
        type: a.type,
        severity: severityOf(a.severity),
      });

  const deviceType = str(doc.device_type) ?? log.device;
  const columns: SessionColumns = {
    session_id: log.session_id,
    spec_version: v2 ? "v2" : "v1",
    engine_version: str(doc.engine_version),
    mode: str(doc.mode),
    operator_id: str(doc.operator_id),
    operator_display: str(doc.operator_display),
    operator_team: str(doc.operator_team),
    mastery_level: int(doc.mastery_level),
    timestamp: log.timestamp,
    ts_ms: Date.parse(log.timestamp),
    device: log.device,
    device_type: deviceType,
    scenario: log.scenario,
    difficulty: log.difficulty,
    sample_count: top.sample_count,
    segment_count: top.segment_count,
    anomaly_count: top.anomaly_count + slipCount,
    max_severity: Math.max(slipMax, Math.min(5, maxSeverity(log))),
    score_final: typeof log.scores.final === "number" ? log.scores.final : null,
  };
  const triadic = v2 && log.triadic ? (log.triadic as Record<string, unknown>) : v1Triadic(doc);
  const missingTopLevel: Record<string, unknown> = {};
  const seedTop: Record<string, unknown> = {
    spec_version: columns.spec_version,
    device_type: deviceType,
    sample_count: top.sample_count,
    segment_count: top.segment_count,
    anomaly_count: top.anomaly_count,
    score_final: top.score_final,
  };
  for (const [k, v] of Object.entries(seedTop)) if (doc[k] === undefined && v !== undefined) missingTopLevel[k] = v;
  return {
    columns,
    summary: { scores: { ...log.scores }, triadic, segments: index },
    anomalies,
    missingTopLevel,
  };
}

/** v1 carries SNR nodes and the dimensional core at the root; the replay metadata shows them like v2's triadic. */
function v1Triadic(doc: Record<string, unknown>): Record<string, unknown> | null {
  const out: Record<string, unknown> = {};
  if (Array.isArray(doc.nodes)) out.snr = { nodes: doc.nodes };
  if (doc.dimensional_core && typeof doc.dimensional_core === "object") out.dimcore = doc.dimensional_core;
  return Object.keys(out).length ? out : null;
}
