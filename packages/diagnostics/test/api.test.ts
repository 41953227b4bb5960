// The diagnostics plugin on a real Fastify instance with a real SQLite store (HTTP via inject; the SDK
// suites in packages/sdk/test drive the same plugin over a real socket).
import Fastify, { type FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diagnosticsPlugin } from "../src/plugin.js";
import { memoryStore } from "./support/tables.js";

const TOKEN = "s3cret";
let app: FastifyInstance;
let registry: Registry;
let now = Date.parse("2026-01-19T15:00:00Z");
const auth = { authorization: `Bearer ${TOKEN}` };

const structure = (dom_nodes = 0) => ({
  url: "internal://auth",
  title: "Auth Service",
  nav_count: 0,
  main_count: 0,
  form_count: 0,
  button_count: 0,
  dom_nodes,
});
const beacon = (site: string, event: string, dom = 0) => ({
  site,
  session: "srv-1",
  event,
  ts: "2026-01-19T15:00:00Z",
  structure: structure(dom),
});

async function post(url: string, payload: unknown, headers: Record<string, string> = auth) {
  const r = await app.inject({ method: "POST", url, payload: payload as object, headers });
  return { status: r.statusCode, body: r.json() };
}
async function get(url: string) {
  const r = await app.inject({ method: "GET", url });
  return { status: r.statusCode, body: r.json() };
}

beforeAll(async () => {
  app = Fastify();
  registry = new Registry();
  const store = await memoryStore();
  await app.register(diagnosticsPlugin, {
    store,
    registry,
    clock: () => now,
    requireWrite: async (req, reply) => {
      if (req.headers.authorization !== `Bearer ${TOKEN}`)
        await reply.code(401).send({ error: "unauthorized", details: [] });
    },
  });
  await app.ready();
});
afterAll(() => app.close());

describe("POST /api/rtt/beacon", () => {
  it("accepts the seed 002 heartbeat and counts it under service=", async () => {
    const r = await post("/api/rtt/beacon", beacon("auth-service", "heartbeat"));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      status: "ok",
      site: "auth-service",
      event: "heartbeat",
      drift: [],
      drift_state: "no_baseline",
    });
    expect(await registry.metrics()).toContain('rtt_beacons_total{service="auth-service",event="heartbeat"} 1');
  });

  it("requires the token for writes, not for pure diagnostics", async () => {
    expect((await post("/api/rtt/beacon", beacon("auth-service", "heartbeat"), {})).status).toBe(401);
    expect((await post("/api/rtt/topology", { graph: { a: [] } }, {})).status).toBe(200);
  });

  it("answers 400 naming each bad field", async () => {
    const bad = { ...beacon("bad site!", "heartbeet"), structure: { ...structure(), dom_nodes: -1 } } as Record<
      string,
      unknown
    >;
    delete bad.session;
    const r = await post("/api/rtt/beacon", { ...bad, extra: 1 });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid beacon");
    const paths = r.body.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(["/event", "/extra", "/session", "/site", "/structure/dom_nodes"]);
    expect(r.body.details.find((d: { path: string }) => d.path === "/event").message).toContain('"cluster_heartbeat"');
  });

  it("answers 400 for malformed JSON, empty bodies and other media types", async () => {
    for (const [payload, type] of [
      ["{nope", "application/json"],
      ["", "application/json"],
      ["site=x", "text/plain"],
    ]) {
      const r = await app.inject({
        method: "POST",
        url: "/api/rtt/beacon",
        payload,
        headers: { ...auth, "content-type": type },
      });
      expect(r.statusCode, `${type} ${payload}`).toBe(400);
      // The empty body may reach schema validation ("request body must be object"); either way the root is named.
      expect(r.json()).toMatchObject({
        error: expect.stringMatching(/^invalid (request body|beacon)$/),
        details: [{ path: "" }],
      });
    }
  });
});

describe("profiles and metric labels", () => {
  it("stores a profile and labels the site's metrics by its scope", async () => {
    const profile = {
      version: "1.0",
      supports: ["coherence", "drift", "corridor"],
      contact: "infra@datacenter.example",
      scope: "cluster",
      name: "east",
    };
    expect(
      (
        await app.inject({ method: "PUT", url: "/api/rtt/profile/datacenter-east", payload: profile, headers: auth })
      ).json(),
    ).toEqual({
      status: "ok",
      site: "datacenter-east",
      profile,
    });
    expect((await get("/api/rtt/profile/datacenter-east")).body).toEqual({ site: "datacenter-east", profile });
    await post("/api/rtt/beacon", beacon("datacenter-east", "cluster_heartbeat"));
    expect(await registry.metrics()).toContain('rtt_beacons_total{cluster="east",event="cluster_heartbeat"} 1');
  });

  it("corridor and coherence runs that name a site feed their metrics under the site's scope label", async () => {
    // datacenter-east has the profile scope=cluster, name=east (above); the seed 001 corridor call, with its site.
    const corridor = await post("/api/rtt/corridor", {
      site: "datacenter-east",
      flows: [{ path: ["ingress", "api", "db"], latency_ms: 12, budget_ms: 24 }],
    });
    expect(corridor.status).toBe(200);
    const coherence = await post("/api/rtt/validate", {
      site: "datacenter-east",
      system_map: { nodes: 128, services: ["auth", "api", "db"] },
      flows: [{ from: "api", to: "db" }],
      constraints: [],
    });
    expect(coherence.status, JSON.stringify(coherence.body)).toBe(200);
    const text = await registry.metrics();
    expect(text).toContain(`rtt_corridor_alignment_score{cluster="east"} ${corridor.body.score}`);
    expect(text).toContain('rtt_corridor_checks_total{cluster="east",aligned="true"} 1');
    expect(text).toContain(`rtt_coherence_score{cluster="east"} ${coherence.body.score}`);
    expect(text).toContain(`rtt_coherence_checks_total{cluster="east",coherent="${coherence.body.coherent}"} 1`);
    // Without a site there is no label to count under: nothing is recorded.
    expect(
      (await post("/api/rtt/corridor", { flows: [{ path: ["a", "b"], latency_ms: 1, budget_ms: 2 }] })).status,
    ).toBe(200);
    expect(await registry.metrics()).not.toMatch(/rtt_corridor_checks_total\{aligned=/);
  });

  it("labels a site that sends cluster heartbeats as cluster= without a profile", async () => {
    await post("/api/rtt/beacon", beacon("lab-west", "cluster_heartbeat"));
    expect(await registry.metrics()).toContain('rtt_beacons_total{cluster="lab-west",event="cluster_heartbeat"} 1');
  });

  it("404s a missing profile and 400s a bad one", async () => {
    expect((await get("/api/rtt/profile/nobody")).status).toBe(404);
    const r = await app.inject({
      method: "PUT",
      url: "/api/rtt/profile/x",
      payload: { version: "1", supports: ["telepathy"] },
      headers: auth,
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().details).toEqual([
      { path: "/supports/0", message: 'expected one of "coherence", "drift", "corridor", "topology"' },
    ]);
    expect((await get("/api/rtt/profile/bad%20site")).body.details[0].path).toBe("params/site");
  });
});

describe("drift over HTTP", () => {
  it("records a deploy scenario exactly and shows it in sites, drift and metrics", async () => {
    const site = "billing-service";
    const steps: Array<[number, string, number]> = [
      [0, "heartbeat", 1],
      [30, "heartbeat", 1],
      [60, "heartbeat", 1],
      [90, "heartbeat", 1],
      [100, "deploy_start", 1],
      [110, "deploy_finish", 2], // deploy_drift
      [120, "heartbeat", 3], // structure_change + baseline_drift
      [300, "heartbeat", 3], // gap 180 s > 2 × 30 s: missed_heartbeat
    ];
    const t0 = now;
    const seen: string[][] = [];
    for (const [sec, event, dom] of steps) {
      now = t0 + sec * 1000;
      const r = await post("/api/rtt/beacon", beacon(site, event, dom));
      seen.push(r.body.drift.map((d: { kind: string }) => d.kind));
    }
    expect(seen).toEqual([
      [],
      [],
      [],
      [],
      [],
      ["deploy_drift"],
      ["structure_change", "baseline_drift"],
      ["missed_heartbeat"],
    ]);
    const drift = (await get(`/api/rtt/drift?site=${site}`)).body.events;
    expect(drift.map((d: { kind: string }) => d.kind)).toEqual([
      "deploy_drift",
      "structure_change",
      "baseline_drift",
      "missed_heartbeat",
    ]);
    expect(drift[3]).toMatchObject({
      site,
      event: "heartbeat",
      at: new Date(t0 + 300_000).toISOString(),
      details: { gap_ms: 180_000, cadence_ms: 30_000 },
    });
    expect((await get(`/api/rtt/drift?site=${site}&limit=1`)).body.events.map((d: { kind: string }) => d.kind)).toEqual(
      ["missed_heartbeat"],
    );

    const sites = (await get("/api/rtt/sites")).body.sites;
    const s = sites.find((x: { site: string }) => x.site === site);
    expect(s).toMatchObject({
      beacons: 8,
      last_event: "heartbeat",
      cadence_ms: 30_000,
      overdue: false,
      drift_state: "drifted",
      deploying: false,
      labels: { service: site },
    });
    now += 61_000;
    expect((await get("/api/rtt/sites")).body.sites.find((x: { site: string }) => x.site === site).overdue).toBe(true);

    const m = await registry.metrics();
    for (const kind of ["deploy_drift", "structure_change", "baseline_drift", "missed_heartbeat"]) {
      expect(m).toContain(`rtt_drift_events_total{service="${site}",event="${kind}"} 1`);
    }
  });

  it("validates drift query parameters", async () => {
    expect((await get("/api/rtt/drift?limit=0")).body.details).toEqual([
      { path: "query/limit", message: "must be between 1 and 1000" },
    ]);
    expect((await get("/api/rtt/drift?site=%20")).body.details[0].path).toBe("query/site");
  });
});

describe("diagnostics endpoints", () => {
  it("validate returns findings and 400s an unknown constraint type at its path", async () => {
    const ok = await post("/api/rtt/validate", {
      system_map: { services: ["auth", "api", "db"] },
      flows: [{ from: "api", to: "db" }],
      constraints: [],
    });
    expect(ok.body).toMatchObject({ status: "ok", coherent: true, score: 0.833 });
    const bad = await post("/api/rtt/validate", {
      system_map: {},
      constraints: [{ type: "no_loops" }, { type: "no_path", from: "a" }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { path: string }) => d.path)).toEqual(["/constraints/0/type", "/constraints/1/to"]);
  });

  it("corridor uses the site profile budget and 400s mismatched hop latencies", async () => {
    await app.inject({
      method: "PUT",
      url: "/api/rtt/profile/api-gw",
      payload: { version: "1", supports: ["corridor"], latency_budget_ms: 10 },
      headers: auth,
    });
    const r = await post("/api/rtt/corridor", {
      site: "api-gw",
      flows: [{ path: ["ingress", "api", "db"], latency_ms: 12 }],
    });
    expect(r.body.flows[0]).toMatchObject({ budget_ms: 10, budget_source: "profile", slack_ms: -2 });
    const bad = await post("/api/rtt/corridor", {
      flows: [{ path: ["a", "b"], latency_ms: 1, hop_latency_ms: [1, 2] }],
    });
    expect(bad).toEqual({
      status: 400,
      body: {
        error: "invalid corridor request",
        code: "RTT_ERR_INVALID_INPUT",
        details: [{ path: "/flows/0/hop_latency_ms", message: expect.stringContaining("must have 1") }],
      },
    });
    expect((await post("/api/rtt/corridor", { flows: [] })).body.details[0].path).toBe("/flows");
  });

  it("topology decomposes the seed graph and 400s a non-array adjacency", async () => {
    const r = await post("/api/rtt/topology", { graph: { auth: ["api"], api: ["db"], db: [] } });
    expect(r.body.triad).toEqual({ sources: ["auth"], transit: ["api"], sinks: ["db"], isolated: [] });
    expect((await post("/api/rtt/topology", { graph: { auth: "api" } })).body.details).toEqual([
      { path: "/graph/auth", message: 'expected an array, found "api"' },
    ]);
    expect((await post("/api/rtt/topology", [])).body.details).toEqual([
      { path: "", message: "expected an object, found an array" },
    ]);
  });
});
