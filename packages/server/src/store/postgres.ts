import pg from "pg";
import { coreMasteryRule } from "../sim.js";
import { POSTGRES_MIGRATIONS } from "./migrations.js";
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
} from "./rows.js";
import { StoreClosedError } from "./sqlite.js";

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PostgresOptions {
  url: string;
  /** Schema holding RTT's tables (created if missing); default `public`. */
  schema?: string;
  poolSize?: number;
  masteryRule?: MasteryRule;
}

/**
 * PostgreSQL backend. Every `ingest` call is one transaction (committed before it resolves, so the
 * server's default synchronous_commit makes it durable). Operator rows are locked (`FOR UPDATE`) so
 * several servers can share one database without losing mastery updates.
 */
export class PostgresStore implements SessionStore {
  readonly kind = "postgres" as const;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    readonly schema: string,
    private readonly masteryRule: MasteryRule,
  ) {}

  static async open(opts: PostgresOptions): Promise<PostgresStore> {
    const schema = opts.schema ?? "public";
    if (!IDENT.test(schema)) throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(schema)}`);
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 8,
      options: `-c search_path=${schema}`,
      connectionTimeoutMillis: 10_000,
    });
    // An idle client's network error must not crash the process; the next query reports it.
    pool.on("error", () => {});
    const store = new PostgresStore(pool, schema, opts.masteryRule ?? coreMasteryRule);
    try {
      await store.migrate();
    } catch (e) {
      await pool.end().catch(() => {});
      throw e;
    }
    return store;
  }

  private async migrate(): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query("BEGIN");
      await c.query("SELECT pg_advisory_xact_lock(hashtext('rtt_schema_migrations'))");
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await c.query(
        "CREATE TABLE IF NOT EXISTS rtt_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
      );
      const { rows } = await c.query<{ version: number }>("SELECT version FROM rtt_schema_migrations");
      const applied = new Set(rows.map((r) => r.version));
      for (const m of POSTGRES_MIGRATIONS) {
        if (applied.has(m.version)) continue;
        await c.query(m.sql);
        await c.query("INSERT INTO rtt_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [
          m.version,
          m.name,
          new Date().toISOString(),
        ]);
      }
      await c.query("COMMIT");
    } catch (e) {
      await c.query("ROLLBACK").catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  async ingest(items: IngestItem[]): Promise<IngestOutcome[]> {
    this.assertOpen();
    const c = await this.pool.connect();
    try {
      await c.query("BEGIN");
      const out = await this.ingestBatch(c, items);
      await c.query("COMMIT");
      return out;
    } catch (e) {
      await c.query("ROLLBACK").catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  /**
   * A whole group in a constant number of round trips: one multi-row insert of sessions (ON CONFLICT DO
   * NOTHING), one of documents, one lookup of the ids that already existed, then the operators of the group
   * locked in id order (no deadlocks between servers), the mastery rule applied in item order, and one
   * update per operator plus one multi-row insert of mastery events.
   */
  private async ingestBatch(c: pg.PoolClient, items: IngestItem[]): Promise<IngestOutcome[]> {
    const now = new Date().toISOString();
    const COLS = 24;
    const values: unknown[] = [];
    const rows: string[] = [];
    items.forEach((it, i) => {
      const col = it.columns;
      values.push(
        col.session_id,
        col.spec_version,
        col.engine_version,
        col.mode,
        col.operator_id,
        col.operator_display,
        col.operator_team,
        col.mastery_level,
        col.timestamp,
        col.ts_ms,
        col.device,
        col.device_type,
        col.scenario,
        col.difficulty,
        col.sample_count,
        col.segment_count,
        col.anomaly_count,
        col.anomaly_count > 0 ? 1 : 0,
        col.max_severity,
        col.score_final,
        JSON.stringify(it.summary),
        it.sha256,
        it.document.length,
        now,
      );
      rows.push(`(${Array.from({ length: COLS }, (_, k) => `$${i * COLS + k + 1}`).join(",")})`);
    });
    const inserted = await c.query<{ session_id: string; seq: string }>(
      `INSERT INTO sessions (session_id, spec_version, engine_version, mode, operator_id, operator_display,
        operator_team, mastery_level, timestamp, ts_ms, device, device_type, scenario, difficulty, sample_count,
        segment_count, anomaly_count, has_anomalies, max_severity, score_final, summary, content_sha256, byte_length,
        ingested_at) VALUES ${rows.join(",")}
       ON CONFLICT (session_id) DO NOTHING RETURNING session_id, seq`,
      values,
    );
    const seqOf = new Map(inserted.rows.map((r) => [r.session_id, r.seq]));
    // Within a group the first item of an id is the one inserted; later ones compare with it.
    const created: Array<{ index: number; seq: string }> = [];
    const firstOf = new Map<string, number>();
    const stale: string[] = [];
    items.forEach((it, index) => {
      const id = it.columns.session_id;
      const seq = seqOf.get(id);
      if (seq !== undefined && !firstOf.has(id)) {
        firstOf.set(id, index);
        created.push({ index, seq });
      } else if (seq === undefined) stale.push(id);
    });
    if (created.length) {
      const docValues: unknown[] = [];
      const docRows = created.map(({ index, seq }, k) => {
        docValues.push(seq, items[index].document);
        return `($${2 * k + 1}, $${2 * k + 2})`;
      });
      await c.query(`INSERT INTO session_documents (seq, document) VALUES ${docRows.join(",")}`, docValues);
    }
    const existing = new Map<string, { sha: string; document: Buffer }>();
    if (stale.length) {
      const { rows: found } = await c.query<{ session_id: string; content_sha256: string; document: Buffer }>(
        `SELECT s.session_id, s.content_sha256, d.document FROM sessions s JOIN session_documents d ON d.seq = s.seq
         WHERE s.session_id = ANY($1)`,
        [stale],
      );
      for (const r of found) existing.set(r.session_id, { sha: r.content_sha256, document: r.document });
    }
    const out: IngestOutcome[] = items.map((it, index) => {
      const id = it.columns.session_id;
      if (firstOf.get(id) === index) return { status: "created" };
      const first = firstOf.get(id);
      const stored =
        first !== undefined ? { sha: items[first].sha256, document: items[first].document } : existing.get(id);
      if (!stored) throw new Error(`session ${id} neither inserted nor found`);
      return stored.sha === it.sha256 ? { status: "duplicate" } : { status: "exists", stored: stored.document };
    });
    await this.applyMastery(
      c,
      items,
      created.map((x) => x.index),
      out,
    );
    return out;
  }

  private async applyMastery(c: pg.PoolClient, items: IngestItem[], createdIdx: number[], out: IngestOutcome[]) {
    const withOp = createdIdx.filter((i) => items[i].columns.operator_id);
    if (!withOp.length) return;
    const ids = [...new Set(withOp.map((i) => items[i].columns.operator_id as string))].sort();
    await c.query(
      `INSERT INTO operators (operator_id, level, xp, sessions) SELECT unnest($1::text[]), 0, 0, 0
       ON CONFLICT (operator_id) DO NOTHING`,
      [ids],
    );
    const { rows } = await c.query<{ operator_id: string; level: number; xp: number; sessions: number }>(
      "SELECT operator_id, level, xp, sessions FROM operators WHERE operator_id = ANY($1) ORDER BY operator_id FOR UPDATE",
      [ids],
    );
    const state = new Map<string, MasteryState | undefined>(
      rows.map((r) => [
        r.operator_id,
        r.sessions > 0 ? { operator_id: r.operator_id, level: r.level, xp: r.xp } : undefined,
      ]),
    );
    const eventValues: unknown[] = [];
    const eventRows: string[] = [];
    const touched = new Map<
      string,
      { display: string | null; team: string | null; count: number; last: { ts: string; ms: number } }
    >();
    for (const i of withOp) {
      const col = items[i].columns;
      const opId = col.operator_id as string;
      const update = this.masteryRule(state.get(opId), opId, items[i].mastery);
      state.set(opId, update.state);
      out[i] = { status: "created", mastery: update };
      const n = eventValues.length;
      eventValues.push(
        opId,
        col.session_id,
        col.timestamp,
        update.state.level,
        update.state.xp,
        update.delta,
        update.reason,
        col.score_final,
        col.anomaly_count,
        col.max_severity,
      );
      eventRows.push(`(${Array.from({ length: 10 }, (_, k) => `$${n + k + 1}`).join(",")})`);
      const t = touched.get(opId);
      const last = !t || col.ts_ms >= t.last.ms ? { ts: col.timestamp, ms: col.ts_ms } : t.last;
      touched.set(opId, {
        display: col.operator_display ?? t?.display ?? null,
        team: col.operator_team ?? t?.team ?? null,
        count: (t?.count ?? 0) + 1,
        last,
      });
    }
    for (const [opId, t] of touched) {
      const s = state.get(opId) as MasteryState;
      await c.query(
        `UPDATE operators SET
           operator_display = COALESCE($2, operator_display), operator_team = COALESCE($3, operator_team),
           level = $4, xp = $5, sessions = sessions + $8,
           last_session_at = CASE WHEN last_ts_ms IS NULL OR $7 >= last_ts_ms THEN $6 ELSE last_session_at END,
           last_ts_ms = GREATEST(COALESCE(last_ts_ms, $7), $7)
         WHERE operator_id = $1`,
        [opId, t.display, t.team, s.level, s.xp, t.last.ts, t.last.ms, t.count],
      );
    }
    await c.query(
      `INSERT INTO mastery_events (operator_id, session_id, timestamp, level, xp, delta, reason, score_final,
        anomaly_count, max_severity) VALUES ${eventRows.join(",")}`,
      eventValues,
    );
  }

  private async q<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []) {
    this.assertOpen();
    return (await this.pool.query<R>(sql, params)).rows;
  }

  async getSession(sessionId: string): Promise<SessionRecord | undefined> {
    const rows = await this.q(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE session_id = $1`, [sessionId]);
    return rows[0] ? rowToRecord(rows[0]) : undefined;
  }

  async getDocument(sessionId: string): Promise<Buffer | undefined> {
    const rows = await this.q<{ document: Buffer }>(
      "SELECT d.document FROM session_documents d JOIN sessions s ON s.seq = d.seq WHERE s.session_id = $1",
      [sessionId],
    );
    return rows[0]?.document;
  }

  async listSessions(q: ListQuery): Promise<ListPage> {
    const { sql, params } = buildListQuery(q, (i) => `$${i}`);
    const rows = await this.q(sql, params);
    const page = rows.slice(0, q.limit).map(rowToRecord);
    const last = rows.length > q.limit ? rows[q.limit - 1] : undefined;
    return { rows: page, next: last ? { value: Number(last.sort_value), seq: Number(last.seq) } : undefined };
  }

  async facets(): Promise<Facets> {
    const values = async (sql: string) => (await this.q<{ v: string }>(sql)).map((r) => r.v);
    return {
      operators: await this.q<Facets["operators"][number]>(
        "SELECT operator_id, operator_display FROM operators ORDER BY operator_id",
      ),
      device_types: await values(
        "SELECT DISTINCT device_type AS v FROM sessions WHERE device_type IS NOT NULL ORDER BY v",
      ),
      scenarios: await values("SELECT DISTINCT scenario AS v FROM sessions ORDER BY v"),
      difficulties: await values("SELECT DISTINCT difficulty AS v FROM sessions ORDER BY v"),
    };
  }

  async countSessions(): Promise<number> {
    const rows = await this.q<{ n: string }>("SELECT COUNT(*) AS n FROM sessions");
    return Number(rows[0].n);
  }

  async addNote(n: NoteInput): Promise<Note> {
    const created_at = new Date().toISOString();
    const rows = await this.q<{ id: string }>(
      "INSERT INTO notes (session_id, t, text, author, segment_id, created_at) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id",
      [n.session_id, n.t, n.text, n.author, n.segment_id, created_at],
    );
    return { id: Number(rows[0].id), ...n, created_at };
  }

  async listNotes(sessionId: string): Promise<Note[]> {
    const rows = await this.q<Note & { id: string }>(
      "SELECT id, session_id, t, text, author, segment_id, created_at FROM notes WHERE session_id = $1 ORDER BY id",
      [sessionId],
    );
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  async listOperators(): Promise<OperatorRecord[]> {
    return this.q<OperatorRecord>(
      "SELECT operator_id, operator_display, operator_team, level, xp, sessions, last_session_at FROM operators WHERE sessions > 0 ORDER BY operator_id",
    );
  }

  async getOperator(operatorId: string): Promise<OperatorRecord | undefined> {
    const rows = await this.q<OperatorRecord>(
      "SELECT operator_id, operator_display, operator_team, level, xp, sessions, last_session_at FROM operators WHERE operator_id = $1 AND sessions > 0",
      [operatorId],
    );
    return rows[0];
  }

  async masteryHistory(operatorId: string): Promise<MasteryEvent[]> {
    return this.q<MasteryEvent>(
      `SELECT session_id, timestamp, level, xp, delta, reason, score_final, anomaly_count, max_severity
       FROM mastery_events WHERE operator_id = $1 ORDER BY id`,
      [operatorId],
    );
  }

  /** Drops this store's schema (test isolation); refuses `public`. */
  async dropSchema(): Promise<void> {
    if (this.schema === "public") throw new Error("refusing to drop schema public");
    await this.q(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}
