import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { type ObjectStore, Objm } from "@nats-io/obj";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { writeFileAtomic } from "../atomic.js";
import { type ClusterNames, clusterNames } from "./names.js";

export const DEFAULT_NATS = "nats://127.0.0.1:4222";
/** How long a connect (TCP + INFO + JetStream account check) may take before the node runs alone. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 2000;

export interface ConnectOptions {
  /** NATS URLs (comma-separated in a string); default RTT_NATS_URL, else nats://127.0.0.1:4222. */
  servers?: string | string[];
  connectTimeoutMs?: number;
  namespace?: string;
  /** Replicas of the buckets and the stream (R3 on a three-server cluster); default 1. */
  replicas?: number;
  /**
   * Reconnect after the connection drops (a long-running node: default); one-shot commands turn it off so a lost
   * server fails their requests at once. The first connect never retries: it is bounded by connectTimeoutMs.
   */
  reconnect?: boolean;
}

/** An open connection with the cluster's buckets and stream (created on first use, idempotently). */
export interface ClusterConn {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: ClusterNames;
  plans: KV;
  nodes: KV;
  cas: () => Promise<ObjectStore>;
  servers: string[];
  close(): Promise<void>;
}

export const serversOf = (s: ConnectOptions["servers"]): string[] => {
  const list = s ?? process.env.RTT_NATS_URL ?? DEFAULT_NATS;
  return (Array.isArray(list) ? list : list.split(",")).map((x) => x.trim()).filter(Boolean);
};

/** Rejects after `ms` with `what` (connect's own timeout covers the handshake; this bounds the whole start). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Connects and makes sure the cluster's JetStream objects exist. Bounded: every step shares one deadline of
 * `connectTimeoutMs`; it throws (the caller falls back to single-node mode) instead of hanging or reconnecting.
 */
export async function openCluster(opts: ConnectOptions = {}): Promise<ClusterConn> {
  const servers = serversOf(opts.servers);
  const ms = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const names = clusterNames(opts.namespace);
  const replicas = opts.replicas ?? 1;
  const deadline = Date.now() + ms;
  const left = () => Math.max(1, deadline - Date.now());
  const nc = await within(
    connect({ servers, timeout: ms, maxReconnectAttempts: opts.reconnect === false ? 0 : -1, name: "rtt-fabric" }),
    ms,
    `connect to ${servers.join(",")}`,
  );
  try {
    const jsm = await within(jetstreamManager(nc, { timeout: ms }), left(), "JetStream");
    const js = jetstream(nc, { timeout: Math.max(ms, 5000) });
    const kvm = new Kvm(js);
    const plans = await within(kvm.create(names.plans, { history: 64, replicas }), left(), `KV ${names.plans}`);
    const nodes = await within(kvm.create(names.nodes, { history: 1, replicas }), left(), `KV ${names.nodes}`);
    await within(ensureStream(jsm, names, replicas), left(), `stream ${names.stream}`);
    let cas: ObjectStore | undefined;
    return {
      nc,
      js,
      jsm,
      names,
      plans,
      nodes,
      servers,
      cas: async () => {
        cas ??= await new Objm(js).create(names.cas, { replicas });
        return cas;
      },
      close: async () => {
        await nc.drain().catch(() => nc.close());
      },
    };
  } catch (e) {
    await nc.close().catch(() => {});
    throw e;
  }
}

async function ensureStream(jsm: JetStreamManager, names: ClusterNames, replicas: number): Promise<void> {
  try {
    await jsm.streams.info(names.stream);
    return;
  } catch {}
  try {
    await jsm.streams.add({ name: names.stream, subjects: [`${names.subject}.>`], num_replicas: replicas });
  } catch (e) {
    // Another node created it between our info and add.
    if (!/already in use|already exists/i.test((e as Error).message)) throw e;
  }
}

/** `.rtt/cluster/state.json`: what the node remembers about the cluster between runs (warnings counted). */
export interface ClusterLocalState {
  single_node_warnings: number;
  last_warning: string | null;
  last_warning_at: string | null;
}

export const clusterStateFile = (root: string) => join(root, "cluster", "state.json");

export function readClusterState(root: string): ClusterLocalState {
  const file = clusterStateFile(root);
  const empty: ClusterLocalState = { single_node_warnings: 0, last_warning: null, last_warning_at: null };
  if (!existsSync(file)) return empty;
  try {
    return { ...empty, ...(JSON.parse(readFileSync(file, "utf8")) as Partial<ClusterLocalState>) };
  } catch {
    return empty;
  }
}

/** Counts one "running alone" warning (the count survives restarts; `rtt cluster status` shows it). */
export function countWarning(root: string, warning: string): ClusterLocalState {
  const s = readClusterState(root);
  const next: ClusterLocalState = {
    single_node_warnings: s.single_node_warnings + 1,
    last_warning: warning,
    last_warning_at: new Date().toISOString(),
  };
  try {
    writeFileAtomic(clusterStateFile(root), `${JSON.stringify(next, null, 2)}\n`, { durable: false });
  } catch {}
  return next;
}
