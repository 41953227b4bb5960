import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { coreMasteryRule } from "../mastery-rule.js";
import { migrateSqlite } from "./migrate.js";
import { buildListQuery, SESSION_COLUMNS } from "./query.js";
import {
  type Facets,
  type IngestItem,
  type IngestOutcome,
  type ListPage,
  type ListQuery,
  type MasteryEvent,
  type MasteryRule,
  type MasteryState,
  type Note,
  type NoteInput,
  type OperatorRecord,
  rowToRecord,
  type SessionRecord,
  type SessionStore,
  sessionDbRow,
} from "./rows.js";
import { StoreBusyError } from "./types.js";

/** How long a write waits for the other connection to the file (diagnostics) before giving up. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export interface SqliteStoreOptions {
  /** Busy timeout in ms; tests shorten it to reach the give-up path quickly. */
  busyTimeoutMs?: number;
}

/**
 * SQLite backend. WAL journal with synchronous=FULL: a commit has reached the disk when `ingest` resolves,
 * so an acknowledged session survives a crash or power loss. Writes are grouped by the caller (group commit).
 * Another connection writes to the same file (diagnostics), so every write transaction starts with
 * BEGIN IMMEDIATE: a deferred one that read first cannot take the write lock once the other connection holds
 * it — SQLite fails it at once ("database is locked") instead of waiting out the busy timeout. A lock still
 * held after the timeout is a StoreBusyError.
 */
export class SqliteStore implements SessionStore {
  readonly kind = "sqlite" as const;
  private readonly db: Database.Database;
  private readonly stmts;
  private closed = false;

  constructor(
    path: string,
    private readonly masteryRule: MasteryRule = coreMasteryRule,
    opts: SqliteStoreOptions = {},
  ) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    // Set at open, so the pragmas below (journal_mode takes a lock) wait for the other connection too.
    this.db = new Database(path, { timeout: opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
    // New files only (an existing database keeps its page size): a 20 KB session log spans 2 pages instead of
    // 6, so fewer WAL frames, checksums and writes per session: ~0.27 -> ~0.18 ms of CPU per ingested session.
    this.db.pragma("page_size = 16384");
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("foreign_keys = ON");
    migrateSqlite(this.db);
    const db = this.db;
    this.stmts = {
      find: db.prepare("SELECT seq, content_sha256 FROM sessions WHERE session_id = ?"),
      insert: db.prepare(`INSERT INTO sessions (session_id, spec_version, engine_version, mode, operator_id,
        operator_display, operator_team, mastery_level, timestamp, ts_ms, device, device_type, scenario, difficulty,
        sample_count, segment_count, anomaly_count, has_anomalies, max_severity, score_final, summary, content_sha256,
        byte_length, ingested_at) VALUES (@session_id, @spec_version, @engine_version, @mode, @operator_id,
        @operator_display, @operator_team, @mastery_level, @timestamp, @ts_ms, @device, @device_type, @scenario,
        @difficulty, @sample_count, @segment_count, @anomaly_count, @has_anomalies, @max_severity, @score_final,
        @summary, @content_sha256, @byte_length, ?)`),
      insertDoc: db.prepare("INSERT INTO session_documents (seq, document) VALUES (?, ?)"),
      doc: db.prepare(
        "SELECT d.document FROM session_documents d JOIN sessions s ON s.seq = d.seq WHERE s.session_id = ?",
      ),
      get: db.prepare(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE session_id = ?`),
      count: db.prepare("SELECT COUNT(*) AS n FROM sessions"),
      operator: db.prepare("SELECT * FROM operators WHERE operator_id = ?"),
      upsertOperator: db.prepare(`INSERT INTO operators (operator_id, operator_display, operator_team, level, xp,
        sessions, last_session_at, last_ts_ms) VALUES (@operator_id, @operator_display, @operator_team, @level, @xp, 1,
        @timestamp, @ts_ms)
        ON CONFLICT (operator_id) DO UPDATE SET
          operator_display = COALESCE(excluded.operator_display, operators.operator_display),
          operator_team = COALESCE(excluded.operator_team, operators.operator_team),
          level = excluded.level, xp = excluded.xp, sessions = operators.sessions + 1,
          last_session_at = CASE WHEN operators.last_ts_ms IS NULL OR excluded.last_ts_ms >= operators.last_ts_ms
            THEN excluded.last_session_at ELSE operators.last_session_at END,
          last_ts_ms = MAX(COALESCE(operators.last_ts_ms, excluded.last_ts_ms), excluded.last_ts_ms)`),
      insertEvent: db.prepare(`INSERT INTO mastery_events (operator_id, session_id, timestamp, level, xp, delta,
        reason, score_final, anomaly_count, max_severity) VALUES (@operator_id, @session_id, @timestamp, @level, @xp,
        @delta, @reason, @score_final, @anomaly_count, @max_severity)`),
      operators: db.prepare(
        "SELECT operator_id, operator_display, operator_team, level, xp, sessions, last_session_at FROM operators ORDER BY operator_id",
      ),
      history: db.prepare(`SELECT session_id, timestamp, level, xp, delta, reason, score_final, anomaly_count,
        max_severity FROM mastery_events WHERE operator_id = ? ORDER BY id`),
      addNote: db.prepare(`INSERT INTO notes (session_id, t, text, author, segment_id, created_at)
        VALUES (@session_id, @t, @text, @author, @segment_id, @created_at)`),
      notes: db.prepare(
        "SELECT id, session_id, t, text, author, segment_id, created_at FROM notes WHERE session_id = ? ORDER BY id",
      ),
      facetOperators: db.prepare("SELECT operator_id, operator_display FROM operators ORDER BY operator_id"),
      facetDeviceTypes: db.prepare(
        "SELECT DISTINCT device_type AS v FROM sessions WHERE device_type IS NOT NULL ORDER BY v",
      ),
      facetScenarios: db.prepare("SELECT DISTINCT scenario AS v FROM sessions ORDER BY v"),
      facetDifficulties: db.prepare("SELECT DISTINCT difficulty AS v FROM sessions ORDER BY v"),
    };
    const tx = this.db.transaction((items: IngestItem[]) => items.map((it) => this.ingestOne(it)));
    this.ingestTx = (items) => tx.immediate(items);
  }

  private readonly ingestTx: (items: IngestItem[]) => IngestOutcome[];

  private ingestOne(it: IngestItem): IngestOutcome {
    const existing = this.stmts.find.get(it.columns.session_id) as { seq: number; content_sha256: string } | undefined;
    if (existing) {
      if (existing.content_sha256 === it.sha256) return { status: "duplicate" };
      const stored = this.stmts.doc.get(it.columns.session_id) as { document: Buffer };
      return { status: "exists", stored: stored.document };
    }
    const c = it.columns;
    // ingested_at is the one anonymous parameter: the row binds by name as it is, without a copy to add it.
    const info = this.stmts.insert.run(new Date().toISOString(), sessionDbRow(it));
    this.stmts.insertDoc.run(info.lastInsertRowid, it.document);
    if (!c.operator_id) return { status: "created" };
    const prevRow = this.stmts.operator.get(c.operator_id) as { level: number; xp: number } | undefined;
    const prev: MasteryState | undefined = prevRow
      ? { operator_id: c.operator_id, level: prevRow.level, xp: prevRow.xp }
      : undefined;
    const update = this.masteryRule(prev, c.operator_id, it.mastery);
    this.stmts.upsertOperator.run({
      operator_id: c.operator_id,
      operator_display: c.operator_display,
      operator_team: c.operator_team,
      level: update.state.level,
      xp: update.state.xp,
      timestamp: c.timestamp,
      ts_ms: c.ts_ms,
    });
    this.stmts.insertEvent.run({
      operator_id: c.operator_id,
      session_id: c.session_id,
      timestamp: c.timestamp,
      level: update.state.level,
      xp: update.state.xp,
      delta: update.delta,
      reason: update.reason,
      score_final: c.score_final,
      anomaly_count: c.anomaly_count,
      max_severity: c.max_severity,
    });
    return { status: "created", mastery: update };
  }

  async ingest(items: IngestItem[]): Promise<IngestOutcome[]> {
    return this.use(() => this.ingestTx(items));
  }

  /**
   * Several groups, queued one after another, in one transaction (one fsync); if it fails, each group in a
   * transaction of its own, so a failing group takes only itself down. One result per group, in order.
   * A busy database fails every group at once: no group is at fault, and each retry would wait out the busy
   * timeout again.
   */
  ingestGroups(groups: IngestItem[][]): Array<{ outcomes: IngestOutcome[] } | { error: Error }> {
    this.assertOpen();
    if (groups.length > 1) {
      try {
        const all = this.use(() => this.ingestTx(groups.flat()));
        let at = 0;
        return groups.map((g) => {
          at += g.length;
          return { outcomes: all.slice(at - g.length, at) };
        });
      } catch (e) {
        if (e instanceof StoreBusyError) return groups.map(() => ({ error: e }));
        // otherwise group by group
      }
    }
    return groups.map((g) => {
      try {
        return { outcomes: this.use(() => this.ingestTx(g)) };
      } catch (e) {
        return { error: e as Error };
      }
    });
  }

  async getSession(sessionId: string): Promise<SessionRecord | undefined> {
    this.assertOpen();
    const row = this.stmts.get.get(sessionId) as Record<string, unknown> | undefined;
    return row ? rowToRecord(row) : undefined;
  }

  async getDocument(sessionId: string): Promise<Buffer | undefined> {
    this.assertOpen();
    return (this.stmts.doc.get(sessionId) as { document: Buffer } | undefined)?.document;
  }

  async listSessions(q: ListQuery): Promise<ListPage> {
    this.assertOpen();
    const { sql, params } = buildListQuery(q, () => "?");
    const rows = this.db.prepare(sql).all(...params) as Array<Record<string, unknown>>;
    const page = rows.slice(0, q.limit).map(rowToRecord);
    const last = rows.length > q.limit ? rows[q.limit - 1] : undefined;
    return { rows: page, next: last ? { value: Number(last.sort_value), seq: Number(last.seq) } : undefined };
  }

  async facets(): Promise<Facets> {
    this.assertOpen();
    const values = (s: Database.Statement) => (s.all() as Array<{ v: string }>).map((r) => r.v);
    return {
      operators: this.stmts.facetOperators.all() as Facets["operators"],
      device_types: values(this.stmts.facetDeviceTypes),
      scenarios: values(this.stmts.facetScenarios),
      difficulties: values(this.stmts.facetDifficulties),
    };
  }

  async countSessions(): Promise<number> {
    this.assertOpen();
    return (this.stmts.count.get() as { n: number }).n;
  }

  async addNote(n: NoteInput): Promise<Note> {
    const created_at = new Date().toISOString();
    const info = this.use(() => this.stmts.addNote.run({ ...n, created_at }));
    return { id: Number(info.lastInsertRowid), ...n, created_at };
  }

  async listNotes(sessionId: string): Promise<Note[]> {
    this.assertOpen();
    return this.stmts.notes.all(sessionId) as Note[];
  }

  async listOperators(): Promise<OperatorRecord[]> {
    this.assertOpen();
    return this.stmts.operators.all() as OperatorRecord[];
  }

  async getOperator(operatorId: string): Promise<OperatorRecord | undefined> {
    this.assertOpen();
    const row = this.stmts.operator.get(operatorId) as (OperatorRecord & { last_ts_ms?: number }) | undefined;
    if (!row) return undefined;
    const { last_ts_ms: _drop, ...rec } = row;
    return rec;
  }

  async masteryHistory(operatorId: string): Promise<MasteryEvent[]> {
    this.assertOpen();
    return this.stmts.history.all(operatorId) as MasteryEvent[];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  /** Runs a write; a lock the other connection held past the busy timeout becomes a StoreBusyError. */
  private use<T>(write: () => T): T {
    this.assertOpen();
    try {
      return write();
    } catch (e) {
      if (e instanceof Database.SqliteError && e.code.startsWith("SQLITE_BUSY")) throw new StoreBusyError();
      throw e;
    }
  }
}

export class StoreClosedError extends Error {
  constructor() {
    super("the session store is closed");
    this.name = "StoreClosedError";
  }
}
