// Issue 13 (seeds 001/002): the diagnostics API under hostile input. No token is needed for validate,
// corridor and topology, so each of these must stay cheap in CPU, memory and response size whatever the body.
import Fastify, { type FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ValidateRequest, validateCoherence } from "../src/coherence.js";
import { MAX_EDGES, MAX_FINDINGS, MAX_MESSAGE_CHARS, MAX_NODES, MAX_SUBJECTS, MAX_WORK } from "../src/limits.js";
import { diagnosticsPlugin } from "../src/plugin.js";
import { memoryStore } from "./support/tables.js";

const BODY_LIMIT = 32 * 1024 * 1024;
let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify({ bodyLimit: BODY_LIMIT });
  const store = await memoryStore();
  await app.register(diagnosticsPlugin, { store, registry: new Registry(), requireWrite: () => {} });
  await app.ready();
});
afterAll(() => app.close());

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const started = performance.now();
  const r = await app.inject({
    method: "POST",
    url,
    payload: body,
    headers: { "content-type": "application/json", ...headers },
  });
  return { status: r.statusCode, text: r.body, bytes: r.rawPayload.length, ms: performance.now() - started };
}

/** A chain svc-0 → svc-1 → … → svc-(n-1), each hop 1 ms. */
function chain(n: number) {
  const flows: NonNullable<ValidateRequest["flows"]> = [];
  for (let i = 1; i < n; i++) flows.push({ from: `svc-${i - 1}`, to: `svc-${i}`, latency_ms: 1 });
  return flows;
}

describe("validate: CPU stays bounded on large graphs", () => {
  it("answers a 17,000-node latency budget within 2 s (took 5-13 s with an O(V²) Dijkstra)", async () => {
    const n = 17_000;
    const body = JSON.stringify({
      system_map: {},
      flows: chain(n),
      constraints: [
        { type: "latency_budget_ms", from: "svc-0", to: `svc-${n - 1}`, budget_ms: 100_000 },
        { type: "latency_budget_ms", from: "svc-0", to: `svc-${n - 1}`, budget_ms: 5 },
        { type: "max_hops", from: "svc-0", to: `svc-${n - 1}`, max: n },
      ],
    });
    const r = await post("/api/rtt/validate", body);
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(2000);
    const res = JSON.parse(r.text);
    expect(res.summary).toMatchObject({ services: n, flows: n - 1, constraints: 3 });
    const over = res.findings.find((f: { path: string }) => f.path === "/constraints/1");
    expect(over.message).toContain(`takes ${n - 1} ms, over the 5 ms budget`);
  });

  it("finds the same lowest-latency path as before, ties included", () => {
    // Two equal 3 ms routes a→b→d and a→c→d: the first-discovered one wins, as with the old selection loop.
    const r = validateCoherence({
      system_map: {},
      flows: [
        { from: "a", to: "b", latency_ms: 1 },
        { from: "a", to: "c", latency_ms: 1 },
        { from: "b", to: "d", latency_ms: 2 },
        { from: "c", to: "d", latency_ms: 2 },
        { from: "a", to: "d", latency_ms: 9 },
      ],
      constraints: [{ type: "latency_budget_ms", from: "a", to: "d", budget_ms: 2 }],
    });
    expect(r.findings.find((f) => f.path === "/constraints/0")!.message).toBe(
      "constraint 0: fastest path a → b → d takes 3 ms, over the 2 ms budget",
    );
  });

  it("answers 413 naming the edge limit and the actual size", async () => {
    const flows = Array.from({ length: MAX_EDGES + 1 }, (_, i) => ({ from: "a", to: `b${i % 10}` }));
    const r = await post("/api/rtt/validate", JSON.stringify({ system_map: {}, flows }));
    expect(r.status).toBe(413);
    expect(JSON.parse(r.text)).toEqual({
      error: `validate request too large: flows: ${MAX_EDGES + 1} edges exceeds the limit of ${MAX_EDGES}`,
      code: "RTT_ERR_TOO_LARGE",
      details: [{ path: "/flows", message: `${MAX_EDGES + 1} edges exceeds the limit of ${MAX_EDGES}` }],
    });
  });

  it("answers 413 naming the node limit and the actual count", async () => {
    const pairs = Math.ceil((MAX_NODES + 2) / 2);
    const flows = Array.from({ length: pairs }, (_, i) => ({ from: `s${i}`, to: `t${i}` }));
    const r = await post("/api/rtt/validate", JSON.stringify({ system_map: {}, flows }));
    expect(r.status).toBe(413);
    const res = JSON.parse(r.text);
    expect(res.details).toEqual([
      { path: "/flows", message: `${pairs * 2} services exceeds the limit of ${MAX_NODES}` },
    ]);
  });

  it("stops path queries at the work limit instead of running for seconds", async () => {
    // 1,000 constraints, each a full traversal of a 50,000-node chain: 50 M steps, far above MAX_WORK.
    const n = 50_000;
    const constraints = Array.from({ length: 1000 }, (_, i) => ({
      type: "no_path",
      from: `svc-${i}`,
      to: `svc-${n - 1}`,
    }));
    const r = await post("/api/rtt/validate", JSON.stringify({ system_map: {}, flows: chain(n), constraints }));
    expect(r.status).toBe(413);
    expect(r.ms).toBeLessThan(2000);
    const res = JSON.parse(r.text);
    expect(res.error).toMatch(/^validate request too large: /);
    expect(res.details).toEqual([
      {
        path: "/constraints",
        message: expect.stringMatching(
          new RegExp(
            `path queries need more than ${MAX_WORK} traversal steps \\(the limit\\); stopped at constraint \\d+`,
          ),
        ),
      },
    ]);
  });
});

describe("responses stay bounded whatever the request", () => {
  it("elides long paths and caps the findings of a few-hundred-KB validate request", async () => {
    const n = 5_000;
    const constraints = [
      ...Array.from({ length: 500 }, () => ({ type: "no_path", from: "svc-0", to: `svc-${n - 1}` })),
      ...Array.from({ length: 500 }, () => ({ type: "max_hops", from: "svc-0", to: `svc-${n - 1}`, max: 1 })),
    ];
    const body = JSON.stringify({ system_map: { entrypoints: ["svc-0"] }, flows: chain(n), constraints });
    expect(body.length).toBeGreaterThan(200_000);
    expect(body.length).toBeLessThan(500_000);
    const r = await post("/api/rtt/validate", body);
    expect(r.status).toBe(200);
    // Before: every finding spelled out the 5,000-node path, ~60 MB for this request.
    expect(r.bytes).toBeLessThan(400_000);
    const res = JSON.parse(r.text);
    expect(res.findings).toHaveLength(MAX_FINDINGS);
    // no_inventory (info) + 1,000 violated constraints; the errors are what is kept.
    expect(res.findings_omitted).toBe(1);
    expect(res.findings.every((f: { severity: string }) => f.severity === "error")).toBe(true);
    expect(res.coherent).toBe(false);
    expect(res.summary).toMatchObject({ constraints: 1000, checks: 2 * (n - 1) + n + 1 + 1000, passed: 3 * n - 1 });
    for (const f of res.findings) expect(f.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    const elided = `svc-0 → svc-1 → svc-2 → svc-3 → … (${n - 8} more) … → svc-${n - 4} → svc-${n - 3} → svc-${n - 2} → svc-${n - 1}`;
    expect(res.findings[0]).toEqual({
      severity: "error",
      code: "constraint_no_path",
      message: `constraint 0: svc-${n - 1} is reachable from svc-0 via ${elided}`,
      path: "/constraints/0",
      subjects: ["svc-0", `svc-${n - 1}`],
    });
    expect(res.findings[500].message).toBe(`constraint 500: shortest path ${elided} has ${n - 1} hops, more than 1`);
  });

  it("caps the subjects and the message of a huge cycle", () => {
    const n = 20_000;
    const flows = chain(n);
    flows.push({ from: `svc-${n - 1}`, to: "svc-0", latency_ms: 1 });
    for (let i = 0; i < 50; i++) flows.push({ from: `x${i}`, to: `y${i}` }, { from: `y${i}`, to: `x${i}` });
    const entrypoints = ["svc-0", ...Array.from({ length: 50 }, (_, i) => `x${i}`)];
    const r = validateCoherence({ system_map: { entrypoints }, flows });
    const cycle = r.findings.find((f) => f.code === "cycle")!;
    expect(cycle.subjects).toHaveLength(MAX_SUBJECTS);
    expect(cycle.subjects_omitted).toBe(n + 100 - MAX_SUBJECTS);
    expect(cycle.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(cycle.message).toMatch(
      /^flows form 51 cycle\(s\): svc-0 → svc-1 → svc-2 → svc-3 → … \(19993 more\) … → svc-19997 → svc-19998 → svc-19999 → svc-0; x0 → y0 → x0; .* and 46 more$/,
    );
    expect(JSON.stringify(r).length).toBeLessThan(100_000);
  });

  it("keeps errors over warnings and info when it must leave findings out", () => {
    const services = Array.from({ length: 3000 }, (_, i) => `s${i}`);
    const r = validateCoherence({
      system_map: { services: [...services, ...services] }, // 3,000 duplicate_service infos first
      flows: [{ from: "s0", to: "nowhere" }],
    });
    expect(r.findings).toHaveLength(MAX_FINDINGS);
    expect(r.findings_omitted).toBeGreaterThan(0);
    expect(r.findings.filter((f) => f.severity === "error").map((f) => f.code)).toEqual(["unknown_service"]);
    // Order is the request's order, as when nothing is left out.
    expect(r.findings[r.findings.length - 1].severity).not.toBe("info");
  });

  it("caps topology findings and elides its cycle messages", async () => {
    const graph: Record<string, string[]> = {};
    for (let i = 0; i < 3000; i++) graph[`n${i}`] = [`n${(i + 1) % 3000}`, `n${(i + 1) % 3000}`];
    const r = await post("/api/rtt/topology", JSON.stringify({ graph }));
    expect(r.status).toBe(200);
    const res = JSON.parse(r.text);
    expect(res.findings).toHaveLength(MAX_FINDINGS);
    expect(res.findings_omitted).toBe(3000 + 1 - MAX_FINDINGS);
    const cycle = res.findings.find((f: { code: string }) => f.code === "cycle");
    expect(cycle.message).toBe(
      "cycle among 3000 node(s): n0 → n1 → n2 → n3 → … (2993 more) … → n2997 → n2998 → n2999 → n0",
    );
    expect(res.cycles[0]).toHaveLength(3001); // the data itself is complete
  });

  it("elides corridor paths in over_budget messages", async () => {
    const path = Array.from({ length: 1024 }, (_, i) => `hop-${i}`);
    const r = await post("/api/rtt/corridor", JSON.stringify({ flows: [{ path, latency_ms: 50, budget_ms: 10 }] }));
    expect(r.status).toBe(200);
    const res = JSON.parse(r.text);
    expect(res.findings_omitted).toBe(0);
    expect(res.findings[0].message).toMatch(
      /^flow 0 \(hop-0 → hop-1 → hop-2 → hop-3 → … \(1016 more\) … → hop-1020 → hop-1021 → hop-1022 → hop-1023\) takes 50 ms/,
    );
  });

  it("answers 413 for a topology over the edge limit", async () => {
    const graph: Record<string, string[]> = {};
    for (let i = 0; i < 20; i++) graph[`n${i}`] = Array.from({ length: 5001 }, (_, j) => `m${j}`);
    const r = await post("/api/rtt/topology", JSON.stringify({ graph }));
    expect(r.status).toBe(413);
    expect(JSON.parse(r.text).details).toEqual([
      { path: "/graph", message: `100020 edges exceeds the limit of ${MAX_EDGES}` },
    ]);
  });
});

describe("request bodies", () => {
  const deep = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
  const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}0${"}".repeat(depth)}`;
  const beaconWith = (structureExtra: string, meta = "{}") =>
    `{"site":"deep","session":"s","event":"heartbeat","ts":"2026-01-19T15:00:00Z","structure":{"url":"u","title":"t","nav_count":0,"main_count":0,"form_count":0,"button_count":0,"dom_nodes":0,"x":${structureExtra}},"meta":${meta}}`;

  it("refuses JSON nested deeper than 64 levels with 400 before parsing (stack overflow, 500, from 3,000 levels)", async () => {
    for (const [url, body] of [
      ["/api/rtt/beacon", beaconWith(deepObject(3000))], // was 500
      ["/api/rtt/beacon", beaconWith(deep(5000))], // was 500
      ["/api/rtt/beacon", beaconWith("0", deepObject(3000))],
      ["/api/rtt/validate", `{"system_map":{"x":${deep(100_000)}}}`],
      ["/api/rtt/topology", `{"graph":${deep(65)}}`],
    ] as const) {
      const r = await post(url, body);
      expect(r.status, `${url} ${body.length}`).toBe(400);
      expect(JSON.parse(r.text)).toEqual({
        error: "invalid request body",
        code: "RTT_ERR_INVALID_BODY",
        details: [{ path: "", message: expect.stringMatching(/^JSON nested deeper than 64 levels \(at byte \d+\)$/) }],
      });
    }
    // 64 levels are fine: the beacon's own object plus structure plus x is 3, so 61 more.
    expect((await post("/api/rtt/beacon", beaconWith(deep(61)))).status).toBe(200);
  });

  it("keeps Fastify's prototype-poisoning check", async () => {
    const r = await post("/api/rtt/topology", '{"graph":{},"__proto__":{"x":1}}');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toMatchObject({ error: "invalid request body", details: [{ path: "" }] });
  });

  it("answers 413 for a body over the limit and 415 for a non-JSON media type, in the API's error shape", async () => {
    const big = JSON.stringify({ graph: { a: ["x".repeat(BODY_LIMIT)] } });
    const tooLarge = await post("/api/rtt/topology", big);
    expect(tooLarge.status).toBe(413);
    expect(JSON.parse(tooLarge.text)).toEqual({
      error: "request body too large",
      code: "RTT_ERR_TOO_LARGE",
      details: [{ path: "", message: expect.stringContaining("exceeds the limit") }],
    });
    const xml = await post("/api/rtt/validate", "<validate/>", { "content-type": "application/xml" });
    expect(xml.status).toBe(415);
    expect(JSON.parse(xml.text)).toEqual({
      error: "unsupported media type",
      code: "RTT_ERR_UNSUPPORTED_MEDIA_TYPE",
      details: [{ path: "", message: expect.stringContaining("application/json") }],
    });
  });
});

describe("per-site metric series are capped", () => {
  const beacon = (site: string, dom: number) => ({
    site,
    session: "s",
    event: "heartbeat",
    ts: "2026-01-19T15:00:00Z",
    structure: { url: "u", title: "t", nav_count: 0, main_count: 0, form_count: 0, button_count: 0, dom_nodes: dom },
  });

  it('counts sites beyond maxSiteSeries under service/cluster="other", drift included', async () => {
    const registry = new Registry();
    const capped = Fastify();
    const store = await memoryStore();
    await capped.register(diagnosticsPlugin, { store, registry, requireWrite: () => {}, maxSiteSeries: 3 });
    const send = async (b: object) =>
      (await capped.inject({ method: "POST", url: "/api/rtt/beacon", payload: b })).statusCode;
    for (let i = 0; i < 50; i++) expect(await send(beacon(`site-${i}`, 0))).toBe(200);
    for (let i = 0; i < 50; i++) expect(await send(beacon(`site-${i}`, 1))).toBe(200); // structure_change each
    expect(await send({ ...beacon("dc-east", 0), event: "cluster_heartbeat" })).toBe(200);
    const text = await registry.metrics();
    const series = text.split("\n").filter((l) => l.startsWith("rtt_beacons_total{"));
    expect(series).toEqual([
      'rtt_beacons_total{service="site-0",event="heartbeat"} 2',
      'rtt_beacons_total{service="site-1",event="heartbeat"} 2',
      'rtt_beacons_total{service="site-2",event="heartbeat"} 2',
      'rtt_beacons_total{service="other",event="heartbeat"} 94',
      'rtt_beacons_total{cluster="other",event="cluster_heartbeat"} 1',
    ]);
    expect(text).toContain('rtt_drift_events_total{service="other",event="structure_change"} 47');
    expect(text).toContain('rtt_drift_events_total{service="site-0",event="structure_change"} 1');
    // The sites themselves are all listed, each with the label it is counted under.
    const sites = (await capped.inject({ method: "GET", url: "/api/rtt/sites" })).json().sites;
    expect(sites).toHaveLength(51);
    const labelOf = (site: string) => sites.find((s: { site: string }) => s.site === site).labels;
    expect(labelOf("site-2")).toEqual({ service: "site-2" });
    expect(labelOf("site-3")).toEqual({ service: "other" });
    expect(labelOf("dc-east")).toEqual({ cluster: "other" });
    await capped.close();
  });
});

describe("beacons and corridors: answers stay small (found by the fuzz suite)", () => {
  const structure = (keys: number, value: (i: number) => unknown) => {
    const s: Record<string, unknown> = {
      url: "internal://svc",
      title: "svc",
      nav_count: 0,
      main_count: 0,
      form_count: 0,
      button_count: 0,
      dom_nodes: 0,
    };
    for (let i = 0; i < keys; i++) s[`k${i}`] = value(i);
    return s;
  };
  const beacon = (site: string, s: Record<string, unknown>) =>
    JSON.stringify({ site, session: "s-1", event: "heartbeat", ts: "2026-01-19T15:00:00Z", structure: s });

  it("refuses a structure of more than 1,024 top-level keys (a 100,000-key one answered 4 MB of drift)", async () => {
    const r = await post(
      "/api/rtt/beacon",
      beacon(
        "wide",
        structure(1_100, (i) => i),
      ),
    );
    expect(r.status).toBe(400);
    expect(r.text).toContain("/structure");
  });

  it("lists at most 20 changes per drift event, counts the rest and elides large values", async () => {
    const big = "x".repeat(10_000);
    expect(
      (
        await post(
          "/api/rtt/beacon",
          beacon(
            "many",
            structure(1_000, (i) => `${big}${i}`),
          ),
        )
      ).status,
    ).toBe(200);
    const r = await post(
      "/api/rtt/beacon",
      beacon(
        "many",
        structure(1_000, (i) => `${big}${i}-changed`),
      ),
    );
    expect(r.status).toBe(200);
    expect(r.bytes).toBeLessThan(20_000);
    const drift = JSON.parse(r.text).drift as Array<{ kind: string; details: Record<string, unknown> }>;
    const change = drift.find((d) => d.kind === "structure_change");
    if (!change) throw new Error(`no structure_change in ${r.text.slice(0, 200)}`);
    expect(change.details.changes).toHaveLength(20);
    expect(change.details.changes_omitted).toBe(980);
    const first = (change.details.changes as Array<{ from: { elided_chars: number; fingerprint: string } }>)[0];
    expect(first.from.elided_chars).toBeGreaterThan(10_000);
    expect(first.from.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });

  it("refuses a corridor of more than 10,000 flows (100,000 took 2 s and answered 33 MB)", async () => {
    const flows = Array.from({ length: 10_001 }, (_, i) => ({ path: [`s${i}`, `s${i + 1}`], latency_ms: 1 }));
    const r = await post("/api/rtt/corridor", JSON.stringify({ flows }));
    expect(r.status).toBe(413);
    expect(JSON.parse(r.text).error).toMatch(/10001 flows exceeds the limit of 10000/);
  });
});
