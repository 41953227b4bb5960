/** The storage contract: one interface, two backends (SQLite, PostgreSQL), one contract test suite. */

/** Indexed columns of a stored session: every filter and sort of the replay browser is one of these. */
export interface SessionColumns {
  session_id: string;
  spec_version: "v1" | "v2";
  engine_version: string | null;
  mode: string | null;
  operator_id: string | null;
  operator_display: string | null;
  operator_team: string | null;
  mastery_level: number | null;
  timestamp: string;
  /** `timestamp` as epoch milliseconds, for ordering and time-range filters. */
  ts_ms: number;
  device: string;
  device_type: string | null;
  scenario: string;
  difficulty: string;
  sample_count: number;
  segment_count: number;
  anomaly_count: number;
  max_severity: number;
  score_final: number | null;
}

/** Per-segment index kept beside the document so metadata requests never parse it. */
export interface SegmentIndexEntry {
  segment_id: string;
  label: string;
  sample_count: number;
  anomaly_count: number;
  t_min: number | null;
  t_max: number | null;
  duration: number;
  max_severity: number;
}

/** Small derived facts stored as JSON beside the columns. */
export interface SessionSummaryJson {
  scores: Record<string, unknown>;
  triadic: Record<string, unknown> | null;
  segments: SegmentIndexEntry[];
  /**
   * The validator's warnings at ingest (the project's rules the session breaks; spec/VALIDATION.md), stored with
   * the session. Absent on sessions stored before warnings were kept, and when there were none.
   */
  warnings?: StoredWarning[];
}

/** A warning as stored and returned: stable code, JSON Pointer, message, and the anomaly it is flagged as. */
export interface StoredWarning {
  code: string;
  path: string;
  message: string;
  anomaly?: { type: string; severity: number };
}

export interface SessionRecord extends SessionColumns {
  summary: SessionSummaryJson;
  content_sha256: string;
  byte_length: number;
  ingested_at: string;
}

export interface MasteryState {
  operator_id: string;
  level: number;
  xp: number;
}

export interface MasteryUpdate {
  state: MasteryState;
  delta: number;
  reason: string;
}

/** A validated, derived session ready to be written in one transaction. */
export interface IngestItem {
  columns: SessionColumns;
  summary: SessionSummaryJson;
  /** The document exactly as received. */
  document: Buffer;
  sha256: string;
  /**
   * What the store's mastery rule needs about this session (core's SessionSummary); present when the session
   * has an operator. Plain data, so a store can apply the rule in another thread.
   */
  mastery?: unknown;
}

export type IngestOutcome =
  | { status: "created"; mastery?: MasteryUpdate }
  /** The id exists with byte-identical content. */
  | { status: "duplicate" }
  /** The id exists with different bytes: the caller decides (semantically equal → duplicate, else conflict). */
  | { status: "exists"; stored: Buffer };

/**
 * Next mastery state of an operator from the stored one (undefined for a new operator) and a session's
 * summary. Applied by the store inside the ingest transaction, in commit order.
 */
export type MasteryRule = (prev: MasteryState | undefined, operatorId: string, summary: unknown) => MasteryUpdate;

export type SortKey = "timestamp" | "score_final" | "mastery_level";

export interface ListQuery {
  operator?: string;
  device_type?: string;
  scenario?: string;
  difficulty?: string;
  mode?: string;
  spec_version?: "v1" | "v2";
  level_min?: number;
  level_max?: number;
  has_anomalies?: boolean;
  from_ms?: number;
  to_ms?: number;
  sort: SortKey;
  desc: boolean;
  limit: number;
  /** Keyset position: the sort value and seq of the last row of the previous page. */
  after?: { value: number; seq: number };
}

export interface ListPage {
  rows: Array<SessionRecord & { seq: number }>;
  /** Position after the last row when more rows may follow. */
  next?: { value: number; seq: number };
}

export interface Facets {
  operators: Array<{ operator_id: string; operator_display: string | null }>;
  device_types: string[];
  scenarios: string[];
  difficulties: string[];
}

export interface NoteInput {
  session_id: string;
  t: number;
  text: string;
  author: string;
  segment_id: string | null;
}

export interface Note extends NoteInput {
  id: number;
  created_at: string;
}

export interface OperatorRecord {
  operator_id: string;
  operator_display: string | null;
  operator_team: string | null;
  level: number;
  xp: number;
  sessions: number;
  last_session_at: string | null;
}

export interface MasteryEvent {
  session_id: string;
  timestamp: string;
  level: number;
  xp: number;
  delta: number;
  reason: string;
  score_final: number | null;
  anomaly_count: number;
  max_severity: number;
}

export interface IngestOptions {
  /**
   * Called once the group's place in the commit order is fixed (its rows are written and its operators
   * locked, or its message is queued to a serial writer): the caller may then start the next group while this
   * one is still committing. Called at the latest when the promise settles. Stores that cannot overlap groups
   * need not call it.
   */
  sequenced?: () => void;
}

export interface SessionStore {
  readonly kind: "sqlite" | "postgres";
  /** Writes all items in one durable transaction; one outcome per item, in order. */
  ingest(items: IngestItem[], opts?: IngestOptions): Promise<IngestOutcome[]>;
  getSession(sessionId: string): Promise<SessionRecord | undefined>;
  getDocument(sessionId: string): Promise<Buffer | undefined>;
  listSessions(q: ListQuery): Promise<ListPage>;
  facets(): Promise<Facets>;
  countSessions(): Promise<number>;
  addNote(n: NoteInput): Promise<Note>;
  listNotes(sessionId: string): Promise<Note[]>;
  listOperators(): Promise<OperatorRecord[]>;
  getOperator(operatorId: string): Promise<OperatorRecord | undefined>;
  masteryHistory(operatorId: string): Promise<MasteryEvent[]>;
  close(): Promise<void>;
}

/** Sort expression shared by both backends: NULL mastery levels sort as -1. */
export const SORT_COLUMN: Record<SortKey, string> = {
  timestamp: "ts_ms",
  score_final: "COALESCE(score_final, -1e308)",
  mastery_level: "COALESCE(mastery_level, -1)",
};

/** A write the SQLite lock held past the busy timeout refused: 503 with Retry-After (one class, in @rtt/http). */
export { StoreBusyError } from "@rtt/http";
