import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FabricClient } from "../../src/daemon/client.js";
import { encodeFrame } from "../../src/lanes/frame.js";
import { type Daemon, fixtureDriver, json, parse, project, route, startDaemon } from "./harness.js";

// Two processes talk over each lane through `rtt fabric up` (a third): this test process calls, a command driver
// (fixtures/driver.mjs, its own process) answers; plus the in-process echo driver and back-pressure by policy.
const p = project(
  [
    route(1, "rtt://app/ask", "rtt://svc/driver"),
    route(2, "rtt://app/echo", "rtt://svc/echo", "shm"),
    route(3, "rtt://app/slow", "rtt://svc/slow"),
  ],
  {
    "rtt://svc/driver": fixtureDriver("A"),
    "rtt://svc/echo": { builtin: "echo" },
    "rtt://svc/slow": { builtin: "echo", delay_ms: 300, max_inflight: 2, backpressure: "drop" },
  },
);
let d: Daemon;
let c: FabricClient;
beforeAll(async () => {
  d = await startDaemon(p, ["--tcp", "0"]);
  c = await FabricClient.uds(p.socket);
});
afterAll(async () => {
  c?.close();
  await d?.stop();
  p.cleanup();
});

const status = () => c.control<any>("status");

describe("fabric daemon lanes (integration)", () => {
  it("UDS: resolves a symbol and calls a command driver in another process", async () => {
    const r = await c.resolve("rtt://app/ask");
    expect(r).toEqual({ route_id: 1, from: "rtt://app/ask", to: "rtt://svc/driver", lane: "uds" });
    const a = parse(await c.call(1, json({ q: 1 })));
    expect(a).toMatchObject({ driver: "A", request: { q: 1 } });
    expect(a.pid).not.toBe(d.pid);
    // many in flight on one connection, answers matched by frame_id
    const many = await Promise.all(Array.from({ length: 500 }, (_, i) => c.call(1, json({ i }))));
    expect(many.map((b) => parse(b).request.i)).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it("TCP: the same frames on the fallback lane", async () => {
    expect(d.tcp?.host).toBe("127.0.0.1");
    const t = await FabricClient.tcp(d.tcp?.host as string, d.tcp?.port as number);
    try {
      expect(parse(await t.call(1, json({ over: "tcp" })))).toMatchObject({ driver: "A", request: { over: "tcp" } });
      expect(Buffer.from(await t.call(2, Buffer.from("raw bytes"))).toString()).toBe("raw bytes");
    } finally {
      t.close();
    }
  });

  it("SHM: a lane asked for over UDS carries calls both ways, to the echo and to the command driver", async () => {
    const lane = await c.openShm({ symbol: "rtt://app/echo" });
    expect(lane.info.req).toMatch(new RegExp(`^/rtt-${d.pid}-2-\\d+-req$`));
    for (const size of [0, 64, 4096, 65536]) {
      const b = Buffer.alloc(size, size & 0xff);
      expect(Buffer.from(await lane.call(b)).equals(b)).toBe(true);
    }
    await lane.close();
    const lane1 = await c.openShm({ route_id: 1 });
    expect(parse(await lane1.call(json({ over: "shm" })))).toMatchObject({ driver: "A", request: { over: "shm" } });
    await lane1.close();
    const s = await status();
    expect(s.lanes.shm.lanes).toBe(2);
    expect(s.lanes.shm.open).toBe(0);
  });

  it("refuses over the cap under the drop policy, counted; unknown routes are errors, not crashes", async () => {
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => c.call(3, json({}))));
    const refused = results.filter((r) => r.status === "rejected");
    expect(refused.length).toBe(4);
    expect(String((refused[0] as PromiseRejectedResult).reason.code)).toBe("RTT_FABRIC_OVERLOAD");
    await expect(c.call(99, json({}))).rejects.toMatchObject({ code: "RTT_FABRIC_NO_ROUTE" });
    await expect(c.resolve("rtt://nowhere")).rejects.toMatchObject({ code: "RTT_FABRIC_NO_ROUTE" });
    const s = await status();
    expect(s.drops.uds.overload).toBe(4);
    expect(s.drops.uds.no_route).toBe(1);
    expect(s.routes.find((r: any) => r.route_id === 3)).toMatchObject({ calls: 6, ok: 2, errors: 4 });
  });

  it("a driver that dies mid-call fails that call, is restarted, and the route recovers", async () => {
    await expect(c.call(1, json({ crash: true }))).rejects.toMatchObject({ code: "RTT_FABRIC_DRIVER" });
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      ok = await c.call(1, json({ again: i })).then(
        () => true,
        () => false,
      );
      if (!ok) await sleep(50);
    }
    expect(ok).toBe(true);
    const s = await status();
    expect(s.drivers.find((x: any) => x.symbol === "rtt://svc/driver")).toMatchObject({ healthy: true, restarts: 1 });
    await expect(c.call(1, json({ fail: true }))).rejects.toThrow(/asked to fail/);
  });

  it("a peer that dies mid-frame is counted and the daemon goes on", async () => {
    const frame = encodeFrame({ flags: 0, routeId: 1, frameId: 1 }, Buffer.alloc(1000));
    await new Promise<void>((resolve) => {
      const s = connect(p.socket, () => {
        s.write(frame.subarray(0, 500), () => {
          s.destroy();
          resolve();
        });
      });
    });
    await sleep(100);
    const s = await status();
    expect(s.drops.uds.truncated).toBe(1);
    expect(parse(await c.call(1, json({ after: 1 })))).toMatchObject({ request: { after: 1 } });
  });
});
