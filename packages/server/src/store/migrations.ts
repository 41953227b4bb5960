/**
 * Schema migrations, one list per dialect, applied in order and recorded in `rtt_schema_migrations`: the sessions
 * tables (here) and the diagnostics tables (@rtt/diagnostics' DIAGNOSTICS_MIGRATIONS, each step at the version it
 * was released with; store.migrations.test checks every one is listed). Never edit a released step; append a new one.
 */
import { DIAGNOSTICS_TABLES } from "@rtt/diagnostics/migrations";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const sessionIndexes = `
CREATE INDEX IF NOT EXISTS sessions_ts ON sessions (ts_ms, seq);
CREATE INDEX IF NOT EXISTS sessions_operator_ts ON sessions (operator_id, ts_ms);
CREATE INDEX IF NOT EXISTS sessions_device_type ON sessions (device_type, ts_ms);
CREATE INDEX IF NOT EXISTS sessions_scenario ON sessions (scenario, ts_ms);
CREATE INDEX IF NOT EXISTS sessions_difficulty ON sessions (difficulty, ts_ms);
CREATE INDEX IF NOT EXISTS sessions_mode ON sessions (mode, ts_ms);
CREATE INDEX IF NOT EXISTS sessions_spec_version ON sessions (spec_version, ts_ms);
CREATE INDEX IF NOT EXISTS sessions_mastery ON sessions (mastery_level, ts_ms);
CREATE INDEX IF NOT EXISTS sessions_has_anomalies ON sessions (has_anomalies, ts_ms);
CREATE INDEX IF NOT EXISTS sessions_score ON sessions (score_final, seq);
CREATE INDEX IF NOT EXISTS notes_session ON notes (session_id, id);
CREATE INDEX IF NOT EXISTS mastery_events_operator ON mastery_events (operator_id, id);
`;

export const SQLITE_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: "sessions, documents, notes, operators, mastery events",
    sql: `
CREATE TABLE sessions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL UNIQUE,
  spec_version TEXT NOT NULL,
  engine_version TEXT,
  mode TEXT,
  operator_id TEXT,
  operator_display TEXT,
  operator_team TEXT,
  mastery_level INTEGER,
  timestamp TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  device TEXT NOT NULL,
  device_type TEXT,
  scenario TEXT NOT NULL,
  difficulty TEXT NOT NULL,
  sample_count INTEGER NOT NULL,
  segment_count INTEGER NOT NULL,
  anomaly_count INTEGER NOT NULL,
  has_anomalies INTEGER NOT NULL,
  max_severity INTEGER NOT NULL,
  score_final REAL,
  summary TEXT NOT NULL,
  content_sha256 TEXT NOT NULL,
  byte_length INTEGER NOT NULL,
  ingested_at TEXT NOT NULL
);
CREATE TABLE session_documents (
  seq INTEGER PRIMARY KEY REFERENCES sessions (seq),
  document BLOB NOT NULL
);
CREATE TABLE notes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL REFERENCES sessions (session_id),
  t REAL NOT NULL,
  text TEXT NOT NULL,
  author TEXT NOT NULL,
  segment_id TEXT,
  created_at TEXT NOT NULL
);
CREATE TABLE operators (
  operator_id TEXT PRIMARY KEY,
  operator_display TEXT,
  operator_team TEXT,
  level INTEGER NOT NULL,
  xp REAL NOT NULL,
  sessions INTEGER NOT NULL,
  last_session_at TEXT,
  last_ts_ms INTEGER
);
CREATE TABLE mastery_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  operator_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  timestamp TEXT NOT NULL,
  level INTEGER NOT NULL,
  xp REAL NOT NULL,
  delta REAL NOT NULL,
  reason TEXT NOT NULL,
  score_final REAL,
  anomaly_count INTEGER NOT NULL,
  max_severity INTEGER NOT NULL
);
${sessionIndexes}`,
  },
  { version: 2, name: DIAGNOSTICS_TABLES.name, sql: DIAGNOSTICS_TABLES.sqlite },
];

export const POSTGRES_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: "sessions, documents, notes, operators, mastery events",
    sql: `
CREATE TABLE sessions (
  seq BIGSERIAL PRIMARY KEY,
  session_id TEXT NOT NULL UNIQUE,
  spec_version TEXT NOT NULL,
  engine_version TEXT,
  mode TEXT,
  operator_id TEXT,
  operator_display TEXT,
  operator_team TEXT,
  mastery_level INTEGER,
  timestamp TEXT NOT NULL,
  ts_ms BIGINT NOT NULL,
  device TEXT NOT NULL,
  device_type TEXT,
  scenario TEXT NOT NULL,
  difficulty TEXT NOT NULL,
  sample_count INTEGER NOT NULL,
  segment_count INTEGER NOT NULL,
  anomaly_count INTEGER NOT NULL,
  has_anomalies INTEGER NOT NULL,
  max_severity INTEGER NOT NULL,
  score_final DOUBLE PRECISION,
  summary TEXT NOT NULL,
  content_sha256 TEXT NOT NULL,
  byte_length INTEGER NOT NULL,
  ingested_at TEXT NOT NULL
);
CREATE TABLE session_documents (
  seq BIGINT PRIMARY KEY REFERENCES sessions (seq),
  document BYTEA NOT NULL
);
CREATE TABLE notes (
  id BIGSERIAL PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions (session_id),
  t DOUBLE PRECISION NOT NULL,
  text TEXT NOT NULL,
  author TEXT NOT NULL,
  segment_id TEXT,
  created_at TEXT NOT NULL
);
CREATE TABLE operators (
  operator_id TEXT PRIMARY KEY,
  operator_display TEXT,
  operator_team TEXT,
  level INTEGER NOT NULL,
  xp DOUBLE PRECISION NOT NULL,
  sessions INTEGER NOT NULL,
  last_session_at TEXT,
  last_ts_ms BIGINT
);
CREATE TABLE mastery_events (
  id BIGSERIAL PRIMARY KEY,
  operator_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  timestamp TEXT NOT NULL,
  level INTEGER NOT NULL,
  xp DOUBLE PRECISION NOT NULL,
  delta DOUBLE PRECISION NOT NULL,
  reason TEXT NOT NULL,
  score_final DOUBLE PRECISION,
  anomaly_count INTEGER NOT NULL,
  max_severity INTEGER NOT NULL
);
${sessionIndexes}`,
  },
  {
    version: 2,
    name: "session documents compressed with lz4 (stored uncompressed where lz4 is unavailable)",
    // The default pglz compression of a 20 KB session log cost ~0.6 ms of PostgreSQL CPU per insert, more
    // than the rest of the ingest transaction together; lz4 (PostgreSQL 14+, built with lz4) costs a tenth.
    // Without it the document is kept out of line uncompressed. Affects new rows only; bytes are unchanged.
    // EXECUTE keeps the statement unparsed until run, so servers older than 14 take the fallback.
    sql: `
DO $$
BEGIN
  EXECUTE 'ALTER TABLE session_documents ALTER COLUMN document SET COMPRESSION lz4';
EXCEPTION WHEN OTHERS THEN
  ALTER TABLE session_documents ALTER COLUMN document SET STORAGE EXTERNAL;
END $$;`,
  },
  { version: 3, name: DIAGNOSTICS_TABLES.name, sql: DIAGNOSTICS_TABLES.postgres },
  {
    version: 4,
    name: "Corridor Trace Files in the database (several servers on one PostgreSQL): traces and their chunks",
    // One row per trace (its counts, bumped under the row's lock by every append: the cross-server append lock)
    // and one chunk per upload or accepted append, in seq order; the text of a trace is its chunks joined.
    // SQLite keeps traces as files (ctf/store.ts), so this step has no SQLite twin.
    sql: `
CREATE TABLE ctf_traces (
  id TEXT PRIMARY KEY,
  events BIGINT NOT NULL,
  bytes BIGINT NOT NULL,
  version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  modified_at TEXT NOT NULL
);
CREATE TABLE ctf_chunks (
  trace_id TEXT NOT NULL REFERENCES ctf_traces (id),
  first_seq BIGINT NOT NULL,
  events INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (trace_id, first_seq)
);`,
  },
];
