import { isPostgresUrl } from "../config.js";
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
