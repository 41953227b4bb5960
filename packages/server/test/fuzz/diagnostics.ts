/**
 * Diagnostics API inputs (/api/rtt/*): beacons and profiles with hostile structure, and validate / corridor /
 * topology requests from small random graphs up to graph-size bombs.
 */
import fc from "fast-check";
import { deepArrays, deepObjects, type Json, longString, MAX_DEPTH } from "./json-tools.js";
import type { Expect } from "./sessions.js";

const EVENTS = [
  "heartbeat",
  "cluster_heartbeat",
  "startup",
  "shutdown",
  "deploy_start",
  "deploy_finish",
  "config_change",
  "topology_snapshot",
  "workload_transition",
  "incident",
] as const;

/** Invalid site names (the pattern is ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$). */
const BAD_SITES = ["", "-a", ".a", "a/b", "a b", "é", "a".repeat(129), "a\u0000", "__proto__", "a%2Fb"];

export type BeaconMutation =
  | { op: "pristine" }
  | { op: "deep-structure"; depth: number; kind: "array" | "object" }
  | { op: "deep-meta"; depth: number; kind: "array" | "object" }
  | { op: "wide-structure"; keys: number }
  | { op: "huge-meta"; bytes: number }
  | { op: "long-url"; length: number }
  | { op: "bad-count"; field: number; text: string }
  | { op: "bad-site"; site: string }
  | { op: "bad-event"; event: string }
  | { op: "bad-ts"; ts: string }
  | { op: "extra-top"; key: string }
  | { op: "duplicate-key"; same: boolean }
  | { op: "bom" }
  | { op: "drop"; field: number }
  | { op: "proto"; where: "top" | "structure" | "meta" };

export interface BeaconCase {
  /** Index into a small pool of sites (drift history), or a fresh site (metrics cardinality). */
  site: { pool: number } | { fresh: true };
  event: number;
  /** Varies the structure so some beacons change the fingerprint. */
  shape: number;
  mutation: BeaconMutation;
}

export const beaconCaseArb: fc.Arbitrary<BeaconCase> = fc.record({
  site: fc.oneof(fc.record({ pool: fc.integer({ min: 0, max: 15 }) }), fc.constant({ fresh: true as const })),
  event: fc.nat(),
  shape: fc.integer({ min: 0, max: 3 }),
  mutation: fc.oneof(
    { weight: 4, arbitrary: fc.constant({ op: "pristine" as const }) },
    fc.record({
      op: fc.constant("deep-structure" as const),
      depth: fc.constantFrom(5, 60, 70, 1000, 10_000),
      kind: fc.constantFrom<"array" | "object">("array", "object"),
    }),
    fc.record({
      op: fc.constant("deep-meta" as const),
      depth: fc.constantFrom(5, 60, 70, 1000, 10_000),
      kind: fc.constantFrom<"array" | "object">("array", "object"),
    }),
    fc.record({ op: fc.constant("wide-structure" as const), keys: fc.constantFrom(100, 10_000, 100_000) }),
    fc.record({ op: fc.constant("huge-meta" as const), bytes: fc.constantFrom(10_000, 1_000_000, 8_000_000) }),
    fc.record({ op: fc.constant("long-url" as const), length: fc.constantFrom(2048, 2049, 1_000_000) }),
    fc.record({
      op: fc.constant("bad-count" as const),
      field: fc.nat(),
      text: fc.constantFrom("-1", "1.5", "1e999", "-1e999", '"3"', "null", "99999999999999999999999", "true"),
    }),
    fc.record({ op: fc.constant("bad-site" as const), site: fc.constantFrom(...BAD_SITES) }),
    fc.record({ op: fc.constant("bad-event" as const), event: fc.constantFrom("", "HEARTBEAT", "beat", "__proto__") }),
    fc.record({
      op: fc.constant("bad-ts" as const),
      ts: fc.constantFrom("", "yesterday", "2026-02-30T99:00:00Z", "1"),
    }),
    fc.record({ op: fc.constant("extra-top" as const), key: fc.constantFrom("x", "constructor", "prototype") }),
    fc.record({ op: fc.constant("duplicate-key" as const), same: fc.boolean() }),
    fc.constant({ op: "bom" as const }),
    fc.record({ op: fc.constant("drop" as const), field: fc.nat() }),
    fc.record({
      op: fc.constant("proto" as const),
      where: fc.constantFrom<"top" | "structure" | "meta">("top", "structure", "meta"),
    }),
  ),
});

export interface RenderedBeacon {
  body: Buffer;
  /** The site the beacon names when it can be acknowledged. */
  site: string;
  expect: Expect;
  what: string;
}

const enc = (s: string) => Buffer.from(s, "utf8");

export function renderBeacon(c: BeaconCase, freshSite: () => string, poolPrefix: string): RenderedBeacon {
  const site = "pool" in c.site ? `${poolPrefix}-${c.site.pool}` : freshSite();
  const structure: Record<string, Json> = {
    url: `https://svc.example/${c.shape}`,
    title: `service ${c.shape}`,
    nav_count: 1 + c.shape,
    main_count: 1,
    form_count: c.shape % 2,
    button_count: 3,
    dom_nodes: 100 + c.shape * 10,
  };
  const beacon: Record<string, Json> = {
    site,
    session: `fz-${c.event % 97}`,
    event: EVENTS[c.event % EVENTS.length],
    ts: new Date(Date.UTC(2026, 0, 6, 8, 0, c.event % 60)).toISOString(),
    structure,
    meta: { version: "1.0.0", region: "lab" },
  };
  const m = c.mutation;
  const json = (v: Json) => enc(JSON.stringify(v));
  const nest = (kind: "array" | "object", d: number) => (kind === "array" ? deepArrays(d) : deepObjects(d));
  // Splices raw text as the last member of `structure` or `meta` (depth: beacon 1, structure/meta 2).
  const splice = (where: "structure" | "meta", key: string, raw: string) => {
    const text = JSON.stringify(beacon);
    const marker = where === "structure" ? `"dom_nodes":${structure.dom_nodes}` : '"region":"lab"';
    const at = text.indexOf(marker) + marker.length;
    return enc(`${text.slice(0, at)},${JSON.stringify(key)}:${raw}${text.slice(at)}`);
  };
  switch (m.op) {
    case "pristine":
      return { body: json(beacon), site, expect: "accept", what: `beacon ${beacon.event}` };
    case "deep-structure":
      return {
        body: splice("structure", "fz", nest(m.kind, m.depth)),
        site,
        expect: 2 + m.depth > MAX_DEPTH ? "reject" : "any",
        what: `structure ${m.kind} ×${m.depth}`,
      };
    case "deep-meta":
      return {
        body: splice("meta", "fz", nest(m.kind, m.depth)),
        site,
        expect: 2 + m.depth > MAX_DEPTH ? "reject" : "any",
        what: `meta ${m.kind} ×${m.depth}`,
      };
    case "wide-structure": {
      for (let i = 0; i < m.keys; i++) structure[`k${i}`] = i;
      return { body: json(beacon), site, expect: "any", what: `structure with ${m.keys} keys` };
    }
    case "huge-meta":
      (beacon.meta as Record<string, Json>).blob = longString("m", m.bytes);
      return { body: json(beacon), site, expect: "any", what: `meta of ${m.bytes} bytes` };
    case "long-url":
      structure.url = longString("u", m.length);
      return { body: json(beacon), site, expect: m.length > 2048 ? "reject" : "accept", what: `url ${m.length}` };
    case "bad-count": {
      const fields = ["nav_count", "main_count", "form_count", "button_count", "dom_nodes"];
      const f = fields[m.field % fields.length];
      const text = JSON.stringify(beacon).replace(`"${f}":${structure[f]}`, `"${f}":${m.text}`);
      // 1e23 (written as 23 digits) is an integer to JSON Schema; the others are not counts.
      return { body: enc(text), site, expect: m.text.length > 20 ? "any" : "reject", what: `${f}=${m.text}` };
    }
    case "bad-site":
      beacon.site = m.site;
      return { body: json(beacon), site: m.site, expect: "reject", what: `site ${JSON.stringify(m.site)}` };
    case "bad-event":
      beacon.event = m.event;
      return { body: json(beacon), site, expect: "reject", what: `event ${JSON.stringify(m.event)}` };
    case "bad-ts":
      beacon.ts = m.ts;
      return { body: json(beacon), site, expect: "reject", what: `ts ${JSON.stringify(m.ts)}` };
    case "extra-top":
      beacon[m.key] = 1;
      return { body: json(beacon), site, expect: "reject", what: `extra ${m.key}` };
    case "duplicate-key": {
      const text = JSON.stringify(beacon);
      const dup = `"site":${JSON.stringify(m.same ? site : `${site}-other`)},`;
      return {
        body: enc(`{${dup}${text.slice(1)}`),
        site,
        expect: "any",
        what: `site twice (${m.same ? "same" : "different"})`,
      };
    }
    case "bom":
      return { body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(beacon)]), site, expect: "any", what: "BOM" };
    case "drop": {
      const keys = ["site", "session", "event", "ts", "structure"];
      const k = keys[m.field % keys.length];
      delete beacon[k];
      return { body: json(beacon), site, expect: "reject", what: `without ${k}` };
    }
    case "proto": {
      const poison = '"__proto__":{"polluted":true}';
      const text = JSON.stringify(beacon);
      const body =
        m.where === "top"
          ? `{${poison},${text.slice(1)}`
          : splice(m.where, "x", "1").toString().replace(`"x":1`, poison);
      return { body: enc(body), site, expect: "any", what: `__proto__ in ${m.where}` };
    }
  }
}

export const PROFILE_CASES: Array<{ site: string; body: string; expect: Expect }> = [
  { site: "fz-prof-a", body: '{"version":"1","supports":["drift","corridor"]}', expect: "accept" },
  { site: "fz-prof-b", body: '{"version":"1","supports":["drift"],"scope":"cluster","name":"east"}', expect: "accept" },
  { site: "fz-prof-c", body: '{"version":"1","supports":["drift"],"latency_budget_ms":1e999}', expect: "reject" },
  { site: "fz-prof-d", body: '{"version":"1","supports":["drift","drift"]}', expect: "reject" },
  { site: "fz-prof-e", body: `{"version":"1","supports":[],"contact":${deepArrays(10_000)}}`, expect: "reject" },
  { site: "fz-prof-f", body: '{"version":"1","supports":[],"name":"../x"}', expect: "reject" },
  { site: "-bad", body: '{"version":"1","supports":[]}', expect: "reject" },
  { site: "a".repeat(129), body: '{"version":"1","supports":[]}', expect: "reject" },
  { site: "fz-prof-g", body: '{"version":"1","supports":[],"__proto__":{"x":1}}', expect: "reject" },
];

// ---------------------------------------------------------------------------------------------------------
// validate / corridor / topology

const NAMES = [
  "a",
  "b",
  "c",
  "d",
  "e",
  "gw",
  "db",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "é",
  "x".repeat(256),
];
const name = fc.constantFrom(...NAMES);

const constraintArb: fc.Arbitrary<Json> = fc.oneof(
  fc.record({ type: fc.constantFrom("no_path", "requires"), from: name, to: name }),
  fc.record({
    type: fc.constant("max_hops"),
    from: name,
    to: name,
    max: fc.oneof(fc.nat({ max: 10 }), fc.constant(-1)),
  }),
  fc.record({
    type: fc.constant("latency_budget_ms"),
    budget_ms: fc.oneof(fc.double({ min: 0.001, max: 1e6, noNaN: true }), fc.constant(0)),
    from: name,
    to: name,
  }),
  fc.record({ type: fc.constant("latency_budget_ms"), budget_ms: fc.double({ min: 0.001, max: 1e3, noNaN: true }) }),
  fc.constant({ type: "no_cycles" }),
  fc.constant({ type: "unknown" }),
);

const flowArb = fc.record({ from: name, to: name, latency_ms: fc.double({ min: 0, max: 1e4, noNaN: true }) });

export type AnalysisCase =
  | { kind: "validate"; services: string[]; flows: Json[]; constraints: Json[] }
  | { kind: "corridor"; flows: Array<{ path: string[]; latency_ms: number; hops: boolean }>; constraints: Json[] }
  | { kind: "topology"; graph: Record<string, string[]> }
  | { kind: "raw"; route: "validate" | "corridor" | "topology"; body: string };

export const analysisCaseArb: fc.Arbitrary<AnalysisCase> = fc.oneof(
  fc.record({
    kind: fc.constant("validate" as const),
    services: fc.array(name, { maxLength: 6 }),
    flows: fc.array(flowArb, { maxLength: 20 }),
    constraints: fc.array(constraintArb, { maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant("corridor" as const),
    flows: fc.array(
      fc.record({
        path: fc.array(name, { minLength: 0, maxLength: 8 }),
        latency_ms: fc.double({ min: 0, max: 1e4, noNaN: true }),
        hops: fc.boolean(),
      }),
      { minLength: 0, maxLength: 10 },
    ),
    constraints: fc.array(constraintArb, { maxLength: 4 }),
  }),
  fc.record({
    kind: fc.constant("topology" as const),
    graph: fc.dictionary(name, fc.array(name, { maxLength: 6 }), { maxKeys: 10 }),
  }),
  fc.record({
    kind: fc.constant("raw" as const),
    route: fc.constantFrom<"validate" | "corridor" | "topology">("validate", "corridor", "topology"),
    body: fc.oneof(
      fc.constantFrom(
        "",
        "null",
        "[]",
        "{}",
        '{"graph":[]}',
        '{"graph":{"a":"b"}}',
        '{"flows":[{"path":"ab","latency_ms":1}]}',
        '{"system_map":{},"flows":{}}',
        '{"system_map":{"nodes":1e999}}',
        '{"graph":{"__proto__":["a"]}}',
        `{"graph":${deepObjects(10_000)}}`,
        `{"system_map":${deepArrays(10_000)}}`,
        '{"graph":{"a":["b"],"a":["c"]}}',
        "\ufeff{}",
      ),
      fc.json({ maxDepth: 4 }),
    ),
  }),
);

export function renderAnalysis(c: AnalysisCase): { route: string; body: string; what: string } {
  switch (c.kind) {
    case "validate":
      return {
        route: "/api/rtt/validate",
        body: JSON.stringify({ system_map: { services: c.services }, flows: c.flows, constraints: c.constraints }),
        what: `validate ${c.flows.length} flows ${c.constraints.length} constraints`,
      };
    case "corridor":
      return {
        route: "/api/rtt/corridor",
        body: JSON.stringify({
          flows: c.flows.map((f) => ({
            path: f.path,
            latency_ms: f.latency_ms,
            ...(f.hops
              ? { hop_latency_ms: f.path.slice(1).map(() => f.latency_ms / Math.max(1, f.path.length - 1)) }
              : {}),
          })),
          constraints: c.constraints,
        }),
        what: `corridor ${c.flows.length} flows`,
      };
    case "topology":
      return {
        route: "/api/rtt/topology",
        body: JSON.stringify({ graph: c.graph }),
        what: `topology ${Object.keys(c.graph).length} keys`,
      };
    case "raw":
      return { route: `/api/rtt/${c.route}`, body: c.body, what: `${c.route} raw ${c.body.slice(0, 40)}` };
  }
}

/** Graph-size bombs: each is a request whose naive cost is quadratic, exponential or huge in output. */
export type Bomb =
  | { kind: "validate-chain"; n: number; constraints: number }
  | { kind: "validate-ring"; n: number }
  | { kind: "validate-dense"; k: number; constraints: number }
  | { kind: "validate-star"; n: number }
  | { kind: "validate-over"; n: number }
  | { kind: "corridor-long"; flows: number; length: number }
  | { kind: "corridor-many"; flows: number }
  | { kind: "topology-chain"; n: number }
  | { kind: "topology-ring"; n: number }
  | { kind: "topology-dense"; k: number }
  | { kind: "topology-star"; n: number }
  | { kind: "topology-ladder"; n: number }
  | { kind: "topology-over"; n: number }
  | { kind: "long-names"; n: number };

export const bombArb: fc.Arbitrary<Bomb> = fc.oneof(
  fc.record({
    kind: fc.constant("validate-chain" as const),
    n: fc.constantFrom(5_000, 20_000),
    constraints: fc.constantFrom(3, 100, 1000),
  }),
  fc.record({ kind: fc.constant("validate-ring" as const), n: fc.constantFrom(5_000, 20_000) }),
  fc.record({
    kind: fc.constant("validate-dense" as const),
    k: fc.constantFrom(100, 300),
    constraints: fc.constantFrom(10, 1000),
  }),
  fc.record({ kind: fc.constant("validate-star" as const), n: fc.constantFrom(20_000, 99_000) }),
  fc.record({ kind: fc.constant("validate-over" as const), n: fc.constant(100_001) }),
  fc.record({
    kind: fc.constant("corridor-long" as const),
    flows: fc.constantFrom(10, 500),
    length: fc.constant(1024),
  }),
  fc.record({ kind: fc.constant("corridor-many" as const), flows: fc.constantFrom(20_000, 100_000) }),
  fc.record({ kind: fc.constant("topology-chain" as const), n: fc.constantFrom(5_000, 20_000) }),
  fc.record({ kind: fc.constant("topology-ring" as const), n: fc.constantFrom(5_000, 20_000) }),
  fc.record({ kind: fc.constant("topology-dense" as const), k: fc.constantFrom(100, 300) }),
  fc.record({ kind: fc.constant("topology-star" as const), n: fc.constant(10_000) }),
  fc.record({ kind: fc.constant("topology-ladder" as const), n: fc.constantFrom(2_000, 10_000) }),
  fc.record({ kind: fc.constant("topology-over" as const), n: fc.constant(100_001) }),
  fc.record({ kind: fc.constant("long-names" as const), n: fc.constant(15_000) }),
);

const s = (i: number) => `s${i}`;

export function renderBomb(b: Bomb): { route: string; body: string; what: string; expect: "ok" | "too-large" | "any" } {
  const v = (flows: Json[], constraints: Json[], services?: string[]) =>
    JSON.stringify({ system_map: services ? { services } : {}, flows, constraints });
  const chain = (n: number) => Array.from({ length: n - 1 }, (_, i) => ({ from: s(i), to: s(i + 1), latency_ms: 1 }));
  const pathConstraints = (n: number, count: number): Json[] =>
    Array.from({ length: count }, (_, i) => {
      const kinds: Json[] = [
        { type: "max_hops", from: s(0), to: s(n - 1), max: n },
        { type: "latency_budget_ms", from: s(0), to: s(n - 1), budget_ms: 5 },
        { type: "no_path", from: s(n - 1), to: s(0) },
        { type: "requires", from: s(0), to: s(n - 1) },
        { type: "no_cycles" },
      ];
      return kinds[i % kinds.length];
    });
  switch (b.kind) {
    case "validate-chain":
      return {
        route: "/api/rtt/validate",
        body: v(chain(b.n), pathConstraints(b.n, b.constraints)),
        what: `${b.kind} ${b.n}×${b.constraints}`,
        expect: "any",
      };
    case "validate-ring":
      return {
        route: "/api/rtt/validate",
        body: v([...chain(b.n), { from: s(b.n - 1), to: s(0), latency_ms: 1 }], pathConstraints(b.n, 10)),
        what: `${b.kind} ${b.n}`,
        expect: "any",
      };
    case "validate-dense": {
      const flows: Json[] = [];
      for (let i = 0; i < b.k; i++)
        for (let j = 0; j < b.k; j++) if (i !== j) flows.push({ from: s(i), to: s(j), latency_ms: 1 });
      return {
        route: "/api/rtt/validate",
        body: v(flows, pathConstraints(b.k, b.constraints)),
        what: `${b.kind} ${b.k}×${b.constraints}`,
        expect: "any",
      };
    }
    case "validate-star": {
      const flows = Array.from({ length: b.n }, (_, i) => ({ from: "hub", to: s(i) }));
      return {
        route: "/api/rtt/validate",
        body: v(
          flows,
          [{ type: "no_cycles" }, { type: "max_hops", from: "hub", to: s(b.n - 1), max: 0 }],
          Array.from({ length: b.n }, (_, i) => s(i)),
        ),
        what: `${b.kind} ${b.n}`,
        expect: "any",
      };
    }
    case "validate-over":
      return { route: "/api/rtt/validate", body: v(chain(b.n + 1), []), what: `${b.kind} ${b.n}`, expect: "too-large" };
    case "corridor-long": {
      const flows = Array.from({ length: b.flows }, (_, f) => ({
        path: Array.from({ length: b.length }, (_, i) => s((i * 7 + f) % 5000)),
        latency_ms: 10,
      }));
      return {
        route: "/api/rtt/corridor",
        body: JSON.stringify({ flows }),
        what: `${b.kind} ${b.flows}×${b.length}`,
        expect: "any",
      };
    }
    case "corridor-many": {
      const flows = Array.from({ length: b.flows }, (_, i) => ({
        path: [s(i), s(i + 1)],
        latency_ms: 1,
        budget_ms: 0.5,
      }));
      return {
        route: "/api/rtt/corridor",
        body: JSON.stringify({ flows }),
        what: `${b.kind} ${b.flows}`,
        expect: "any",
      };
    }
    case "topology-chain":
    case "topology-ring": {
      const graph: Record<string, string[]> = {};
      for (let i = 0; i < b.n - 1; i++) graph[s(i)] = [s(i + 1)];
      if (b.kind === "topology-ring") graph[s(b.n - 1)] = [s(0)];
      return { route: "/api/rtt/topology", body: JSON.stringify({ graph }), what: `${b.kind} ${b.n}`, expect: "any" };
    }
    case "topology-dense": {
      const graph: Record<string, string[]> = {};
      for (let i = 0; i < b.k; i++) graph[s(i)] = Array.from({ length: b.k }, (_, j) => s(j)).filter((_, j) => j !== i);
      return { route: "/api/rtt/topology", body: JSON.stringify({ graph }), what: `${b.kind} ${b.k}`, expect: "any" };
    }
    case "topology-star": {
      const graph: Record<string, string[]> = { hub: Array.from({ length: b.n }, (_, i) => s(i)) };
      for (let i = 0; i < 5000; i++) graph[s(i)] = ["hub"];
      return { route: "/api/rtt/topology", body: JSON.stringify({ graph }), what: `${b.kind} ${b.n}`, expect: "any" };
    }
    case "topology-ladder": {
      // Many small cycles: a-b-a pairs chained, every node on a cycle, many bridges broken.
      const graph: Record<string, string[]> = {};
      for (let i = 0; i < b.n; i++) graph[s(i)] = [s(i + 1), ...(i % 2 ? [s(i - 1)] : [])];
      return { route: "/api/rtt/topology", body: JSON.stringify({ graph }), what: `${b.kind} ${b.n}`, expect: "any" };
    }
    case "topology-over": {
      const graph: Record<string, string[]> = {};
      for (let i = 0; i < b.n; i++) graph[s(i)] = [];
      return {
        route: "/api/rtt/topology",
        body: JSON.stringify({ graph }),
        what: `${b.kind} ${b.n}`,
        expect: "too-large",
      };
    }
    case "long-names": {
      const long = (i: number) => `${String(i).padStart(6, "0")}${"n".repeat(250)}`;
      const flows = Array.from({ length: b.n - 1 }, (_, i) => ({ from: long(i), to: long(i + 1), latency_ms: 1 }));
      return {
        route: "/api/rtt/validate",
        body: JSON.stringify({
          system_map: {},
          flows,
          constraints: [{ type: "max_hops", from: long(0), to: long(b.n - 1), max: 1 }],
        }),
        what: `${b.kind} ${b.n}`,
        expect: "any",
      };
    }
  }
}
