import type { Database } from "better-sqlite3";
import type { PoolClient } from "pg";
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from "./migrations.js";

const LEDGER =
  "CREATE TABLE IF NOT EXISTS rtt_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

/**
 * Brings a SQLite database to the newest schema: every step not yet in `rtt_schema_migrations`, each in its own
 * IMMEDIATE transaction with its ledger row. Safe to run from every connection that opens the file (the sessions
 * store and the diagnostics store both do): a step applied by one is skipped by the other.
 */
export function migrateSqlite(db: Database): void {
  db.exec(LEDGER);
  for (const m of SQLITE_MIGRATIONS) {
    db.transaction(() => {
      // Re-read inside the write lock: another connection may have applied this step since we looked.
      if (db.prepare("SELECT 1 FROM rtt_schema_migrations WHERE version = ?").get(m.version)) return;
      db.exec(m.sql);
      db.prepare("INSERT INTO rtt_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
    }).immediate();
  }
}

/**
 * Brings a PostgreSQL schema to the newest version in one transaction under an advisory lock, so servers starting
 * together (several `rtt serve` on one database) apply each step once. Unqualified names land in `schema`.
 */
export async function migratePostgres(client: PoolClient, schema: string): Promise<void> {
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtext('rtt_schema_migrations'))");
    const ident = `"${schema.replace(/"/g, '""')}"`;
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident}`);
    await client.query(`SET LOCAL search_path TO ${ident}`);
    await client.query(LEDGER);
    const { rows } = await client.query<{ version: number }>("SELECT version FROM rtt_schema_migrations");
    const applied = new Set(rows.map((r) => r.version));
    for (const m of POSTGRES_MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await client.query(m.sql);
      await client.query("INSERT INTO rtt_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [
        m.version,
        m.name,
        new Date().toISOString(),
      ]);
    }
    await client.query("COMMIT");
  } catch (e) {
    await client.query("ROLLBACK").catch(() => {});
    throw e;
  }
}
