// startHeartbeat against a real server: startup, periodic and shutdown beacons; never throws.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RTTClient, startHeartbeat } from "../src/index.js";
import { closedPortUrl, seedStructure, startDiagnosticsServer, type TestServer } from "./helpers/diagnostics-server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startDiagnosticsServer();
});
afterAll(() => server.close());

const until = async (cond: () => Promise<boolean> | boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("startHeartbeat", () => {
  it("sends startup, periodic heartbeats and one shutdown", async () => {
    const sent: string[] = [];
    let dom = 0;
    const hb = startHeartbeat({
      site: "hb-service",
      intervalMs: 40,
      structure: () => ({ ...seedStructure(), dom_nodes: dom }),
      client: new RTTClient({ baseUrl: server.url }),
      onBeacon: (_res, event) => sent.push(event),
    });
    await hb.ready;
    await until(() => sent.filter((e) => e === "heartbeat").length >= 3);
    dom = 9; // the structure function is read at every beat, so this shows up as drift
    await until(() => sent.length >= 6);
    await hb.stop();
    await hb.stop(); // idempotent: still exactly one shutdown
    const events = (await server.store.listBeacons("hb-service", 100)).map((b) => b.event);
    expect(events[0]).toBe("startup");
    expect(events.at(-1)).toBe("shutdown");
    expect(events.filter((e) => e === "shutdown")).toHaveLength(1);
    expect(events.slice(1, -1).every((e) => e === "heartbeat")).toBe(true);
    expect(hb.sent).toBe(events.length);
    const drift = await new RTTClient({ baseUrl: server.url }).drift({ site: "hb-service" });
    expect(drift.map((d) => d.kind)).toContain("structure_change");
    // After stop nothing more is sent.
    await new Promise((r) => setTimeout(r, 120));
    expect(await server.store.listBeacons("hb-service", 100)).toHaveLength(events.length);
  });

  it("never throws into the host when the server is down, even if onError throws", async () => {
    const errors: unknown[] = [];
    const hb = startHeartbeat({
      site: "hb-down",
      intervalMs: 20,
      structure: seedStructure(),
      clientOptions: { baseUrl: await closedPortUrl(), retries: 0 },
      onError: (e) => {
        errors.push(e);
        throw new Error("host handler bug");
      },
    });
    await hb.ready;
    await until(() => errors.length >= 3);
    await expect(hb.stop()).resolves.toBeUndefined();
    expect(hb.sent).toBe(0);
    expect((errors[0] as Error).name).toBe("RTTError");
  });

  it("skips a tick while the previous beacon is in flight", async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = new RTTClient({ baseUrl: server.url });
    const realBeacon = slow.beacon.bind(slow);
    slow.beacon = async (p) => {
      calls++;
      await gate;
      return realBeacon(p);
    };
    const hb = startHeartbeat({
      site: "hb-slow",
      intervalMs: 10,
      structure: seedStructure(),
      client: slow,
      startup: false,
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(1); // ~10 ticks elapsed, one beacon in flight
    release();
    await hb.stop();
  });
});
