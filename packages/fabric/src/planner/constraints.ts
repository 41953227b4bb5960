import { FabricError } from "../errors.js";
import type { LatencyConstants, ManifestDoc, PlannerInputs, RouteMatch, SymbolDecl } from "./inputs.js";
import { chooseLane, latencyConstants, routeLatency } from "./latency-model.js";
import { meet } from "./semver-meet.js";
import { cmp, type Lane } from "./types.js";

/**
 * Every planner constraint's stable code (spec/fabric/planner.md). A route that breaks one is listed in the plan's
 * `rejected` with the code and a reason naming it; `rtt plan explain` shows every check of a route.
 */
export const PLAN_CODES = {
  RTT_PLAN_UNKNOWN_SYMBOL: "a route end is declared by no manifest (or `to` is not provided by any)",
  RTT_PLAN_TYPE_MISMATCH: "from's output_type is not to's input_type",
  RTT_PLAN_SEMVER: "the caller's `requires` range and the provider's versions do not meet",
  RTT_PLAN_ACL_DENIED: "policy.json's ACL refuses the route",
  RTT_PLAN_QOS_BUDGET: "no lane and placement keeps the modelled p99 within the route's latency budget",
  RTT_PLAN_CAPACITY: "an end needs more CPU or memory than any node it may use has",
  RTT_PLAN_PLACEMENT: "pins, lanes or NUMA distances leave no pair of nodes for the two ends",
  RTT_PLAN_ADMISSION: "capacity went to routes of higher priority or value (admission control)",
} as const;
export type PlanCode = keyof typeof PLAN_CODES;

export interface Check {
  code: PlanCode;
  constraint: string;
  ok: boolean;
  detail: string;
}

export interface ModelNode {
  id: string;
  cpu: number;
  mem: number;
  numa: number;
  shm: boolean;
  uds: boolean;
}

export interface ModelRoute {
  from: string;
  to: string;
  /** Symbol indexes of the ends (-1: unknown). */
  f: number;
  t: number;
  priority: number;
  value: number;
  lane?: Lane;
  control: boolean;
  /** ms; Infinity when no budget applies. */
  budget: number;
  budgetFrom: string;
  /** The provider's own p99 (ms). */
  endpointMs: number;
  checks: Check[];
  /** The first failing static check, if any. */
  fail?: Check;
}

export interface Model {
  nodes: ModelNode[];
  /** SLIT distance between nodes i and j: dist[i * N + j]. */
  dist: Float64Array;
  symbols: string[];
  symIndex: Map<string, number>;
  cpu: Float64Array;
  mem: Float64Array;
  /** Pinned node index or -1. */
  pin: Int32Array;
  routes: ModelRoute[];
  latency: LatencyConstants;
}

const globCache = new Map<string, RegExp>();
/** A symbol glob: `*` matches within one path segment, `**` across segments; everything else literally. */
export function globRe(glob: string): RegExp {
  let re = globCache.get(glob);
  if (!re) {
    const body = glob
      .split("**")
      .map((part) =>
        part
          .split("*")
          .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
          .join("[^/]*"),
      )
      .join(".*");
    re = new RegExp(`^${body}$`);
    globCache.set(glob, re);
  }
  return re;
}
const matches = (m: RouteMatch, from: string, to: string) =>
  (m.from === undefined || globRe(m.from).test(from)) && (m.to === undefined || globRe(m.to).test(to));
const describeMatch = (m: RouteMatch) => `{from: ${m.from ?? "*"}, to: ${m.to ?? "*"}}`;

interface Decls {
  provides?: SymbolDecl & { manifest: string; mversion: string };
  consumes?: SymbolDecl & { manifest: string; mversion: string };
}

/** Symbol → its provides and consumes declarations; two manifests providing one symbol are contradictory. */
function declarations(manifests: ManifestDoc[], where: string): Map<string, Decls> {
  const out = new Map<string, Decls>();
  for (const m of manifests)
    for (const d of m.symbols) {
      const role = d.role ?? "provides";
      const e = out.get(d.symbol) ?? {};
      const prev = e[role];
      if (prev)
        throw new FabricError(
          "RTT_FABRIC_INVALID",
          `${d.symbol} is declared with role ${role} by both manifest ${prev.manifest} and manifest ${m.manifest}`,
          where,
        );
      e[role] = { ...d, manifest: m.manifest, mversion: m.version };
      out.set(d.symbol, e);
    }
  return out;
}

/** Refuses a topology no plan can use: duplicate ids, NUMA ids outside the matrix, a matrix that is not a metric. */
function checkTopology(inputs: PlannerInputs, where: string): { nodes: ModelNode[]; dist: Float64Array } {
  const t = inputs.topology;
  const bad = (why: string) => new FabricError("RTT_FABRIC_INVALID", `impossible topology: ${why}`, where);
  const matrix = t.numa_distance ?? [[10]];
  const k = matrix.length;
  if (k === 0) throw bad("numa_distance is empty");
  for (let i = 0; i < k; i++) {
    const row = matrix[i] ?? [];
    if (row.length !== k) throw bad(`numa_distance row ${i} has ${row.length} entries, not ${k}`);
    if (row[i] !== 10) throw bad(`numa_distance[${i}][${i}] is ${row[i]}, not 10 (local)`);
    for (let j = 0; j < k; j++)
      if (row[j] !== matrix[j]?.[i]) throw bad(`numa_distance is not symmetric at [${i}][${j}]`);
  }
  const nodes: ModelNode[] = [];
  const seen = new Set<string>();
  for (const n of t.nodes) {
    if (seen.has(n.id)) throw bad(`node ${n.id} is listed twice`);
    seen.add(n.id);
    const numa = n.numa ?? 0;
    if (numa >= k) throw bad(`node ${n.id} is on NUMA node ${numa}, but numa_distance has ${k}`);
    const lanes = n.lanes ?? ["shm", "uds", "tcp"];
    nodes.push({
      id: n.id,
      cpu: n.cpu,
      mem: n.memory_mb,
      numa,
      shm: lanes.includes("shm"),
      uds: lanes.includes("uds"),
    });
  }
  const N = nodes.length;
  const dist = new Float64Array(N * N);
  for (let i = 0; i < N; i++)
    for (let j = 0; j < N; j++) dist[i * N + j] = matrix[nodes[i]?.numa ?? 0]?.[nodes[j]?.numa ?? 0] ?? 10;
  return { nodes, dist };
}

export interface ModelPaths {
  routes: string;
  manifests: string;
  policy: string;
  topology: string;
}

/**
 * Builds the planner's model from normalised inputs and runs every check that does not depend on placement (known
 * symbols, types, semver meet, ACL, best-case QoS, capacity, pins). Refuses inputs that are contradictory as a whole
 * (RTT_FABRIC_INVALID naming the file): an impossible topology, a symbol provided twice, pins to unknown nodes or two
 * pins putting one symbol on two nodes, one route pattern both allowed and denied.
 */
export function buildModel(inputs: PlannerInputs, where: ModelPaths): Model {
  const { nodes, dist } = checkTopology(inputs, where.topology);
  const N = nodes.length;
  const nodeIndex = new Map(nodes.map((n, i) => [n.id, i]));
  const decls = declarations(inputs.manifests, where.manifests);
  const policy = inputs.policy;
  const latency = latencyConstants(inputs.topology);

  const allow = policy.acl?.allow ?? [];
  const deny = policy.acl?.deny ?? [];
  for (const d of deny)
    if (allow.some((a) => a.from === d.from && a.to === d.to))
      throw new FabricError(
        "RTT_FABRIC_INVALID",
        `contradictory policy: acl allows and denies the same routes ${describeMatch(d)}`,
        where.policy,
      );
  for (const p of policy.pins ?? [])
    if (!nodeIndex.has(p.node))
      throw new FabricError("RTT_FABRIC_INVALID", `pin ${p.symbol} -> ${p.node}: no such node`, where.policy);

  const symSet = new Set<string>();
  for (const r of inputs.routes) {
    if (decls.has(r.from)) symSet.add(r.from);
    if (decls.get(r.to)?.provides) symSet.add(r.to);
  }
  const symbols = [...symSet].sort(cmp);
  const symIndex = new Map(symbols.map((s, i) => [s, i]));
  const S = symbols.length;
  const cpu = new Float64Array(S);
  const mem = new Float64Array(S);
  const pin = new Int32Array(S).fill(-1);
  const pinned = (policy.pins ?? []).map((p) => ({ ...p, re: globRe(p.symbol) }));
  for (let i = 0; i < S; i++) {
    const s = symbols[i] as string;
    const d = decls.get(s);
    const decl = d?.provides ?? d?.consumes;
    cpu[i] = decl?.qos?.cpu ?? 0;
    mem[i] = decl?.qos?.memory_mb ?? 0;
    let by: string | undefined;
    for (const p of pinned) {
      if (!p.re.test(s)) continue;
      const n = nodeIndex.get(p.node) ?? -1;
      if (pin[i] !== -1 && pin[i] !== n)
        throw new FabricError(
          "RTT_FABRIC_INVALID",
          `contradictory policy: ${s} is pinned to ${nodes[pin[i] ?? 0]?.id} (by ${by}) and to ${p.node} (by ${p.symbol})`,
          where.policy,
        );
      pin[i] = n;
      by = p.symbol;
    }
  }

  const model: Model = { nodes, dist, symbols, symIndex, cpu, mem, pin, routes: [], latency };
  for (const r of inputs.routes) model.routes.push(routeChecks(model, r, decls, inputs, N));
  return model;
}

function routeChecks(
  model: Model,
  r: PlannerInputs["routes"][number],
  decls: Map<string, Decls>,
  inputs: PlannerInputs,
  N: number,
): ModelRoute {
  const policy = inputs.policy;
  const checks: Check[] = [];
  const add = (code: PlanCode, constraint: string, ok: boolean, detail: string) =>
    checks.push({ code, constraint, ok, detail });
  const name = `route ${r.from} -> ${r.to}`;
  const df = decls.get(r.from);
  const dt = decls.get(r.to);
  const caller = df?.consumes ?? df?.provides;
  const provider = dt?.provides;
  const f = model.symIndex.get(r.from) ?? -1;
  const t = model.symIndex.get(r.to) ?? -1;

  let priority = r.priority ?? 0;
  for (const p of policy.priorities ?? []) if (matches(p, r.from, r.to)) priority = Math.max(priority, p.priority);
  let budget = Number.POSITIVE_INFINITY;
  let budgetFrom = "none";
  for (const q of policy.qos ?? [])
    if (matches(q, r.from, r.to) && q.latency_p99_ms < budget) {
      budget = q.latency_p99_ms;
      budgetFrom = `policy qos ${describeMatch(q)}`;
    }
  const own = df?.consumes?.qos?.latency_p99_ms;
  if (own !== undefined && own < budget) {
    budget = own;
    budgetFrom = `${r.from}'s qos.latency_p99_ms`;
  }
  const endpointMs = provider?.qos?.latency_p99_ms ?? 0;
  const mr: ModelRoute = {
    from: r.from,
    to: r.to,
    f,
    t,
    priority,
    value: r.value ?? 1,
    ...(r.lane ? { lane: r.lane } : {}),
    control: r.control === true,
    budget,
    budgetFrom,
    endpointMs,
    checks,
  };

  // 1. known symbols
  const unknown = !caller ? r.from : !provider ? r.to : undefined;
  add(
    "RTT_PLAN_UNKNOWN_SYMBOL",
    "symbols",
    !unknown,
    unknown
      ? `${name}: ${unknown} is ${unknown === r.to && dt ? "declared but provided by no manifest" : "declared by no manifest"}`
      : `${r.from} (manifest ${caller?.manifest}) and ${r.to} (manifest ${provider?.manifest}) are declared`,
  );
  // 2. types
  const out = caller?.output_type;
  const inp = provider?.input_type;
  add(
    "RTT_PLAN_TYPE_MISMATCH",
    "type",
    out === undefined || inp === undefined || out === inp,
    out === undefined || inp === undefined
      ? `untyped end (${r.from} output_type ${out ?? "unset"}, ${r.to} input_type ${inp ?? "unset"}): not checked`
      : out === inp
        ? `${r.from} outputs ${out}, ${r.to} takes ${inp}`
        : `${name}: ${r.from} outputs ${out} but ${r.to} takes ${inp}`,
  );
  // 3. semver meet: the caller's requires against the provider's served range (its requires) or its version
  const want = caller?.requires ?? "*";
  const serves = provider?.requires ?? provider?.version ?? provider?.mversion ?? "*";
  const m = provider ? meet(want, serves) : { sets: ["*"], range: "*" };
  add(
    "RTT_PLAN_SEMVER",
    "semver",
    m !== undefined && m.range !== null,
    m === undefined
      ? `${name}: not a semver range: ${JSON.stringify(want)} or ${JSON.stringify(serves)}`
      : m.range === null
        ? `${name}: ${r.from} requires ${want}, ${r.to} serves ${serves}: the ranges do not meet`
        : `${r.from} requires ${want}, ${r.to} serves ${serves}: meet ${m.range}`,
  );
  // 4. ACL
  const denied = (policy.acl?.deny ?? []).find((d) => matches(d, r.from, r.to));
  const allowed = (policy.acl?.allow ?? []).find((a) => matches(a, r.from, r.to));
  const dflt = policy.acl?.default ?? "allow";
  const aclOk = !denied && (dflt === "allow" || allowed !== undefined);
  add(
    "RTT_PLAN_ACL_DENIED",
    "acl",
    aclOk,
    denied
      ? `${name}: denied by acl rule ${describeMatch(denied)}`
      : !aclOk
        ? `${name}: acl default is deny and no allow rule matches`
        : allowed
          ? `allowed by acl rule ${describeMatch(allowed)}`
          : "allowed (acl default allow)",
  );
  // 5. capacity: each end must fit, alone, on some node it may use
  const nodes = model.nodes;
  const fits = (s: number, n: number) =>
    (nodes[n]?.cpu ?? 0) >= (model.cpu[s] ?? 0) && (nodes[n]?.mem ?? 0) >= (model.mem[s] ?? 0);
  const allowedNodes = (s: number) => {
    const p = model.pin[s] ?? -1;
    return p >= 0 ? [p] : nodes.map((_, i) => i);
  };
  let capOk = true;
  let capDetail = "both ends fit on some node";
  for (const s of [f, t]) {
    if (s < 0 || !capOk) continue;
    if (!allowedNodes(s).some((n) => fits(s, n))) {
      capOk = false;
      capDetail = `${name}: ${model.symbols[s]} needs cpu ${model.cpu[s]}, memory_mb ${model.mem[s]}; no node it may use${(model.pin[s] ?? -1) >= 0 ? ` (pinned to ${nodes[model.pin[s] ?? 0]?.id})` : ""} has that much`;
    }
  }
  // 6. QoS budget and 7. placement (pins, lanes, NUMA): over every allowed pair of nodes, best case
  let bestLat = Number.POSITIVE_INFINITY;
  let anyPair = false;
  if (f >= 0 && t >= 0) {
    for (const a of allowedNodes(f))
      for (const b of allowedNodes(t)) {
        if (f === t && a !== b) continue;
        if (!fits(f, a) || !fits(t, b)) continue;
        if (a === b && f !== t && !fitsBoth(model, f, t, a)) continue;
        const lane = laneOf(model, mr, a, b);
        if (!lane) continue;
        anyPair = true;
        const lat = routeLatency(model.latency, lane, model.dist[a * N + b] ?? 10, endpointMs);
        if (lat < bestLat) bestLat = lat;
      }
  }
  add("RTT_PLAN_CAPACITY", "capacity", capOk, capDetail);
  const known = f >= 0 && t >= 0;
  add(
    "RTT_PLAN_PLACEMENT",
    "placement",
    !known || !capOk || anyPair,
    !known || !capOk
      ? "not checked"
      : anyPair
        ? "some pair of nodes holds both ends with a usable lane"
        : `${name}: no pair of nodes holds both ends${mr.lane ? ` with the required lane ${mr.lane}` : ""} (pins: ${pinText(model, f)}, ${pinText(model, t)})`,
  );
  add(
    "RTT_PLAN_QOS_BUDGET",
    "qos",
    !anyPair || bestLat <= budget,
    budget === Number.POSITIVE_INFINITY
      ? "no latency budget"
      : !anyPair
        ? `budget ${budget} ms (${budgetFrom}): not checked`
        : bestLat <= budget
          ? `best modelled p99 ${round(bestLat)} ms within budget ${budget} ms (${budgetFrom})`
          : `${name}: best modelled p99 ${round(bestLat)} ms exceeds the budget ${budget} ms (${budgetFrom})`,
  );
  const fail = checks.find((c) => !c.ok);
  if (fail) mr.fail = fail;
  return mr;
}

const pinText = (m: Model, s: number) =>
  `${m.symbols[s]} ${(m.pin[s] ?? -1) >= 0 ? `pinned to ${m.nodes[m.pin[s] ?? 0]?.id}` : "unpinned"}`;

export const round = (x: number): number => Math.round(x * 1e6) / 1e6;

/** Both symbols together fit on node n (with nothing else there). */
export function fitsBoth(m: Model, a: number, b: number, n: number): boolean {
  const node = m.nodes[n];
  if (!node) return false;
  return (m.cpu[a] ?? 0) + (m.cpu[b] ?? 0) <= node.cpu && (m.mem[a] ?? 0) + (m.mem[b] ?? 0) <= node.mem;
}

/** The lane of route r with its ends on nodes a and b, or null when its required lane is impossible there. */
export function laneOf(m: Model, r: ModelRoute, a: number, b: number): Lane | null {
  const na = m.nodes[a];
  if (!na) return null;
  return chooseLane(a === b, { shm: na.shm, uds: na.uds }, r);
}

/** Modelled p99 (ms) of r on (a, b) with lane `lane`. */
export function latencyOf(m: Model, r: ModelRoute, lane: Lane, a: number, b: number): number {
  return routeLatency(m.latency, lane, m.dist[a * m.nodes.length + b] ?? 10, r.endpointMs);
}
