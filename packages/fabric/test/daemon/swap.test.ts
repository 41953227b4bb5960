import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FabricClient } from "../../src/daemon/client.js";
import { DaemonParticipant } from "../../src/daemon/participant.js";
import type { Transition } from "../../src/reconcile/participant.js";
import { type Daemon, fixtureDriver, json, parse, project, route, startDaemon } from "./harness.js";

// The daemon as a 2PC participant over its control socket, and hot swap: a plan that moves a route to another
// endpoint, applied while clients fire calls without pause — zero failed calls; new calls reach the new endpoint
// once committed, the calls in flight on the old one finish there, then the old endpoint is stopped.
const X = "rtt://app/x";
const A = "rtt://svc/a";
const B = "rtt://svc/b";
const p = project([route(1, X, A)], {
  [A]: { builtin: "echo", info: true, delay_ms: 40 },
  [B]: fixtureDriver("B"),
});
let d: Daemon;
let part: DaemonParticipant;
beforeAll(async () => {
  d = await startDaemon(p, ["--drain", "3000"]);
  part = new DaemonParticipant(p.socket);
});
afterAll(async () => {
  await d?.stop();
  p.cleanup();
});

const toB: Transition = { kind: "apply", plan_id: "sha256:test-2", from: "sha256:test-1", routes: [route(2, X, B)] };

describe("fabric daemon: 2PC participant and hot swap (integration)", () => {
  it("prepare stages without changing what is served; abort drops it; a bad table is voted down", async () => {
    expect(await part.state()).toEqual({ plan_id: "sha256:test-1", routes: [route(1, X, A)] });
    expect(await part.prepare(toB)).toEqual({ ok: true });
    const c = await FabricClient.uds(p.socket);
    expect((await c.control<any>("status")).staged).toBe("sha256:test-2");
    expect(parse(await c.callSymbol(X, json(1))).endpoint).toBe(A);
    await part.abort(toB);
    expect((await c.control<any>("status")).staged).toBeNull();
    c.close();
    const bad: Transition = { ...toB, routes: [route(2, X, B), route(2, "rtt://app/y", B)] };
    expect(await part.prepare(bad)).toMatchObject({ ok: false, reason: expect.stringMatching(/route_id 2/) });
    expect(await part.state()).toMatchObject({ plan_id: "sha256:test-1" });
    const gone = new DaemonParticipant(`${p.root}/nobody.sock`);
    expect(await gone.prepare(toB)).toMatchObject({ ok: false, reason: expect.stringMatching(/no fabric daemon/) });
  });

  it("moves a route to another endpoint under traffic with zero failed calls", async () => {
    const clients = await Promise.all([0, 1, 2, 3].map(() => FabricClient.uds(p.socket)));
    let stop = false;
    let committedAt = Number.POSITIVE_INFINITY;
    const seen: Array<{ endpoint: string; sent: number; done: number }> = [];
    const failures: unknown[] = [];
    const fire = async (c: FabricClient, i: number) => {
      let n = 0;
      while (!stop) {
        const sent = performance.now();
        try {
          // half the loops keep the route_id they resolved once (rerouted after the swap), half resolve each time
          const b = i % 2 ? await c.call(1, json({ i, n })) : await c.callSymbol(X, json({ i, n }));
          const v = parse(b);
          seen.push({
            endpoint: v.endpoint ?? `rtt://svc/${String(v.driver).toLowerCase()}`,
            sent,
            done: performance.now(),
          });
        } catch (e) {
          failures.push(e);
        }
        n++;
      }
    };
    const loops = clients.flatMap((c, i) => [fire(c, i), fire(c, i + 4)]);
    await sleep(500);
    expect(await part.prepare(toB)).toEqual({ ok: true });
    await part.commit(toB);
    committedAt = performance.now();
    await sleep(500);
    stop = true;
    await Promise.all(loops);
    for (const c of clients) c.close();

    expect(failures).toEqual([]);
    const before = seen.filter((s) => s.sent < committedAt - 50);
    const after = seen.filter((s) => s.sent > committedAt + 5);
    expect(before.length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
    expect(new Set(before.map((s) => s.endpoint))).toEqual(new Set([A]));
    expect(new Set(after.map((s) => s.endpoint))).toEqual(new Set([B]));
    // calls in flight at the commit finished on A, after the commit
    expect(seen.some((s) => s.endpoint === A && s.done > committedAt)).toBe(true);

    expect(await part.state()).toEqual({ plan_id: "sha256:test-2", routes: [route(2, X, B)] });
    await sleep(200);
    const c = await FabricClient.uds(p.socket);
    const s = await c.control<any>("status");
    c.close();
    expect(s.retiring).toBe(0);
    expect(s.drivers.map((x: any) => x.symbol)).toEqual([B]);
    expect(s.routes[0]).toMatchObject({ route_id: 2, errors: 0 });
    // committing the same transition again (recovery re-drives) changes nothing
    await part.commit(toB);
    expect(await part.state()).toMatchObject({ plan_id: "sha256:test-2" });
  });
});
