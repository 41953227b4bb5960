/**
 * The diagnostics tables (/api/rtt/*) as schema steps, in both dialects (also the entry
 * `@rtt/diagnostics/migrations`, which loads nothing else: the server's SQLite worker thread imports it). They are not applied here: the database's
 * one versioned migration list (for `rtt serve`, the server's store/migrations.ts, next to the sessions tables)
 * gives each step its version and runs it once; the stores open an already-migrated database or run the runner
 * they are given (`migrate` of SqliteDiagnosticsStore / PgDiagnosticsStore). Never edit a released step; add one.
 */
export interface DiagnosticsMigration {
  name: string;
  sqlite: string;
  postgres: string;
}

/**
 * `IF NOT EXISTS` because databases written before this step was a migration already hold the tables (the
 * diagnostics store used to create them itself).
 */
const tables = (t: { serial: string; json: string; bigint: string }) => `
CREATE TABLE IF NOT EXISTS rtt_diag_sites (
  site TEXT PRIMARY KEY,
  state ${t.json} NOT NULL,
  updated_at ${t.bigint} NOT NULL
);
CREATE TABLE IF NOT EXISTS rtt_diag_beacons (
  id ${t.serial},
  site TEXT NOT NULL,
  session TEXT NOT NULL,
  event TEXT NOT NULL,
  ts TEXT NOT NULL,
  received_at ${t.bigint} NOT NULL,
  fingerprint TEXT NOT NULL,
  structure ${t.json} NOT NULL,
  meta ${t.json}
);
CREATE INDEX IF NOT EXISTS rtt_diag_beacons_site ON rtt_diag_beacons (site, id);
CREATE TABLE IF NOT EXISTS rtt_diag_drift (
  id ${t.serial},
  site TEXT NOT NULL,
  kind TEXT NOT NULL,
  at ${t.bigint} NOT NULL,
  session TEXT NOT NULL,
  event TEXT NOT NULL,
  details ${t.json} NOT NULL
);
CREATE INDEX IF NOT EXISTS rtt_diag_drift_site ON rtt_diag_drift (site, id);
CREATE TABLE IF NOT EXISTS rtt_diag_profiles (
  site TEXT PRIMARY KEY,
  profile ${t.json} NOT NULL,
  updated_at ${t.bigint} NOT NULL
);
`;

/** Step 1: the four tables. */
export const DIAGNOSTICS_TABLES: DiagnosticsMigration = {
  name: "diagnostics: sites, beacons, drift events, profiles",
  sqlite: tables({ serial: "INTEGER PRIMARY KEY AUTOINCREMENT", json: "TEXT", bigint: "INTEGER" }),
  postgres: tables({ serial: "BIGSERIAL PRIMARY KEY", json: "JSONB", bigint: "BIGINT" }),
};

/** The diagnostics steps in order; a database's migration list holds each once, in this order. */
export const DIAGNOSTICS_MIGRATIONS: readonly DiagnosticsMigration[] = [DIAGNOSTICS_TABLES];
