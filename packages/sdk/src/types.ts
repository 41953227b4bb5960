/** Wire types of the RTT-Inside API (spec/beacon/*.schema.json is the contract). */

export type BeaconEvent =
  | "heartbeat"
  | "cluster_heartbeat"
  | "startup"
  | "shutdown"
  | "deploy_start"
  | "deploy_finish"
  | "config_change"
  | "topology_snapshot"
  | "workload_transition"
  | "incident";

export interface Structure {
  url: string;
  title: string;
  nav_count: number;
  main_count: number;
  form_count: number;
  button_count: number;
  dom_nodes: number;
  /** Extra structural facts take part in the drift fingerprint. */
  [extra: string]: unknown;
}

export interface BeaconPayload {
  site: string;
  session: string;
  event: BeaconEvent;
  /** RFC 3339 timestamp, e.g. new Date().toISOString(). */
  ts: string;
  structure: Structure;
  meta?: Record<string, unknown>;
}

export type Capability = "coherence" | "drift" | "corridor" | "topology";

export interface Profile {
  version: string;
  supports: Capability[];
  contact?: string;
  /** Metric label key: rtt_beacons_total{service=...} or {cluster=...}. */
  scope?: "service" | "cluster";
  /** Metric label value; defaults to the site name. */
  name?: string;
  /** Default latency budget for corridor analysis. */
  latency_budget_ms?: number;
}

export type DriftKind = "structure_change" | "baseline_drift" | "deploy_drift" | "missed_heartbeat";

export interface DriftEvent {
  id: number;
  site: string;
  kind: DriftKind;
  at: string;
  session: string;
  event: string;
  details: Record<string, unknown>;
}

export interface BeaconResponse {
  status: "ok";
  site: string;
  event: string;
  fingerprint: string;
  drift_state: "no_baseline" | "baseline" | "drifted" | "deploying";
  drift: DriftEvent[];
}

export interface SiteSummary {
  site: string;
  labels: { service: string } | { cluster: string };
  first_seen: string;
  last_seen: string;
  last_event: string;
  beacons: number;
  fingerprint: string;
  cadence_ms: number | null;
  overdue: boolean;
  drift_state: BeaconResponse["drift_state"];
  baseline_fingerprint: string | null;
  deploying: boolean;
  profile: Profile | null;
}

export type Constraint =
  | { type: "no_path" | "requires"; from: string; to: string }
  | { type: "max_hops"; from: string; to: string; max: number }
  | { type: "latency_budget_ms"; budget_ms: number; from?: string; to?: string }
  | { type: "no_cycles" };

export interface ValidatePayload {
  system_map: { services?: string[]; entrypoints?: string[]; nodes?: number; [k: string]: unknown };
  flows: Array<{ from: string; to: string; latency_ms?: number }>;
  constraints: Constraint[];
  /** The site the system is: its score is kept as rtt_coherence_score under the site's label (docs/api/rtt/metrics.md). */
  site?: string;
}

export interface Finding {
  severity: "error" | "warning" | "info";
  code: string;
  message: string;
  path: string;
  /** At most 100 (server limit); `subjects_omitted` counts the rest. */
  subjects?: string[];
  subjects_omitted?: number;
}

export interface ValidateResult {
  status: "ok";
  coherent: boolean;
  score: number;
  findings: Finding[];
  /** Findings left out of `findings` (at most 1,000 are sent, the most severe first); absent from older servers. */
  findings_omitted?: number;
  summary: { services: number; flows: number; constraints: number; checks: number; passed: number };
}

export interface CorridorPayload {
  flows: Array<{ path: string[]; latency_ms: number; hop_latency_ms?: number[]; budget_ms?: number; name?: string }>;
  constraints?: Constraint[];
  site?: string;
}

export interface HopLatency {
  from: string;
  to: string;
  latency_ms: number;
  estimated: boolean;
}

export interface CorridorResult {
  status: "ok";
  aligned: boolean;
  score: number | null;
  flows: Array<{
    index: number;
    name?: string;
    path: string[];
    hops: number;
    latency_ms: number;
    per_hop_ms: number;
    budget_ms: number | null;
    budget_source: "flow" | "constraint" | "global_constraint" | "profile" | null;
    slack_ms: number | null;
    within_budget: boolean | null;
    alignment: number | null;
    bottleneck: HopLatency;
  }>;
  edges: Array<{ from: string; to: string; flows: number; latency_ms: number; estimated: boolean }>;
  bottlenecks: Array<{ from: string; to: string; flows: number; latency_ms: number; estimated: boolean }>;
  findings: Finding[];
  /** Findings left out of `findings` (see ValidateResult). */
  findings_omitted?: number;
}

export interface TopologyPayload {
  graph: Record<string, string[]>;
}

export interface TopologyResult {
  status: "ok";
  nodes: number;
  edges: number;
  acyclic: boolean;
  components: string[][];
  cycles: string[][];
  layers: string[][];
  triad: { sources: string[]; transit: string[]; sinks: string[]; isolated: string[] };
  articulation_points: string[];
  bridges: Array<[string, string]>;
  degrees: Record<string, { fan_in: number; fan_out: number }>;
  max_fan_in: { node: string; value: number } | null;
  max_fan_out: { node: string; value: number } | null;
  findings: Finding[];
  /** Findings left out of `findings` (see ValidateResult). */
  findings_omitted?: number;
}
