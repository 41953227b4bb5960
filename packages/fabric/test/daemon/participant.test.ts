import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FabricClient } from "../../src/daemon/client.js";
import type { Plan } from "../../src/planner/types.js";
import { makePlan } from "../reconcile/plans.js";
import { type Daemon, type Project, project, RTT, route, startDaemon } from "./harness.js";

// Issue 16 item 1: a running daemon is a 2PC participant of `rtt plan apply | rollback | recover` (spec/fabric/daemon.md).

let p: Project;
let d: Daemon;
const ECHO = {
  "rtt://test/echo": { builtin: "echo", info: true },
  "rtt://test/other": { builtin: "echo", info: true },
};

beforeAll(async () => {
  p = project([], ECHO, "sha256:stale-table");
  d = await startDaemon(p);
}, 30_000);
afterAll(async () => {
  await d?.stop();
  p?.cleanup();
});

const rtt = (...args: string[]) => {
  const r = spawnSync(process.execPath, [RTT, ...args, "--root", p.root], { cwd: p.dir, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

const planFile = (plan: Plan, name: string) => {
  const f = join(p.dir, `${name}.json`);
  writeFileSync(f, JSON.stringify(plan));
  return f;
};

async function served(symbol: string): Promise<{ plan_id: string | null; endpoint?: string; error?: string }> {
  const c = await FabricClient.uds(p.socket);
  try {
    const hello = await c.control<{ plan_id: string | null }>("hello");
    try {
      const out = JSON.parse((await c.callSymbol(symbol, Buffer.from("{}"))).toString()) as { endpoint: string };
      return { plan_id: hello.plan_id, endpoint: out.endpoint };
    } catch (e) {
      return { plan_id: hello.plan_id, error: (e as Error).message };
    }
  } finally {
    c.close();
  }
}

describe("rtt plan apply with a daemon up", () => {
  const p1 = makePlan(null, [route(1, "rtt://svc/a", "rtt://test/echo")]);
  const p2 = makePlan(p1, [route(2, "rtt://svc/a", "rtt://test/other")]);

  it("the daemon is a participant: the committed plan is the table it serves", async () => {
    const r = rtt("plan", "apply", planFile(p1, "p1"));
    expect(r.code, r.err).toBe(0);
    expect(await served("rtt://svc/a")).toEqual({ plan_id: p1.plan_id, endpoint: "rtt://test/echo" });
    const st = rtt("plan", "status", "--json");
    expect(st.code, st.err).toBe(0);
    const s = JSON.parse(st.out) as { participants: Array<{ name: string; in_sync: boolean }> };
    expect(s.participants.map((x) => [x.name, x.in_sync])).toEqual([
      ["local", true],
      ["fabric-daemon", true],
    ]);
  }, 30_000);

  it("a daemon that votes no aborts the plan: nothing changes anywhere", async () => {
    const drivers = join(p.root, "drivers.json");
    writeFileSync(drivers, "{not json"); // prepare re-reads drivers.json: unreadable → the daemon votes no
    try {
      const r = rtt("plan", "apply", planFile(p2, "p2"));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/RTT_FABRIC_NACK|voted no/);
      expect(r.err).toContain("fabric-daemon");
    } finally {
      writeFileSync(drivers, JSON.stringify(ECHO));
    }
    expect(await served("rtt://svc/a")).toEqual({ plan_id: p1.plan_id, endpoint: "rtt://test/echo" });
    const local = JSON.parse(readFileSync(join(p.root, "fabric", "routes.json"), "utf8")) as { plan_id: string };
    expect(local.plan_id).toBe(p1.plan_id);
  }, 30_000);

  it("apply then rollback move the daemon's table both ways (hot swap to another endpoint)", async () => {
    expect(rtt("plan", "apply", planFile(p2, "p2")).code).toBe(0);
    expect(await served("rtt://svc/a")).toEqual({ plan_id: p2.plan_id, endpoint: "rtt://test/other" });
    const rb = rtt("plan", "rollback", "--reason", "test");
    expect(rb.code, rb.err).toBe(0);
    expect(await served("rtt://svc/a")).toEqual({ plan_id: p1.plan_id, endpoint: "rtt://test/echo" });
  }, 30_000);

  it("recovery re-drives a daemon that serves something else to the plan in force", async () => {
    const c = await FabricClient.uds(p.socket);
    try {
      const t = { kind: "recover", plan_id: "sha256:elsewhere", from: null, routes: [] };
      await c.control("prepare", { transition: t });
      await c.control("commit", { transition: t });
    } finally {
      c.close();
    }
    expect((await served("rtt://svc/a")).plan_id).toBe("sha256:elsewhere");
    const r = rtt("plan", "recover");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("fabric-daemon");
    expect(await served("rtt://svc/a")).toEqual({ plan_id: p1.plan_id, endpoint: "rtt://test/echo" });
  }, 30_000);
});
