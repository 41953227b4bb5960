// One versioned schema per database: the sessions store and the diagnostics store apply the same migration list,
// whichever opens the database first, and a database written before the diagnostics tables were a migration
// (the diagnostics store created them itself with CREATE … IF NOT EXISTS) upgrades without losing a row.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIAGNOSTICS_MIGRATIONS, PgDiagnosticsStore, SqliteDiagnosticsStore } from "@rtt/diagnostics";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PG_URL, probePostgres, uniqueSchema } from "../../../test/support/pg.js";
import { migratePostgres, migrateSqlite } from "../src/store/migrate.js";
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from "../src/store/migrations.js";
import { PostgresStore } from "../src/store/postgres.js";
import { SqliteStore } from "../src/store/sqlite.js";

const DIAG_TABLES = ["rtt_diag_beacons", "rtt_diag_drift", "rtt_diag_profiles", "rtt_diag_sites"];

/** The diagnostics tables exactly as the diagnostics store created them before they were a migration. */
const LEGACY_SQLITE_DIAG = `
CREATE TABLE rtt_diag_sites (site TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE rtt_diag_beacons (id INTEGER PRIMARY KEY AUTOINCREMENT, site TEXT NOT NULL, session TEXT NOT NULL,
  event TEXT NOT NULL, ts TEXT NOT NULL, received_at INTEGER NOT NULL, fingerprint TEXT NOT NULL,
  structure TEXT NOT NULL, meta TEXT);
CREATE TABLE rtt_diag_drift (id INTEGER PRIMARY KEY AUTOINCREMENT, site TEXT NOT NULL, kind TEXT NOT NULL,
  at INTEGER NOT NULL, session TEXT NOT NULL, event TEXT NOT NULL, details TEXT NOT NULL);
CREATE TABLE rtt_diag_profiles (site TEXT PRIMARY KEY, profile TEXT NOT NULL, updated_at INTEGER NOT NULL);
INSERT INTO rtt_diag_profiles VALUES ('legacy-site', '{"version":"1.0","supports":["drift"]}', 1);
`;

const ledger = (db: Database.Database) =>
  (db.prepare("SELECT version, name FROM rtt_schema_migrations ORDER BY version").all() as { version: number }[]).map(
    (r) => r.version,
  );

describe("one migration list per dialect", () => {
  it("holds every step of @rtt/diagnostics once, in its order, after the sessions tables", () => {
    const names = new Set(DIAGNOSTICS_MIGRATIONS.map((m) => m.name));
    const steps = (list: { name: string; sql: string }[]) =>
      list.filter((m) => names.has(m.name)).map((m) => [m.name, m.sql]);
    const expected = (dialect: "sqlite" | "postgres") => DIAGNOSTICS_MIGRATIONS.map((m) => [m.name, m[dialect]]);
    expect(steps(SQLITE_MIGRATIONS)).toEqual(expected("sqlite"));
    expect(steps(POSTGRES_MIGRATIONS)).toEqual(expected("postgres"));
    for (const list of [SQLITE_MIGRATIONS, POSTGRES_MIGRATIONS])
      expect(list.map((m) => m.version)).toEqual(list.map((_, i) => i + 1));
  });
});

describe("SQLite: one migration list for sessions and diagnostics", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "rtt-migrate-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("the sessions store creates the diagnostics tables, recorded in the ledger", async () => {
    const file = join(dir, "a.db");
    const store = new SqliteStore(file);
    await store.close();
    const db = new Database(file);
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rtt_diag_%' ORDER BY name")
      .all() as { name: string }[];
    expect(tables.map((t) => t.name)).toEqual(DIAG_TABLES);
    expect(ledger(db)).toEqual(SQLITE_MIGRATIONS.map((m) => m.version));
    db.close();
  });

  it("the diagnostics store alone (with the server's runner) brings a fresh file to the same version, and the sessions store then finds it done", async () => {
    const file = join(dir, "b.db");
    const db = new Database(file);
    await new SqliteDiagnosticsStore(db, { migrate: migrateSqlite }).init();
    expect(ledger(db)).toEqual(SQLITE_MIGRATIONS.map((m) => m.version));
    const store = new SqliteStore(file);
    await store.close();
    expect(ledger(db)).toEqual(SQLITE_MIGRATIONS.map((m) => m.version));
    db.close();
  });

  it("a database from before keeps its diagnostics rows through the upgrade", async () => {
    const file = join(dir, "c.db");
    const old = new Database(file);
    old.exec(
      "CREATE TABLE rtt_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    );
    old.exec(SQLITE_MIGRATIONS[0].sql);
    old.prepare("INSERT INTO rtt_schema_migrations VALUES (1, 'v1', 'then')").run();
    old.exec(LEGACY_SQLITE_DIAG);
    old.close();

    const store = new SqliteStore(file);
    await store.close();
    const db = new Database(file);
    expect(ledger(db)).toEqual(SQLITE_MIGRATIONS.map((m) => m.version));
    const diag = new SqliteDiagnosticsStore(db);
    await diag.init();
    expect(await diag.getProfile("legacy-site")).toEqual({ version: "1.0", supports: ["drift"] });
    db.close();
  });
});

const pgReason = await probePostgres();

describe.skipIf(pgReason !== undefined)("PostgreSQL: one migration list for sessions and diagnostics", () => {
  const schema = uniqueSchema("migrate");
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
  });
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it("the diagnostics store and the sessions store apply one ledger, each step once", async () => {
    await Promise.all([
      new PgDiagnosticsStore(pool, { schema, migrate: migratePostgres }).init(),
      PostgresStore.open({ url: PG_URL, schema }).then((s) => s.close()),
    ]);
    const { rows } = await pool.query(`SELECT version FROM "${schema}".rtt_schema_migrations ORDER BY version`);
    expect(rows.map((r) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
    const tables = await pool.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE 'rtt_diag_%' ORDER BY table_name",
      [schema],
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(DIAG_TABLES);
  });
});
