import { type DiagnosticsStore, PgDiagnosticsStore, SqliteDiagnosticsStore } from "@rtt/diagnostics";
import Database from "better-sqlite3";
import pg from "pg";
import { isPostgresUrl } from "../config.js";
import { migratePostgres, migrateSqlite } from "./migrate.js";
import { PostgresStore } from "./postgres.js";
import { SqliteStore } from "./sqlite.js";
import { sqliteWorkerUrl, ThreadedSqliteStore } from "./sqlite-threaded.js";
import type { SessionStore } from "./types.js";

export interface OpenStoreOptions {
  pgSchema?: string;
  /**
   * SQLite on a worker thread (default when the compiled worker exists). Running from TypeScript sources,
   * pass the loader flags in `workerExecArgv`, or the store runs on the main thread.
   */
  sqliteThread?: boolean;
  workerExecArgv?: string[];
}

/** Opens (and migrates) the store named by `--db`: a SQLite path or a postgres:// URL. */
export async function openStore(db: string, opts: OpenStoreOptions = {}): Promise<SessionStore> {
  if (isPostgresUrl(db)) return PostgresStore.open({ url: db, schema: opts.pgSchema });
  const url = sqliteWorkerUrl();
  const threaded = opts.sqliteThread ?? (url !== undefined && (url.pathname.endsWith(".js") || !!opts.workerExecArgv));
  if (threaded && url) return ThreadedSqliteStore.open(db, { execArgv: opts.workerExecArgv, workerUrl: url });
  return new SqliteStore(db);
}

export interface OpenedDiagnostics {
  store: DiagnosticsStore;
  close(): Promise<void>;
}

/**
 * Opens the diagnostics tables (@rtt/diagnostics) beside the session store named by `--db`, migrated by the same
 * versioned list (migrations.ts). SQLite gets its own connection to the same file (the session store's connection
 * lives on a worker thread; WAL lets both write, each to its own tables). PostgreSQL gets a small pool of its own on
 * the same URL and schema.
 */
export async function openDiagnosticsStore(
  db: string,
  opts: { pgSchema?: string; busyTimeoutMs?: number } = {},
): Promise<OpenedDiagnostics> {
  if (isPostgresUrl(db)) {
    const pool = new pg.Pool({ connectionString: db, max: 4 });
    // An idle client's error (server restart) must not crash the process; the next query reports it.
    pool.on("error", () => {});
    const store = new PgDiagnosticsStore(pool, { schema: opts.pgSchema, migrate: migratePostgres });
    try {
      await store.init();
    } catch (e) {
      await pool.end().catch(() => {});
      throw e;
    }
    return { store, close: () => pool.end() };
  }
  const handle = new Database(db);
  if (db !== ":memory:") handle.pragma("journal_mode = WAL");
  handle.pragma("synchronous = FULL");
  // A write that waits longer is a StoreBusyError: 503 with Retry-After.
  handle.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
  const store = new SqliteDiagnosticsStore(handle, { migrate: migrateSqlite });
  try {
    await store.init();
  } catch (e) {
    handle.close();
    throw e;
  }
  return {
    store,
    close: async () => {
      handle.close();
    },
  };
}

/** A store location safe to print: the password of a URL is masked. */
export function describeStore(db: string): string {
  if (!isPostgresUrl(db)) return `sqlite ${db}`;
  try {
    const u = new URL(db);
    if (u.password) u.password = "***";
    return `postgres ${u.toString()}`;
  } catch {
    return "postgres (unparseable URL)";
  }
}
