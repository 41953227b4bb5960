import { existsSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { hashOf } from "../canonical.js";
import { FabricError } from "../errors.js";
import { readJsonFile } from "../json-file.js";
import type { FabricPaths } from "../paths.js";
import { assertSchema } from "../schemas.js";
import { enforceTrust } from "../trust/sign.js";
import type { TrustStore } from "../trust/store.js";
import { cmp, type Lane, pairKey } from "./types.js";

/** One desired route of .rtt/routes.json (spec/fabric/routes.schema.json). */
export interface RouteSpec {
  from: string;
  to: string;
  priority?: number;
  value?: number;
  lane?: Lane;
  control?: boolean;
}

export interface SymbolDecl {
  symbol: string;
  role?: "provides" | "consumes";
  version?: string;
  requires?: string;
  input_type?: string;
  output_type?: string;
  qos?: { latency_p99_ms?: number; cpu?: number; memory_mb?: number };
  [k: string]: unknown;
}

export interface ManifestDoc {
  manifest: string;
  version: string;
  symbols: SymbolDecl[];
  [k: string]: unknown;
}

export interface RouteMatch {
  from?: string;
  to?: string;
}

export interface PolicyDoc {
  strict?: boolean;
  acl?: { default?: "allow" | "deny"; allow?: RouteMatch[]; deny?: RouteMatch[] };
  qos?: Array<RouteMatch & { latency_p99_ms: number }>;
  pins?: Array<{ symbol: string; node: string }>;
  priorities?: Array<RouteMatch & { priority: number }>;
  [k: string]: unknown;
}

export interface NodeSpec {
  id: string;
  cpu: number;
  memory_mb: number;
  numa?: number;
  lanes?: Lane[];
}

export interface LatencyConstants {
  shm_ms: number;
  uds_ms: number;
  tcp_ms: number;
  numa_hop_ms: number;
}

export interface TopologyDoc {
  nodes: NodeSpec[];
  numa_distance?: number[][];
  latency?: Partial<LatencyConstants>;
}

/** The four inputs, normalised (every order that carries no meaning sorted), with their hashes. */
export interface PlannerInputs {
  routes: RouteSpec[];
  /** Sorted by manifest name. */
  manifests: ManifestDoc[];
  policy: PolicyDoc;
  topology: TopologyDoc;
  /** "sha256:…" over the four normalised inputs (= hash of `files`). */
  hash: string;
  /** Per input: routes, manifests, policy, topology. */
  files: Record<string, string>;
  /** Trust warnings about manifests (unsigned or unknown signer outside strict mode). */
  warnings: string[];
  strict: boolean;
}

const byMatch = (a: RouteMatch, b: RouteMatch) => cmp(a.from ?? "", b.from ?? "") || cmp(a.to ?? "", b.to ?? "");

/**
 * Puts the inputs in their one canonical order: routes by (from, to), manifests by name, their symbols by (symbol,
 * role), policy rules and pins by their patterns, nodes by id. Pure: the documents given are not changed. Refuses a
 * (from, to) pair listed twice (RTT_FABRIC_INVALID naming it), since its two entries could disagree.
 */
export function normaliseInputs(
  raw: { routes: { routes: RouteSpec[] }; manifests: ManifestDoc[]; policy: PolicyDoc; topology: TopologyDoc },
  where: { routes: string; manifests: string; policy: string; topology: string },
): Omit<PlannerInputs, "hash" | "files" | "warnings" | "strict"> {
  const routes = [...raw.routes.routes].sort((a, b) => cmp(a.from, b.from) || cmp(a.to, b.to));
  for (let i = 1; i < routes.length; i++) {
    const a = routes[i - 1];
    const b = routes[i];
    if (a && b && pairKey(a.from, a.to) === pairKey(b.from, b.to))
      throw new FabricError("RTT_FABRIC_INVALID", `route ${b.from} -> ${b.to} is listed twice`, where.routes);
  }
  const manifests = raw.manifests
    .map((m) => ({
      ...m,
      symbols: [...m.symbols].sort(
        (a, b) => cmp(a.symbol, b.symbol) || cmp(a.role ?? "provides", b.role ?? "provides"),
      ),
    }))
    .sort((a, b) => cmp(a.manifest, b.manifest));
  for (let i = 1; i < manifests.length; i++)
    if (manifests[i]?.manifest === manifests[i - 1]?.manifest)
      throw new FabricError(
        "RTT_FABRIC_INVALID",
        `manifest ${manifests[i]?.manifest} is defined by two files`,
        where.manifests,
      );
  const p = raw.policy;
  const policy: PolicyDoc = { ...p };
  if (p.acl)
    policy.acl = {
      ...p.acl,
      ...(p.acl.allow ? { allow: [...p.acl.allow].sort(byMatch) } : {}),
      ...(p.acl.deny ? { deny: [...p.acl.deny].sort(byMatch) } : {}),
    };
  if (p.qos) policy.qos = [...p.qos].sort((a, b) => byMatch(a, b) || a.latency_p99_ms - b.latency_p99_ms);
  if (p.pins) policy.pins = [...p.pins].sort((a, b) => cmp(a.symbol, b.symbol) || cmp(a.node, b.node));
  if (p.priorities) policy.priorities = [...p.priorities].sort((a, b) => byMatch(a, b) || a.priority - b.priority);
  const topology: TopologyDoc = {
    ...raw.topology,
    nodes: [...raw.topology.nodes]
      .map((n) => (n.lanes ? { ...n, lanes: [...n.lanes].sort(cmp) } : n))
      .sort((a, b) => cmp(a.id, b.id)),
  };
  return { routes, manifests, policy, topology };
}

/** Hashes of the normalised inputs: one per input and the whole. */
export function hashInputs(n: Omit<PlannerInputs, "hash" | "files" | "warnings" | "strict">): {
  hash: string;
  files: Record<string, string>;
} {
  const files = {
    manifests: `sha256:${hashOf(n.manifests)}`,
    policy: `sha256:${hashOf(n.policy)}`,
    routes: `sha256:${hashOf(n.routes)}`,
    topology: `sha256:${hashOf(n.topology)}`,
  };
  return { hash: `sha256:${hashOf(files)}`, files };
}

export interface LoadInputsOptions {
  /** Strict mode (policy or --strict): every manifest must be signed by a trusted key. */
  strict: boolean;
  /** Trust store for manifest signatures; loaded by the caller only when needed. */
  store: () => TrustStore;
}

/** The .json files of the manifests folder, sorted; symlinks and folders skipped (named in `skipped`). */
function manifestFiles(dir: string): { files: string[]; skipped: string[] } {
  if (!existsSync(dir)) return { files: [], skipped: [] };
  const files: string[] = [];
  const skipped: string[] = [];
  for (const name of readdirSync(dir).sort(cmp)) {
    if (!name.endsWith(".json")) continue;
    const path = join(dir, name);
    if (lstatSync(path).isFile()) files.push(path);
    else skipped.push(path);
  }
  return { files, skipped };
}

/**
 * Reads .rtt/routes.json, .rtt/manifests/*.json, .rtt/policy.json (optional) and .rtt/topology.json, checks each
 * against its schema in spec/fabric/ (RTT_FABRIC_NOT_JSON / RTT_FABRIC_INVALID naming the file), applies the trust
 * rule to every manifest (a bad or revoked signature always refuses; strict mode refuses unsigned and unknown
 * signers: RTT_FABRIC_UNTRUSTED), and returns them normalised and hashed.
 */
export function loadInputs(paths: FabricPaths, opts: LoadInputsOptions): PlannerInputs {
  const routes = readJsonFile(paths.routes);
  assertSchema("routes", routes, paths.routes);
  const topology = readJsonFile(paths.topology);
  assertSchema("topology", topology, paths.topology);
  let policy: unknown = {};
  if (existsSync(paths.policy)) {
    policy = readJsonFile(paths.policy);
    assertSchema("policy", policy, paths.policy);
  }
  const warnings: string[] = [];
  const { files, skipped } = manifestFiles(paths.manifests);
  for (const s of skipped) warnings.push(`${s}: not a regular file, skipped`);
  let store: TrustStore | undefined;
  const manifests = files.map((file) => {
    const m = readJsonFile(file);
    assertSchema("manifest", m, file);
    const signed = Object.hasOwn(m as object, "sign");
    if (signed || opts.strict) {
      store ??= opts.store();
      const r = enforceTrust(m, file, { strict: opts.strict, store });
      if (r.status !== "valid") warnings.push(`${file}: ${r.reason}`);
    }
    const { sign: _sign, ...body } = m as ManifestDoc & { sign?: unknown };
    return body as ManifestDoc;
  });
  const n = normaliseInputs(
    {
      routes: routes as { routes: RouteSpec[] },
      manifests,
      policy: policy as PolicyDoc,
      topology: topology as TopologyDoc,
    },
    { routes: paths.routes, manifests: paths.manifests, policy: paths.policy, topology: paths.topology },
  );
  return { ...n, ...hashInputs(n), warnings, strict: opts.strict };
}
