/**
 * Opens the diagnostics tables beside the session store named by `--db`. SQLite gets its own connection to the same
 * file (the session store's connection lives on a worker thread; WAL lets both write, each to its own tables).
 * PostgreSQL gets a small pool of its own on the same URL and schema.
 */
import Database from "better-sqlite3";
import pg from "pg";
import { isPostgresUrl } from "../config.js";
import { PgDiagnosticsStore } from "./pg-store.js";
import { SqliteDiagnosticsStore } from "./sqlite-store.js";
import type { DiagnosticsStore } from "./store.js";

export interface OpenedDiagnostics {
  store: DiagnosticsStore;
  close(): Promise<void>;
}

export async function openDiagnosticsStore(db: string, opts: { pgSchema?: string } = {}): Promise<OpenedDiagnostics> {
  if (isPostgresUrl(db)) {
    const pool = new pg.Pool({ connectionString: db, max: 4 });
    // An idle client's error (server restart) must not crash the process; the next query reports it.
    pool.on("error", () => {});
    const store = new PgDiagnosticsStore(pool, { schema: opts.pgSchema });
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
  handle.pragma("busy_timeout = 5000");
  const store = new SqliteDiagnosticsStore(handle);
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
