/**
 * @rtt/diagnostics: the RTT-Inside diagnostics API (/api/rtt/*, seeds 001/002) — beacons, profiles, drift, coherence,
 * corridor and topology — as a Fastify plugin over a DiagnosticsStore (SQLite or PostgreSQL). Its tables are schema
 * steps (migrations.ts) that the database's one versioned migration list applies; `rtt serve` mounts the plugin.
 */
export {
  type Constraint,
  evaluateConstraint,
  type Finding,
  type ValidateRequest,
  type ValidateResult,
  validateCoherence,
} from "./coherence.js";
export { analyzeCorridor, type CorridorRequest, type CorridorResult } from "./corridor.js";
export {
  applyBeacon,
  type Beacon,
  cadenceMs,
  DRIFT_KINDS,
  type DriftEvent,
  type DriftKind,
  type DriftState,
  diffStructure,
  fingerprint,
  isOverdue,
  type SiteState,
} from "./drift.js";
export { type ErrorDetail, InputError } from "./errors.js";
export { diagnosticsMetrics, MAX_SITE_SERIES_DEFAULT, type ScopeLabel, scopeLabel } from "./metrics.js";
export { DIAGNOSTICS_MIGRATIONS, DIAGNOSTICS_TABLES, type DiagnosticsMigration } from "./migrations.js";
export { PgDiagnosticsStore, type PgStoreOptions } from "./pg-store.js";
export { type DiagnosticsPluginOptions, diagnosticsPlugin } from "./plugin.js";
export { BEACON_SPEC, check, checkSite } from "./schemas.js";
export { SqliteDiagnosticsStore, type SqliteStoreOptions } from "./sqlite-store.js";
export type { DiagnosticsStore, DriftQuery, Profile, StoredBeacon } from "./store.js";
export { decomposeTopology, type TopologyRequest, type TopologyResult } from "./topology.js";
