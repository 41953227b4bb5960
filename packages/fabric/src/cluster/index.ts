/** Multi-node on NATS JetStream (seed 004 "Multi-Node Cluster", issue 17: 7); spec/fabric/cluster.md. */

export { localHashes, type SyncProblem, type SyncReport, syncRegistry } from "./cas-sync.js";
export {
  type ClusterConn,
  type ClusterLocalState,
  type ConnectOptions,
  clusterStateFile,
  countWarning,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_NATS,
  openCluster,
  readClusterState,
  serversOf,
} from "./connect.js";
export { CLUSTER_CRASH_POINTS, type ClusterCrashPoint } from "./crash.js";
export { ClusterGate } from "./gate.js";
export { type ClusterNames, clusterNames, NODE_RE, planHex } from "./names.js";
export {
  type ClusterApplyResult,
  ClusterNode,
  type ClusterNodeOptions,
  type ClusterStatus,
  type NodeBeat,
  type NodeCounters,
  type NodeStatus,
} from "./node.js";
export { getPlanBody, type HeadEntry, moveHead, type PlanHead, putPlanBody, readHead } from "./plans.js";
export {
  type AbortCode,
  type DecisionRecord,
  type DoneRecord,
  decideVotes,
  type PrepareRecord,
  readDecision,
  type TxRecord,
  TxWatch,
} from "./twopc.js";
