/** RTT-Inside diagnostics: beacons, profiles, drift, coherence, corridor and topology. */
export { canonicalJson } from "@rtt/core";
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
export { diagnosticsMetrics, type ScopeLabel, scopeLabel } from "./metrics.js";
export { type OpenedDiagnostics, openDiagnosticsStore } from "./open.js";
export { PgDiagnosticsStore, type PgStoreOptions } from "./pg-store.js";
export { type DiagnosticsPluginOptions, diagnosticsPlugin } from "./plugin.js";
export { BEACON_SPEC, check, checkSite } from "./schemas.js";
export { SqliteDiagnosticsStore } from "./sqlite-store.js";
export type { DiagnosticsStore, DriftQuery, Profile, StoredBeacon } from "./store.js";
export { decomposeTopology, type TopologyRequest, type TopologyResult } from "./topology.js";
