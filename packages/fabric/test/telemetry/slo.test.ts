import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { PlanRoute } from "../../src/planner/types.js";
import { reconcilePaths } from "../../src/reconcile/paths.js";
import { Reconciler } from "../../src/reconcile/reconciler.js";
import { planStatus } from "../../src/reconcile/status.js";
import { FlightRecorder } from "../../src/telemetry/recorder.js";
import {
  type Observe,
  observationsBetween,
  type RouteObservation,
  readSloPolicy,
  type SloPolicy,
  sloGate,
  sloViolation,
} from "../../src/telemetry/slo.js";
import { makePlan } from "../reconcile/plans.js";

const dir = mkdtempSync(join(tmpdir(), "rtt-slo-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const obs = (o: Partial<RouteObservation>): RouteObservation => ({
  route_id: 1,
  from: "rtt://app/x",
  to: "rtt://svc/a",
  calls: 100,
  errors: 0,
  refused: 0,
  p99_ms: 1,
  breaker: "closed",
  window_ms: 1000,
  ...o,
});

describe("SLO objectives", () => {
  const policy: SloPolicy = {
    objectives: [
      { from: "rtt://app/**", latency_p99_ms: 10 },
      { to: "rtt://svc/a", error_rate: 0.05, min_calls: 20 },
    ],
  };

  it("p99 over the objective, error rate (errors + refusals) over it, an open breaker: each a clear reason", () => {
    expect(sloViolation(policy, obs({}))).toBeUndefined();
    expect(sloViolation(policy, obs({ p99_ms: 12.34 }))).toBe(
      "route 1 rtt://app/x -> rtt://svc/a: p99 12.3 ms > 10 ms (100 calls in 1000 ms)",
    );
    expect(sloViolation(policy, obs({ errors: 3, refused: 3 }))).toMatch(
      /error rate 5.83 % > 5.00 % \(3 errors, 3 refused of 103 calls\)/,
    );
    expect(sloViolation(policy, obs({ breaker: "open" }))).toMatch(/breaker open/);
    expect(sloViolation({ ...policy, breakers_closed: false }, obs({ breaker: "open" }))).toBeUndefined();
  });

  it("a route with fewer calls than min_calls is not judged; routes no objective matches are not either", () => {
    expect(sloViolation(policy, obs({ calls: 9, p99_ms: 50 }))).toBeUndefined();
    expect(sloViolation(policy, obs({ calls: 15, errors: 15 }))).toBeUndefined(); // min_calls 20 for error_rate
    expect(sloViolation(policy, obs({ from: "rtt://ui/y", to: "rtt://svc/b", p99_ms: 500 }))).toBeUndefined();
  });

  it("observations are differences of two recorder snapshots", () => {
    const rec = new FlightRecorder();
    const table = [{ route_id: 1, from: "rtt://app/x", to: "rtt://svc/a", lane: "uds" }];
    for (let i = 0; i < 50; i++) rec.route(1).done(1_000_000);
    const a = rec.snapshot({ table, planId: null, process: false });
    for (let i = 0; i < 198; i++) rec.route(1).done(2_000_000);
    rec.route(1).done(30_000_000, "RTT_FABRIC_DRIVER");
    rec.route(1).done(30_000_000, "RTT_FABRIC_DRIVER");
    rec.route(1).drop("max_requests");
    const b = rec.snapshot({ table, planId: null, process: false });
    const [o] = observationsBetween(a, b, [{ ...table[0]!, lane: "uds" } as PlanRoute]);
    expect(o).toMatchObject({ calls: 200, errors: 2, refused: 1 });
    expect(o!.p99_ms).toBeGreaterThan(1.9);
    expect(o!.p99_ms).toBeLessThan(2.1); // the two 30 ms calls are the top 1 %
  });

  it("policy.json: slo is read and checked against the schema", () => {
    const file = join(dir, "policy.json");
    writeFileSync(file, JSON.stringify({ slo: { objectives: [{ from: "rtt://app/x", latency_p99_ms: 5 }] } }));
    expect(readSloPolicy(file)?.objectives).toHaveLength(1);
    writeFileSync(file, JSON.stringify({ slo: { objectives: [{ latency_p99_ms: -1 }] } }));
    expect(() => readSloPolicy(file)).toThrow(/slo\/objectives\/0\/latency_p99_ms/);
    writeFileSync(file, JSON.stringify({ strict: false }));
    expect(readSloPolicy(file)).toBeUndefined();
  });
});

describe("SLO gate in the reconciler's VERIFY", () => {
  it("a plan whose new route is slow is rolled back by itself; the one before stays in force", async () => {
    const paths = reconcilePaths(join(dir, "r1", ".rtt"));
    const slow = new Set(["rtt://svc/slow"]);
    // an injected observer: the slow endpoint answers in 40 ms, the others in 1 ms
    const observe: Observe = async (routes) =>
      routes.map((r) => obs({ route_id: r.route_id, from: r.from, to: r.to, p99_ms: slow.has(r.to) ? 40 : 1 }));
    const gate = sloGate({ objectives: [{ from: "rtt://app/**", latency_p99_ms: 10 }] }, observe);
    const r1: PlanRoute = { route_id: 1, from: "rtt://app/x", to: "rtt://svc/fast", lane: "uds" };
    const p1 = makePlan(null, [r1]);
    const p2 = makePlan(p1, [{ route_id: 2, from: "rtt://app/x", to: "rtt://svc/slow", lane: "uds" }]);
    const rec = await Reconciler.open({ paths, verifiers: [gate] });
    try {
      expect((await rec.apply(p1)).outcome).toBe("committed");
      await expect(rec.apply(p2)).rejects.toMatchObject({
        code: "RTT_FABRIC_VERIFY_FAILED",
        message: expect.stringMatching(/slo: route 2 rtt:\/\/app\/x -> rtt:\/\/svc\/slow: p99 40.0 ms > 10 ms/),
      });
      expect(rec.state.current).toBe(p1.plan_id);
    } finally {
      rec.close();
    }
    const s = await planStatus({ paths });
    expect(s.current).toBe(p1.plan_id);
    expect(s.participants[0]).toMatchObject({ in_sync: true });
    expect(s.recent.at(-1)).toMatchObject({ type: "rollback", plan_id: p2.plan_id, to: p1.plan_id });
  });
});
