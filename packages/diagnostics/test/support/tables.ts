import Database from "better-sqlite3";
import type { PoolClient } from "pg";
import { DIAGNOSTICS_MIGRATIONS } from "../../src/migrations.js";
import { SqliteDiagnosticsStore } from "../../src/sqlite-store.js";

/**
 * The diagnostics steps run as they are, without a ledger, in place of the runner of a database's versioned list
 * (`rtt serve`'s, tested in packages/server/test/store.migrations.test.ts). Idempotent: the steps are IF NOT EXISTS.
 */
export function createTablesSqlite(db: Database.Database): void {
  for (const m of DIAGNOSTICS_MIGRATIONS) db.exec(m.sqlite);
}

export async function createTablesPostgres(client: PoolClient, schema: string): Promise<void> {
  const ident = `"${schema.replace(/"/g, '""')}"`;
  await client.query("BEGIN");
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident}`);
    await client.query(`SET LOCAL search_path TO ${ident}`);
    for (const m of DIAGNOSTICS_MIGRATIONS) await client.query(m.postgres);
    await client.query("COMMIT");
  } catch (e) {
    await client.query("ROLLBACK").catch(() => {});
    throw e;
  }
}

/** A store on a fresh in-memory SQLite database with the diagnostics tables. */
export async function memoryStore(): Promise<SqliteDiagnosticsStore> {
  const store = new SqliteDiagnosticsStore(new Database(":memory:"), { migrate: createTablesSqlite });
  await store.init();
  return store;
}
