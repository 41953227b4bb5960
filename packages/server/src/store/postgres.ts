import pg from "pg";
import { coreMasteryRule } from "../mastery-rule.js";
import { migratePostgres } from "./migrate.js";
import { buildListQuery, SESSION_COLUMNS } from "./query.js";
import {
  type Facets,
  type IngestItem,
  type IngestOptions,
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
  type SessionDbRow,
  type SessionRecord,
  type SessionStore,
  sessionDbRow,
} from "./rows.js";
import { StoreClosedError } from "./sqlite.js";

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** An item of an ingest group with its index in the group. */
interface Indexed {
  index: number;
  item: IngestItem;
}

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
      await migratePostgres(c, this.schema);
    } finally {
      c.release();
    }
  }

  async ingest(items: IngestItem[], opts: IngestOptions = {}): Promise<IngestOutcome[]> {
    this.assertOpen();
    const c = await this.pool.connect();
    let sequenced = false;
    const done = () => {
      if (!sequenced) opts.sequenced?.();
      sequenced = true;
    };
    try {
      await c.query("BEGIN");
      const out = await this.ingestBatch(c, items, done);
      done();
      await c.query("COMMIT");
      return out;
    } catch (e) {
      done();
      await c.query("ROLLBACK").catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  /**
   * A whole group in a constant number of round trips, every statement prepared once per connection:
   * 1. one statement inserts the sessions (arrays, ON CONFLICT DO NOTHING, in item order), the documents of
   *    the inserted ones (binary parameters) and a placeholder row for each new operator;
   * 2. only when some id already existed: one lookup of the stored hashes and documents;
   * 3. the operators of the group locked in id order (`FOR UPDATE`; no deadlocks between servers) — after this
   *    the group's order is fixed and `sequenced` lets the next group start while this one finishes;
   * 4. the mastery rule applied in item order, then one statement updates every touched operator and inserts
   *    every mastery event.
   */
  private async ingestBatch(c: pg.PoolClient, items: IngestItem[], sequenced: () => void): Promise<IngestOutcome[]> {
    // The first item of an id is the candidate for insertion; later ones in the group compare with it.
    const firstOf = new Map<string, Indexed>();
    const candidates: IngestItem[] = [];
    items.forEach((item, index) => {
      const id = item.columns.session_id;
      if (!firstOf.has(id)) {
        firstOf.set(id, { index, item });
        candidates.push(item);
      }
    });
    const inserted = await c.query<{ session_id: string }>({
      name: `rtt_ingest_${candidates.length}`,
      text: insertGroupSql(candidates.length),
      values: insertGroupValues(candidates),
    });
    const created = new Set(inserted.rows.map((r) => r.session_id));
    const stale = candidates.map((it) => it.columns.session_id).filter((id) => !created.has(id));
    const existing = new Map<string, { sha: string; document: Buffer }>();
    if (stale.length) {
      const { rows: found } = await c.query<{ session_id: string; content_sha256: string; document: Buffer }>(
        `SELECT s.session_id, s.content_sha256, d.document FROM sessions s JOIN session_documents d ON d.seq = s.seq
         WHERE s.session_id = ANY($1)`,
        [stale],
      );
      for (const r of found) existing.set(r.session_id, { sha: r.content_sha256, document: r.document });
    }
    const createdItems: Indexed[] = [];
    const out: IngestOutcome[] = items.map((it, index) => {
      const id = it.columns.session_id;
      const first = firstOf.get(id) as Indexed;
      if (created.has(id)) {
        if (first.index === index) {
          createdItems.push(first);
          return { status: "created" };
        }
        const f = first.item;
        return f.sha256 === it.sha256 ? { status: "duplicate" } : { status: "exists", stored: f.document };
      }
      const stored = existing.get(id);
      if (!stored) throw new Error(`session ${id} neither inserted nor found`);
      return stored.sha === it.sha256 ? { status: "duplicate" } : { status: "exists", stored: stored.document };
    });
    await this.applyMastery(c, createdItems, out, sequenced);
    return out;
  }

  /** Mastery for the created items (`out` is indexed like the group's items). */
  private async applyMastery(c: pg.PoolClient, createdItems: Indexed[], out: IngestOutcome[], sequenced: () => void) {
    const withOp = createdItems.filter(({ item }) => item.columns.operator_id);
    if (!withOp.length) return;
    const ids = [...new Set(withOp.map(({ item }) => item.columns.operator_id as string))].sort();
    // The placeholder rows were inserted by the group statement; a new statement sees rows other servers
    // committed meanwhile, and the lock makes every other group wait for this one's commit.
    const { rows } = await c.query<{ operator_id: string; level: number; xp: number; sessions: number }>({
      name: "rtt_lock_operators",
      text: "SELECT operator_id, level, xp, sessions FROM operators WHERE operator_id = ANY($1) ORDER BY operator_id FOR UPDATE",
      values: [ids],
    });
    sequenced();
    const state = new Map<string, MasteryState | undefined>(
      rows.map((r) => [
        r.operator_id,
        r.sessions > 0 ? { operator_id: r.operator_id, level: r.level, xp: r.xp } : undefined,
      ]),
    );
    const ev: unknown[][] = Array.from({ length: 10 }, () => []);
    const touched = new Map<
      string,
      { display: string | null; team: string | null; count: number; last: { ts: string; ms: number } }
    >();
    for (const { index, item } of withOp) {
      const col = item.columns;
      const opId = col.operator_id as string;
      const update = this.masteryRule(state.get(opId), opId, item.mastery);
      state.set(opId, update.state);
      out[index] = { status: "created", mastery: update };
      [
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
      ].forEach((v, k) => {
        ev[k]!.push(v); // one value per event column
      });
      const t = touched.get(opId);
      const last = !t || col.ts_ms >= t.last.ms ? { ts: col.timestamp, ms: col.ts_ms } : t.last;
      touched.set(opId, {
        display: col.operator_display ?? t?.display ?? null,
        team: col.operator_team ?? t?.team ?? null,
        count: (t?.count ?? 0) + 1,
        last,
      });
    }
    const op: unknown[][] = Array.from({ length: 8 }, () => []);
    for (const [opId, t] of touched) {
      const s = state.get(opId) as MasteryState;
      [opId, t.display, t.team, s.level, s.xp, t.count, t.last.ts, t.last.ms].forEach((v, k) => {
        op[k]!.push(v); // one value per operator column
      });
    }
    await c.query({ name: "rtt_apply_mastery", text: APPLY_MASTERY_SQL, values: [...op, ...ev] });
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
    const [row] = await this.q<{ n: string }>("SELECT COUNT(*) AS n FROM sessions");
    return Number(row?.n ?? 0); // COUNT(*) answers one row
  }

  async addNote(n: NoteInput): Promise<Note> {
    const created_at = new Date().toISOString();
    const [row] = await this.q<{ id: string }>(
      "INSERT INTO notes (session_id, t, text, author, segment_id, created_at) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id",
      [n.session_id, n.t, n.text, n.author, n.segment_id, created_at],
    );
    if (!row) throw new Error("note not stored: INSERT … RETURNING id answered no row");
    return { id: Number(row.id), ...n, created_at };
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

/** Indexed columns of `sessions` in insert order, with the element type of their array parameter. */
const SESSION_INSERT: Array<[keyof SessionDbRow, string]> = [
  ["session_id", "text"],
  ["spec_version", "text"],
  ["engine_version", "text"],
  ["mode", "text"],
  ["operator_id", "text"],
  ["operator_display", "text"],
  ["operator_team", "text"],
  ["mastery_level", "int"],
  ["timestamp", "text"],
  ["ts_ms", "bigint"],
  ["device", "text"],
  ["device_type", "text"],
  ["scenario", "text"],
  ["difficulty", "text"],
  ["sample_count", "int"],
  ["segment_count", "int"],
  ["anomaly_count", "int"],
  ["has_anomalies", "int"],
  ["max_severity", "int"],
  ["score_final", "float8"],
  ["summary", "text"],
  ["content_sha256", "text"],
  ["byte_length", "int"],
];
const SESSION_NAMES = SESSION_INSERT.map(([name]) => name).join(", ");
const groupSqlCache = new Map<number, string>();

/**
 * The group statement for `n` candidates: sessions from arrays (item order kept through the ordinality),
 * documents as `n` binary parameters joined by position, operator placeholders for the inserted sessions.
 * Returns the inserted session ids.
 */
function insertGroupSql(n: number): string {
  let sql = groupSqlCache.get(n);
  if (sql) return sql;
  const k = SESSION_INSERT.length;
  const arrays = SESSION_INSERT.map(([, type], i) => `$${i + 1}::${type}[]`).join(", ");
  const docs = Array.from({ length: n }, (_, i) => `(${i + 1}::bigint, $${k + 2 + i}::bytea)`).join(", ");
  sql = `WITH input AS (
  SELECT * FROM unnest(${arrays}) WITH ORDINALITY AS x(${SESSION_NAMES}, ord)
), ins AS (
  INSERT INTO sessions (${SESSION_NAMES}, ingested_at)
  SELECT ${SESSION_NAMES}, $${k + 1}::text FROM input ORDER BY ord
  ON CONFLICT (session_id) DO NOTHING RETURNING session_id, seq
), docs AS (
  INSERT INTO session_documents (seq, document)
  SELECT ins.seq, d.document FROM ins JOIN input USING (session_id) JOIN (VALUES ${docs}) AS d(ord, document)
    ON d.ord = input.ord
), ops AS (
  INSERT INTO operators (operator_id, level, xp, sessions)
  SELECT DISTINCT input.operator_id, 0, 0, 0 FROM ins JOIN input USING (session_id)
  WHERE input.operator_id IS NOT NULL ORDER BY 1
  ON CONFLICT (operator_id) DO NOTHING
)
SELECT session_id FROM ins`;
  groupSqlCache.set(n, sql);
  return sql;
}

function insertGroupValues(candidates: IngestItem[]): unknown[] {
  const rows = candidates.map(sessionDbRow);
  const cols = SESSION_INSERT.map(([name]) => rows.map((row) => row[name]));
  return [...cols, new Date().toISOString(), ...candidates.map((it) => it.document)];
}

/** Every touched operator updated (arrays $1–$8) and every mastery event inserted in item order ($9–$18). */
const APPLY_MASTERY_SQL = `WITH upd AS (
  UPDATE operators o SET
    operator_display = COALESCE(u.display, o.operator_display), operator_team = COALESCE(u.team, o.operator_team),
    level = u.level, xp = u.xp, sessions = o.sessions + u.n,
    last_session_at = CASE WHEN o.last_ts_ms IS NULL OR u.last_ms >= o.last_ts_ms THEN u.last_at
      ELSE o.last_session_at END,
    last_ts_ms = GREATEST(COALESCE(o.last_ts_ms, u.last_ms), u.last_ms)
  FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::float8[], $6::int[], $7::text[], $8::bigint[])
    AS u(operator_id, display, team, level, xp, n, last_at, last_ms)
  WHERE o.operator_id = u.operator_id
)
INSERT INTO mastery_events (operator_id, session_id, timestamp, level, xp, delta, reason, score_final,
  anomaly_count, max_severity)
SELECT operator_id, session_id, timestamp, level, xp, delta, reason, score_final, anomaly_count, max_severity
FROM unnest($9::text[], $10::text[], $11::text[], $12::int[], $13::float8[], $14::float8[], $15::text[],
  $16::float8[], $17::int[], $18::int[]) WITH ORDINALITY
  AS e(operator_id, session_id, timestamp, level, xp, delta, reason, score_final, anomaly_count, max_severity, ord)
ORDER BY ord`;
