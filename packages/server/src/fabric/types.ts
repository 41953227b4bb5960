/**
 * Wire types of the Fabric view's read routes (/fabric/*). Self-contained on purpose: `@rtt/server/api` re-exports
 * them type-only for the web UI, which must not follow them into @rtt/fabric's declarations.
 */

/** A signature's check against the fabric's trust store (@rtt/fabric's VerifyStatus). */
export type FabricSignatureStatus = "valid" | "unsigned" | "bad_signature" | "unknown_key" | "revoked";

export interface FabricSignature {
  status: FabricSignatureStatus;
  key_id: string | null;
  /** Why it is not valid (absent when valid). */
  reason?: string;
}

/** A route breaker's state (Envoy's: closed passes calls, open refuses them, half-open probes). */
export type FabricBreakerState = "closed" | "open" | "half-open";

/** One route of the table the daemon serves (or, with no daemon, of the plan in force). */
export interface FabricRouteRow {
  route_id: number;
  from: string;
  to: string;
  lane: string;
  /** Where the plan in force placed each end (a topology node id), null when it does not say. */
  placement: { from: string | null; to: string | null };
  /** Live counters from the daemon; null without one. */
  calls: number | null;
  ok: number | null;
  errors: number | null;
  inflight: number | null;
  p50_us: number | null;
  p99_us: number | null;
  /** The endpoint of `to` is up (null without a daemon). */
  healthy: boolean | null;
  /** The route's breaker (null without a daemon or when the daemon reports none). */
  breaker: FabricBreakerState | null;
  /** Caps at their limit now (breaker). */
  caps_open: string[];
  /** Calls this route dropped, by reason (breaker refusals, overload, …). */
  drops: Record<string, number>;
}

/** `GET /fabric/status`. */
export interface FabricStatus {
  /** The fabric root served (absolute). */
  root: string;
  /** When the server read it (epoch ms). */
  t: number;
  /** The daemon answering on `<root>/fabric.sock`, or null (then `daemon_error` says why). */
  daemon: {
    pid: number;
    started: string | null;
    socket: string;
    tcp: string | null;
    auth: string | null;
    inflight: number;
    retiring: number;
  } | null;
  daemon_error: string | null;
  /** The plan whose table is listed: the daemon's, else the WAL's plan in force. */
  plan_id: string | null;
  /** The WAL's plan in force (may differ from the daemon's while a transition runs). */
  plan_in_force: string | null;
  routes: FabricRouteRow[];
  /** Drops by lane and reason, plus `total` (daemon only; empty without one). */
  drops: Record<string, Record<string, number>>;
  problems: string[];
}

/** One commit of the WAL, newest first in `FabricPlans.history`. */
export interface FabricCommit {
  /** Position among commits: the Merkle leaf index. */
  index: number;
  /** WAL record number of the commit. */
  seq: number;
  plan_id: string;
  /** This commit's plan is the plan in force now (after rollbacks) and this is its latest commit. */
  in_force: boolean;
  /** From the prepare record: the plan it was computed against and its size. */
  base: string | null;
  routes: number | null;
  add: number | null;
  remove: number | null;
  /** The stored plan's signature (null when the plan file is missing: see `problem`). */
  signature: FabricSignature | null;
  proof: {
    /** The audit path leads from this commit's leaf to `root`. */
    ok: boolean;
    leaf_index: number;
    tree_size: number;
    audit_path: number;
    root: string;
    /** The checkpoint holding `root`, or null when the proof is against the whole tree now (no checkpoint yet). */
    checkpoint: { seq: number | null; tree_size: number; signature: FabricSignature } | null;
  } | null;
  problem?: string;
}

/** A WAL record that is not a commit: rollbacks, aborts, checkpoints, a prepare still undecided. */
export interface FabricWalEvent {
  seq: number;
  type: "prepare" | "abort" | "rollback" | "checkpoint";
  plan_id: string | null;
  to?: string | null;
  reason?: string;
  tree_size?: number;
}

/** `GET /fabric/plans`: the plan in force and the history of commits from the WAL. */
export interface FabricPlans {
  wal: string;
  /** Whether a WAL exists (none: nothing was ever applied). */
  exists: boolean;
  current: string | null;
  pending: string | null;
  records: number;
  commits: number;
  checkpoints: Array<{ seq: number; tree_size: number; root: string; root_ok: boolean; signature: FabricSignature }>;
  /** The plan in force: its table, placement and signature (null before the first commit). */
  plan: {
    plan_id: string;
    base: string | null;
    inputs_hash: string | null;
    routes: Array<{ route_id: number; from: string; to: string; lane: string }>;
    placement: Record<string, string>;
    rejected: Array<{ from: string; to: string; code: string; reason: string }>;
    signature: FabricSignature;
  } | null;
  /** Newest first, at most `limit`. */
  history: FabricCommit[];
  /** Non-commit records, newest first, at most `limit`. */
  events: FabricWalEvent[];
  /** The WAL's own problems (checkpoint roots, signatures) and unreadable plan files. */
  problems: string[];
}

/** `GET /fabric/graph`: symbols (nodes, by placement) and routes (edges) of the table served. */
export interface FabricGraph {
  plan_id: string | null;
  /** Placement targets in the order the nodes are grouped (topology node ids; "unplaced" last when needed). */
  placements: string[];
  symbols: Array<{ id: string; placement: string; role: "from" | "to" | "both" | "none" }>;
  routes: Array<{
    route_id: number;
    from: string;
    to: string;
    lane: string;
    breaker: FabricBreakerState | null;
    healthy: boolean | null;
  }>;
}
