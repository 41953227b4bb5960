import { type DiffSide, type LoadedTrace, type LoadOptions, loadDiffSideText, loadTraceText } from "@rtt/ctf";
import pg from "pg";
import { migratePostgres } from "../store/migrate.js";
import type { AppendBuild, StoredSlice, TraceListing, TraceStamp, TraceStore } from "./store.js";

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
/** The one channel of every RTT server on a database; payloads name the schema, so schemas do not mix. */
export const CTF_CHANNEL = "rtt_ctf";
const RECONNECT_MS = 250;
/** The change feed's connection, by name in pg_stat_activity. */
export const FEED_APPLICATION = "rtt_ctf_feed";

export interface PgCtfStoreOptions {
  url: string;
  /** Schema holding RTT's tables (the `--db` store's); default `public`. */
  schema?: string;
  poolSize?: number;
  /** Told when the change feed fails (it reconnects by itself). */
  onFeedError?: (err: Error) => void;
}

const missing = (id: string) => Object.assign(new Error(`no trace ${id}`), { code: "ENOENT" });

/**
 * Corridor Trace Files in PostgreSQL, for several `rtt serve` instances on one database (issue 21): `ctf_traces`
 * holds a row per trace (events, bytes, a version bumped by every append), `ctf_chunks` the text, one chunk per
 * upload or accepted append in seq order. Appends lock the trace's row (`FOR UPDATE`): servers append to one trace in
 * turn, each first catching up with what the others stored. Every commit that stores events sends
 * `NOTIFY rtt_ctf` with `{s: schema, id, n: events stored}` — the payload only names the change (NOTIFY payloads
 * are capped below 8,000 bytes); the events themselves are read from the tables, so a listener that reconnects
 * catches up from them and loses nothing.
 */
export class PgCtfStore implements TraceStore {
  readonly kind = "postgres" as const;
  private closed = false;
  private feed: pg.Client | undefined;
  private readonly listingCache = new Map<string, { stamp: string; listing: TraceListing }>();

  private constructor(
    private readonly pool: pg.Pool,
    readonly schema: string,
    private readonly opts: PgCtfStoreOptions,
  ) {}

  static async open(opts: PgCtfStoreOptions): Promise<PgCtfStore> {
    const schema = opts.schema ?? "public";
    if (!IDENT.test(schema)) throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(schema)}`);
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 4,
      options: `-c search_path=${schema}`,
      connectionTimeoutMillis: 10_000,
    });
    pool.on("error", () => {});
    const store = new PgCtfStore(pool, schema, opts);
    try {
      // Already done by the sessions store in `rtt serve`; a no-op then (one ledger read under the advisory lock).
      const c = await pool.connect();
      try {
        await migratePostgres(c, schema);
      } finally {
        c.release();
      }
    } catch (e) {
      await pool.end().catch(() => {});
      throw e;
    }
    return store;
  }

  async init(): Promise<void> {}

  async exists(id: string): Promise<boolean> {
    const r = await this.pool.query("SELECT 1 FROM ctf_traces WHERE id = $1 AND events > 0", [id]);
    return r.rowCount === 1;
  }

  async stamp(id: string): Promise<TraceStamp> {
    const r = await this.pool.query<{ bytes: string; version: number }>(
      "SELECT bytes, version FROM ctf_traces WHERE id = $1 AND events > 0",
      [id],
    );
    if (!r.rows[0]) throw missing(id);
    return { size: Number(r.rows[0].bytes), mtimeMs: r.rows[0].version };
  }

  async readText(id: string): Promise<string> {
    const r = await this.pool.query<{ body: string }>(
      "SELECT body FROM ctf_chunks WHERE trace_id = $1 ORDER BY first_seq",
      [id],
    );
    if (r.rows.length === 0) throw missing(id);
    return r.rows.length === 1 ? (r.rows[0] as { body: string }).body : r.rows.map((x) => x.body).join("");
  }

  readFrom(id: string, seq: number): Promise<StoredSlice> {
    return readFrom(this.pool, id, seq);
  }

  async create(id: string, text: string, events: number): Promise<boolean> {
    const created = await this.tx(async (c) => {
      const now = new Date().toISOString();
      const r = await c.query(
        `INSERT INTO ctf_traces (id, events, bytes, version, created_at, modified_at) VALUES ($1, $2, $3, 1, $4, $4)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [id, events, Buffer.byteLength(text), now],
      );
      if (r.rowCount !== 1) return false;
      await c.query("INSERT INTO ctf_chunks (trace_id, first_seq, events, body) VALUES ($1, 0, $2, $3)", [
        id,
        events,
        text,
      ]);
      await this.notify(c, id, events);
      return true;
    });
    return created === true;
  }

  async appendWith(id: string, build: AppendBuild): Promise<void> {
    await this.tx(async (c) => {
      const now = new Date().toISOString();
      // A trace started by its first append has no row yet: a placeholder (rolled back if nothing is appended),
      // then the row's lock, which every server's append of this trace takes in turn.
      await c.query(
        `INSERT INTO ctf_traces (id, events, bytes, version, created_at, modified_at) VALUES ($1, 0, 0, 0, $2, $2)
         ON CONFLICT (id) DO NOTHING`,
        [id, now],
      );
      const locked = await c.query<{ events: string }>("SELECT events FROM ctf_traces WHERE id = $1 FOR UPDATE", [id]);
      const stored = Number(locked.rows[0]?.events);
      const r = await build(stored, (seq) => readFrom(c, id, seq));
      if (!r) return ROLLBACK;
      await c.query("INSERT INTO ctf_chunks (trace_id, first_seq, events, body) VALUES ($1, $2, $3, $4)", [
        id,
        stored,
        r.events,
        r.text,
      ]);
      await c.query(
        `UPDATE ctf_traces SET events = events + $2, bytes = bytes + $3, version = version + 1, modified_at = $4
         WHERE id = $1`,
        [id, r.events, Buffer.byteLength(r.text), now],
      );
      await this.notify(c, id, stored + r.events);
    });
  }

  async list(): Promise<TraceListing[]> {
    const r = await this.pool.query<{ id: string; bytes: string; version: number; modified_at: string }>(
      `SELECT id, bytes, version, modified_at FROM ctf_traces WHERE events > 0 ORDER BY id COLLATE "C"`,
    );
    const out: TraceListing[] = [];
    for (const row of r.rows) {
      const stamp = `${row.bytes}:${row.version}`;
      const hit = this.listingCache.get(row.id);
      if (hit && hit.stamp === stamp) {
        out.push(hit.listing);
        continue;
      }
      try {
        const t = await this.loadTrace(row.id, { recompute: false, skipSchema: true, requireFooter: false });
        const listing: TraceListing = {
          id: row.id,
          task_id: t.header?.task_id ?? null,
          steps: t.steps.length,
          final_status: t.finalStatus,
          complete: t.footer !== null,
          events: t.events,
          bytes: Number(row.bytes),
          modified: row.modified_at,
        };
        this.listingCache.set(row.id, { stamp, listing });
        out.push(listing);
      } catch (err) {
        out.push({
          id: row.id,
          task_id: null,
          steps: 0,
          final_status: "unknown",
          complete: false,
          events: 0,
          bytes: 0,
          modified: "",
          error: `cannot be read (${(err as Error).message})`,
        });
      }
    }
    return out;
  }

  async loadTrace(id: string, opts: LoadOptions): Promise<LoadedTrace> {
    return loadTraceText(await this.readText(id), opts);
  }

  async loadDiffSides(a: string, b: string): Promise<[DiffSide, DiffSide]> {
    const [ta, tb] = await Promise.all([this.readText(a), this.readText(b)]);
    return [loadDiffSideText(ta), loadDiffSideText(tb)];
  }

  /**
   * Listens on the change feed: a dedicated connection (LISTEN holds it), reconnected after a failure, each
   * reconnection followed by `onResync` — notifications sent while it was away are lost, the tables are not.
   */
  watch(onChange: (id: string, events: number) => void, onResync: () => void): void {
    let first = true;
    const connect = async (): Promise<void> => {
      if (this.closed) return;
      const client = new pg.Client({ connectionString: this.opts.url, application_name: FEED_APPLICATION });
      let ended = false;
      const retry = (err?: Error) => {
        if (ended) return;
        ended = true;
        if (this.feed === client) this.feed = undefined;
        client.end().catch(() => {});
        if (this.closed) return;
        if (err) this.opts.onFeedError?.(err);
        setTimeout(() => void connect(), RECONNECT_MS).unref();
      };
      client.on("error", retry);
      client.on("end", () => retry());
      client.on("notification", (n) => {
        if (n.channel !== CTF_CHANNEL || !n.payload) return;
        try {
          const m = JSON.parse(n.payload) as { s: string; id: string; n: number };
          if (m.s === this.schema) onChange(m.id, m.n);
        } catch {
          /* not ours */
        }
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${CTF_CHANNEL}`);
      } catch (err) {
        retry(err as Error);
        return;
      }
      if (this.closed) {
        ended = true;
        await client.end().catch(() => {});
        return;
      }
      this.feed = client;
      if (!first) onResync();
      first = false;
    };
    void connect();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const feed = this.feed;
    this.feed = undefined;
    await feed?.end().catch(() => {});
    await this.pool.end();
  }

  /** Sent at commit, and only if the transaction commits. */
  private async notify(c: pg.PoolClient, id: string, events: number): Promise<void> {
    await c.query("SELECT pg_notify($1, $2)", [CTF_CHANNEL, JSON.stringify({ s: this.schema, id, n: events })]);
  }

  /** Runs `fn` in a transaction: committed, or rolled back when it throws or returns ROLLBACK. */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T | typeof ROLLBACK>): Promise<T | undefined> {
    const c = await this.pool.connect();
    try {
      await c.query("BEGIN");
      const out = await fn(c);
      if (out === ROLLBACK) {
        await c.query("ROLLBACK");
        return undefined;
      }
      await c.query("COMMIT");
      return out;
    } catch (e) {
      await c.query("ROLLBACK").catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }
}

const ROLLBACK = Symbol("rollback");

async function readFrom(q: pg.Pool | pg.PoolClient, id: string, seq: number): Promise<StoredSlice> {
  const r = await q.query<{ first_seq: string; body: string }>(
    "SELECT first_seq, body FROM ctf_chunks WHERE trace_id = $1 AND first_seq + events > $2 ORDER BY first_seq",
    [id, seq],
  );
  if (r.rows.length === 0) return { text: "", first: seq };
  return { text: r.rows.map((x) => x.body).join(""), first: Number(r.rows[0]?.first_seq) };
}
