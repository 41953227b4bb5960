// The Fabric view's read routes (/fabric/*) in process, without a daemon: the plan's table, the WAL's history with
// signature statuses (trusted, unknown key) and inclusion proofs (under a signed checkpoint, or the whole tree), a
// rollback, a socket nobody answers on, and how `rtt serve` picks its fabric root. The daemon's live numbers are
// covered by packages/web/test/e2e/fabric.test.ts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  generateKeyPair,
  type Plan,
  PlanLog,
  Reconciler,
  reconcilePaths,
  signDocument,
  trustKey,
  writeKeyPair,
} from "@rtt/fabric";
import { installErrorHandler, installValidation } from "@rtt/http";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makePlan, routes } from "../../fabric/test/reconcile/plans.js";
import type { FabricGraph, FabricPlans, FabricStatus } from "../src/api.js";
import { fabricPlugin, resolveFabricRoot } from "../src/fabric/index.js";

let dir: string;
let app: FastifyInstance;
let p1: Plan;
let p2: Plan;
const root = () => join(dir, ".rtt");

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "rtt-fabric-view-"));
  const paths = reconcilePaths(root());
  const trusted = generateKeyPair();
  const w = writeKeyPair(trusted, join(root(), "keys"), "ci");
  trustKey(paths.registry, w.publicKeyFile);
  p1 = makePlan(null, routes(2), { sign: trusted.privateKey });
  p2 = makePlan(p1, routes(3), { sign: generateKeyPair().privateKey }); // a key nobody trusts
  const r = await Reconciler.open({ paths });
  await r.apply(p1);
  r.close();
  const log = PlanLog.open(paths.wal);
  log.checkpoint((c) => signDocument(c, trusted.privateKey));
  log.close();
  const r2 = await Reconciler.open({ paths });
  await r2.apply(p2);
  r2.close();
  app = Fastify();
  installErrorHandler(app);
  installValidation(app);
  await app.register(fabricPlugin, { root: root(), daemonTimeoutMs: 500 });
});
afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = async <T>(url: string) => {
  const r = await app.inject({ method: "GET", url });
  return { status: r.statusCode, body: r.json() as T };
};

describe("GET /fabric/*", () => {
  it("status without a daemon: the plan in force's table, placed, with no live numbers and the reason", async () => {
    const { status, body } = await get<FabricStatus>("/fabric/status");
    expect(status).toBe(200);
    expect(body.daemon).toBeNull();
    expect(body.daemon_error).toContain("no daemon");
    expect(body.plan_id).toBe(p2.plan_id);
    expect(body.plan_in_force).toBe(p2.plan_id);
    expect(body.routes).toHaveLength(3);
    expect(body.routes[0]).toMatchObject({
      route_id: 1,
      from: "rtt://svc/s1",
      lane: "uds",
      placement: { from: "node-a", to: "node-a" },
      calls: null,
      p99_us: null,
      breaker: null,
    });
  });

  it("plans: history newest first, each signature checked and each commit's proof valid", async () => {
    const { status, body } = await get<FabricPlans>("/fabric/plans");
    expect(status).toBe(200);
    expect(body).toMatchObject({ exists: true, current: p2.plan_id, pending: null, commits: 2 });
    expect(body.plan?.signature.status).toBe("unknown_key");
    expect(body.checkpoints).toEqual([expect.objectContaining({ tree_size: 1, root_ok: true })]);
    expect(body.checkpoints[0]?.signature.status).toBe("valid");
    const [c2, c1] = body.history;
    expect(c2).toMatchObject({ plan_id: p2.plan_id, in_force: true, base: p1.plan_id, routes: 3 });
    expect(c2?.signature?.status).toBe("unknown_key");
    // After the checkpoint: proved against the whole tree now.
    expect(c2?.proof).toMatchObject({ ok: true, leaf_index: 1, tree_size: 2, checkpoint: null });
    expect(c1).toMatchObject({ plan_id: p1.plan_id, in_force: false, routes: 2 });
    expect(c1?.signature?.status).toBe("valid");
    expect(c1?.proof).toMatchObject({ ok: true, leaf_index: 0, tree_size: 1 });
    expect(c1?.proof?.checkpoint?.signature.status).toBe("valid");
    expect(body.events.map((e) => e.type)).toEqual(["checkpoint"]);
    expect((await get<FabricPlans>("/fabric/plans?limit=1")).body.history).toHaveLength(1);
    const bad = await get<{ code: string }>("/fabric/plans?limit=0");
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("RTT_ERR_INVALID_QUERY");
  });

  it("graph: every placed symbol and the routes", async () => {
    const { body } = await get<FabricGraph>("/fabric/graph");
    expect(body.placements).toEqual(["node-a"]);
    expect(body.symbols).toHaveLength(6);
    expect(body.symbols.find((s) => s.id === "rtt://svc/s3")).toMatchObject({ placement: "node-a", role: "from" });
    expect(body.routes.map((r) => r.route_id)).toEqual([1, 2, 3]);
  });

  it("after a rollback the earlier commit is in force; a socket nobody answers on is reported, not fatal", async () => {
    const r = await Reconciler.open({ paths: reconcilePaths(root()) });
    await r.rollback({ reason: "p99 regression" });
    r.close();
    writeFileSync(join(root(), "fabric.sock"), "");
    try {
      const plans = (await get<FabricPlans>("/fabric/plans")).body;
      expect(plans.current).toBe(p1.plan_id);
      expect(plans.history.map((c) => c.in_force)).toEqual([false, true]);
      expect(plans.events[0]).toMatchObject({ type: "rollback", plan_id: p2.plan_id, to: p1.plan_id });
      const st = (await get<FabricStatus>("/fabric/status")).body;
      expect(st.daemon).toBeNull();
      expect(st.daemon_error).toContain("does not answer");
      expect(st.routes).toHaveLength(2);
    } finally {
      rmSync(join(root(), "fabric.sock"));
    }
  });
});

describe("resolveFabricRoot", () => {
  it("takes the flag; without it, .rtt only when a daemon socket or a WAL is there", () => {
    const empty = mkdtempSync(join(tmpdir(), "rtt-fabric-root-"));
    try {
      expect(resolveFabricRoot("x", empty)).toBe(join(empty, "x"));
      expect(resolveFabricRoot(undefined, empty)).toBeUndefined();
      mkdirSync(join(empty, ".rtt", "wal"), { recursive: true });
      expect(resolveFabricRoot(undefined, empty)).toBeUndefined();
      writeFileSync(join(empty, ".rtt", "wal", "fabric.wal"), "");
      expect(resolveFabricRoot(undefined, empty)).toBe(join(empty, ".rtt"));
      expect(resolveFabricRoot(undefined, dir)).toBe(root());
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
