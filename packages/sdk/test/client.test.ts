// RTTClient against a real diagnostics server over HTTP: every call, error and retry path.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BeaconPayload,
  buildValidatePayload,
  create_profile,
  createProfile,
  RTTClient,
  RTTError,
} from "../src/index.js";
import { build_validate_payload } from "../src/validate.js";
import {
  closedPortUrl,
  seedStructure,
  startDiagnosticsServer,
  startFront,
  type TestServer,
} from "./helpers/diagnostics-server.js";

let server: TestServer;
let client: RTTClient;
const fast = { backoffMs: 5, maxBackoffMs: 20 };

beforeAll(async () => {
  server = await startDiagnosticsServer({ token: "sdk-test-token-0123" });
  client = new RTTClient({ baseUrl: server.url, token: "sdk-test-token-0123", ...fast });
});
afterAll(() => server.close());

async function rejection(p: Promise<unknown>): Promise<RTTError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RTTError);
  return err as RTTError;
}

describe("calls", () => {
  it("sends a beacon and sees it in sites and /metrics", async () => {
    const r = await client.beacon({
      site: "auth-service",
      session: `srv-${Date.now()}`,
      event: "heartbeat",
      ts: new Date().toISOString(),
      structure: seedStructure(),
    });
    expect(r).toMatchObject({ status: "ok", site: "auth-service", drift: [], drift_state: "no_baseline" });
    expect(r.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    const sites = await client.sites();
    expect(sites.find((s) => s.site === "auth-service")).toMatchObject({
      beacons: 1,
      last_event: "heartbeat",
      labels: { service: "auth-service" },
    });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('rtt_beacons_total{service="auth-service",event="heartbeat"} 1');
  });

  it("given a logger, prints the seeds' lines: `[RTT] heartbeat sent` (with the payload), `[RTT] drift detected in …`", async () => {
    const lines: Array<[string, string, unknown]> = [];
    const logger = {
      info: (m: string, a: unknown) => lines.push(["info", m, a]),
      warn: (m: string, a: unknown) => lines.push(["warn", m, a]),
    };
    const logged = new RTTClient({ baseUrl: server.url, token: "sdk-test-token-0123", ...fast, logger });
    // seed 002 §4: console.log("[RTT] heartbeat sent", payload)
    const payload: BeaconPayload = {
      site: "svc-logged",
      session: "srv-1",
      event: "heartbeat",
      ts: new Date().toISOString(),
      structure: seedStructure(),
    };
    await logged.beacon(payload);
    expect(lines).toEqual([["info", "[RTT] heartbeat sent", payload]]);
    // seed 001 §5: "[RTT] cluster_heartbeat sent", "[RTT] drift detected in service mesh"
    lines.length = 0;
    const mesh: BeaconPayload = { ...payload, site: "service-mesh", event: "cluster_heartbeat" };
    await logged.beacon(mesh);
    await logged.beacon({ ...mesh, structure: { ...seedStructure(), dom_nodes: 7 } });
    expect(lines.map(([level, m]) => `${level} ${m}`)).toEqual([
      "info [RTT] cluster_heartbeat sent",
      "info [RTT] cluster_heartbeat sent",
      "warn [RTT] drift detected in service-mesh",
    ]);
    expect(lines[2]![2]).toEqual([expect.objectContaining({ site: "service-mesh", kind: "structure_change" })]);
    // console works as it is (log and warn), and without a logger nothing is printed
    const seen: string[] = [];
    const consoleLike = { log: (m: string) => seen.push(m) };
    await new RTTClient({ baseUrl: server.url, token: "sdk-test-token-0123", ...fast, logger: consoleLike }).beacon(
      payload,
    );
    expect(seen).toEqual(["[RTT] heartbeat sent"]);
  });

  it("sets and gets a profile; a missing profile is null", async () => {
    const profile = createProfile({ version: "1.0", supports: ["coherence", "drift"], contact: "infra@example.com" });
    expect(create_profile).toBe(createProfile);
    expect(await client.setProfile("auth-service", profile)).toEqual({ status: "ok", site: "auth-service", profile });
    expect(await client.getProfile("auth-service")).toEqual(profile);
    expect(await client.getProfile("nobody-here")).toBeNull();
  });

  it("validates, aligns corridors and decomposes topology with real results", async () => {
    expect(build_validate_payload).toBe(buildValidatePayload);
    const v = await client.validate(
      buildValidatePayload({
        system_map: { nodes: 128, services: ["auth", "api", "db"] },
        flows: [{ from: "api", to: "db" }],
      }),
    );
    expect(v).toMatchObject({ status: "ok", coherent: true, score: 0.833 });
    const c = await client.corridor({ flows: [{ path: ["ingress", "api", "db"], latency_ms: 12, budget_ms: 10 }] });
    expect(c.flows[0]).toMatchObject({ hops: 2, slack_ms: -2, within_budget: false });
    const t = await client.topology({ graph: { auth: ["api"], api: ["db"], db: [] } });
    expect(t.layers).toEqual([["auth"], ["api"], ["db"]]);
    expect(t.articulation_points).toEqual(["api"]);
  });

  it("lists drift events for a site", async () => {
    const b = { site: "drifty", session: "s", event: "heartbeat" as const, ts: new Date().toISOString() };
    await client.beacon({ ...b, structure: seedStructure() });
    const r = await client.beacon({ ...b, structure: { ...seedStructure(), dom_nodes: 3 } });
    expect(r.drift.map((d) => d.kind)).toEqual(["structure_change"]);
    const events = await client.drift({ site: "drifty", limit: 10 });
    expect(events).toEqual([
      expect.objectContaining({
        kind: "structure_change",
        site: "drifty",
        details: expect.objectContaining({ changes: [{ key: "dom_nodes", from: 0, to: 3 }] }),
      }),
    ]);
  });

  it("reads RTT_URL and RTT_TOKEN from the environment", async () => {
    const saved = { url: process.env.RTT_URL, token: process.env.RTT_TOKEN };
    process.env.RTT_URL = `${server.url}/`;
    process.env.RTT_TOKEN = "sdk-test-token-0123";
    try {
      const fromEnv = new RTTClient();
      expect(fromEnv.baseUrl).toBe(server.url);
      await fromEnv.setProfile("env-site", createProfile({ version: "1", supports: [] }));
    } finally {
      for (const [k, v] of [
        ["RTT_URL", saved.url],
        ["RTT_TOKEN", saved.token],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    expect(new RTTClient().baseUrl).toBe(process.env.RTT_URL ?? "http://127.0.0.1:8080");
  });

  it("rejects bad profiles locally", () => {
    expect(() => createProfile({ version: "", supports: [] })).toThrow(/version/);
    expect(() => createProfile({ version: "1", supports: ["telepathy" as never] })).toThrow(/telepathy/);
  });
});

describe("errors and retries", () => {
  it("raises RTTError with the server's field details on 400, without retrying", async () => {
    const front = await startFront(server.url);
    try {
      const c = new RTTClient({ baseUrl: front.url, token: "sdk-test-token-0123", retries: 3, ...fast });
      const err = await rejection(
        c.beacon({
          site: "auth-service",
          session: "s",
          event: "heartbeet" as never,
          ts: "now",
          structure: seedStructure(),
        }),
      );
      expect(err).toMatchObject({ kind: "http", status: 400, retryable: false, attempts: 1 });
      expect(err.details.map((d) => d.path).sort()).toEqual(["/event", "/ts"]);
      expect(err.message).toContain("/event: expected one of");
      expect(front.requests()).toBe(1);
    } finally {
      await front.close();
    }
  });

  it("does not retry 401 (missing token)", async () => {
    const front = await startFront(server.url);
    try {
      const err = await rejection(
        new RTTClient({ baseUrl: front.url, token: "", retries: 3, ...fast }).setProfile(
          "x",
          createProfile({ version: "1", supports: [] }),
        ),
      );
      expect(err).toMatchObject({ kind: "http", status: 401, attempts: 1 });
      expect(front.requests()).toBe(1);
    } finally {
      await front.close();
    }
  });

  it("retries 5xx and connection resets, then succeeds", async () => {
    const front = await startFront(server.url, ["503", "reset", "503"]);
    try {
      const c = new RTTClient({ baseUrl: front.url, token: "sdk-test-token-0123", retries: 3, ...fast });
      const t = await c.topology({ graph: { a: ["b"] } });
      expect(t.edges).toBe(1);
      expect(front.requests()).toBe(4);
    } finally {
      await front.close();
    }
  });

  it("gives up after `retries` with the last 5xx", async () => {
    const front = await startFront(server.url, ["503", "503", "503"]);
    try {
      const err = await rejection(new RTTClient({ baseUrl: front.url, retries: 1, ...fast }).topology({ graph: {} }));
      expect(err).toMatchObject({ kind: "http", status: 503, attempts: 2, retryable: true });
      expect(front.requests()).toBe(2);
    } finally {
      await front.close();
    }
  });

  it("reports a refused connection as a network error after retrying", async () => {
    const err = await rejection(new RTTClient({ baseUrl: await closedPortUrl(), retries: 2, ...fast }).sites());
    expect(err).toMatchObject({ kind: "network", status: undefined, attempts: 3 });
  });

  it("times out a server that never answers", async () => {
    const front = await startFront(server.url, ["hang", "hang"]);
    try {
      const started = Date.now();
      const err = await rejection(new RTTClient({ baseUrl: front.url, timeoutMs: 150, retries: 1, ...fast }).sites());
      expect(err).toMatchObject({ kind: "timeout", attempts: 2 });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(front.requests()).toBe(2);
    } finally {
      await front.close();
    }
  });
});
