/**
 * The JetStream names of one cluster (spec/fabric/cluster.md). A namespace keeps independent clusters (and tests)
 * apart on one NATS server: "" gives the documented names `rtt-cas`, `rtt-plans`, `rtt-nodes`, `RTT_2PC`, `rtt.2pc.>`.
 */
export interface ClusterNames {
  /** Object Store of registry objects, named by their SHA-256 hex. */
  cas: string;
  /** KV bucket: `head` (the plan in force across the cluster) and `plan.<hex>` (signed plan bodies). */
  plans: string;
  /** KV bucket: one heartbeat per node (its plan in force, the head revision it reached). */
  nodes: string;
  /** Stream of 2PC records (prepare votes, the decision, done reports). */
  stream: string;
  /** Subject prefix of that stream: `<prefix>.<plan hex>.{prepare.<node>|decision|done.<node>}`. */
  subject: string;
}

const NS_RE = /^[a-z0-9-]{0,32}$/;
/** Node names become subject tokens and KV keys. */
export const NODE_RE = /^[A-Za-z0-9_-]{1,64}$/;

export function clusterNames(namespace = ""): ClusterNames {
  if (!NS_RE.test(namespace)) throw new Error(`cluster namespace must match ${NS_RE}: ${namespace}`);
  const ns = namespace ? `-${namespace}` : "";
  return {
    cas: `rtt${ns}-cas`,
    plans: `rtt${ns}-plans`,
    nodes: `rtt${ns}-nodes`,
    stream: `RTT${ns.replaceAll("-", "_").toUpperCase()}_2PC`,
    subject: `rtt${ns.replaceAll("-", "_")}.2pc`,
  };
}

/** `sha256:<hex>` → `<hex>` (subject tokens and KV keys cannot hold a colon). */
export const planHex = (planId: string): string => planId.replace(/^sha256:/, "");
