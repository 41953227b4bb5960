import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { FabricClient } from "../daemon/client.js";
import { readJsonFile } from "../json-file.js";
import { globRe } from "../planner/constraints.js";
import type { PlanRoute } from "../planner/types.js";
import type { Verifier, VerifyContext } from "../reconcile/verify.js";
import { assertSchema } from "../schemas.js";
import type { BreakerState } from "./breaker.js";
import { bucketDiff, type FlightSnapshot, hdrOf } from "./recorder.js";

/**
 * SLO gates (spec/fabric/breakers.md, "SLO gates"): per-route objectives from `.rtt/policy.json` `slo`, checked in
 * the VERIFY phase of the 2PC reconciler after a plan is committed. A plan under which a route misses its objective
 * fails VERIFY, and the reconciler rolls it back by itself (rollback record with the gate's reason).
 */

export interface SloObjective {
  /** Routes the objective applies to (globs; a missing side matches anything). */
  from?: string;
  to?: string;
  /** p99 latency over the verify window, ms. */
  latency_p99_ms?: number;
  /** Failed (errors + refusals) / attempted calls over the window, 0…1. */
  error_rate?: number;
  /** Fewer calls than this in the window: the route is not judged (default 10). */
  min_calls?: number;
}

export interface SloPolicy {
  objectives: SloObjective[];
  /** How long VERIFY watches the new table (default 1000 ms). */
  window_ms?: number;
  /** Calls VERIFY itself sends per judged route during the window, so a quiet route is judged too (default 20). */
  probe_calls?: number;
  /** The probe's request body as JSON (default null). */
  probe_payload?: unknown;
  /** A route whose breaker is open (ejected) fails the gate (default true). */
  breakers_closed?: boolean;
}

/** What VERIFY saw of one route over the window. */
export interface RouteObservation {
  route_id: number;
  from: string;
  to: string;
  /** Calls that reached the endpoint (answered or failed) … */
  calls: number;
  errors: number;
  /** … and calls refused before it (breaker caps, ejection, back-pressure). */
  refused: number;
  /** p99 latency, ms (null: no calls). */
  p99_ms: number | null;
  breaker: BreakerState | null;
  window_ms: number;
}

/** Watches the routes of a committed table for a window (and may drive probe calls) and reports each. */
export type Observe = (routes: readonly PlanRoute[], policy: SloPolicy) => Promise<RouteObservation[]>;

const matches = (o: SloObjective, r: { from: string; to: string }) =>
  (o.from === undefined || globRe(o.from).test(r.from)) && (o.to === undefined || globRe(o.to).test(r.to));

/** The objectives that apply to a route (all of them must hold). */
export const objectivesFor = (policy: SloPolicy, r: { from: string; to: string }): SloObjective[] =>
  policy.objectives.filter((o) => matches(o, r));

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** Why `obs` breaks the objectives that apply to it, or undefined. */
export function sloViolation(policy: SloPolicy, obs: RouteObservation): string | undefined {
  const name = `route ${obs.route_id} ${obs.from} -> ${obs.to}`;
  if ((policy.breakers_closed ?? true) && obs.breaker === "open")
    return `${name}: breaker open (ejected) during the ${obs.window_ms} ms window`;
  const attempted = obs.calls + obs.refused;
  for (const o of objectivesFor(policy, obs)) {
    if (attempted < (o.min_calls ?? 10)) continue;
    if (o.latency_p99_ms !== undefined && obs.p99_ms !== null && obs.p99_ms > o.latency_p99_ms)
      return `${name}: p99 ${fmt(obs.p99_ms)} ms > ${o.latency_p99_ms} ms (${obs.calls} calls in ${obs.window_ms} ms)`;
    const rate = (obs.errors + obs.refused) / attempted;
    if (o.error_rate !== undefined && rate > o.error_rate)
      return `${name}: error rate ${fmt(rate * 100)} % > ${fmt(o.error_rate * 100)} % (${obs.errors} errors, ${obs.refused} refused of ${attempted} calls)`;
  }
  return undefined;
}

/**
 * The SLO gate as a reconciler Verifier: observes the committed table's routes that have objectives and fails with
 * the first violation. Routes without objectives are not watched; a rollback is never gated (the reconciler runs
 * verifiers on applies only).
 */
export function sloGate(policy: SloPolicy, observe: Observe): Verifier {
  return {
    name: "slo",
    async check(ctx: VerifyContext) {
      const judged = ctx.transition.routes.filter((r) => objectivesFor(policy, r).length > 0);
      if (judged.length === 0 || policy.objectives.length === 0) return undefined;
      const seen = await observe(judged, policy);
      for (const obs of seen) {
        const why = sloViolation(policy, obs);
        if (why) return why;
      }
      return undefined;
    },
  };
}

/** Per-route observations from two cumulative flight snapshots of the same daemon. */
export function observationsBetween(
  before: FlightSnapshot,
  after: FlightSnapshot,
  routes: readonly PlanRoute[],
): RouteObservation[] {
  const b = new Map(before.routes.map((r) => [r.route_id, r]));
  const a = new Map(after.routes.map((r) => [r.route_id, r]));
  const window_ms = Math.round(after.mono_ms - before.mono_ms);
  return routes.map((route) => {
    const x = a.get(route.route_id);
    const y = b.get(route.route_id);
    const h = hdrOf(bucketDiff(x?.latency ?? [], y?.latency));
    const refused =
      Object.values(x?.drops ?? {}).reduce((s, v) => s + v, 0) -
      Object.values(y?.drops ?? {}).reduce((s, v) => s + v, 0);
    return {
      route_id: route.route_id,
      from: route.from,
      to: route.to,
      calls: (x?.calls ?? 0) - (y?.calls ?? 0),
      errors: (x?.errors ?? 0) - (y?.errors ?? 0),
      refused: Math.max(0, refused),
      p99_ms: h.totalCount ? h.getValueAtPercentile(99) / 1e6 : null,
      breaker: x?.breaker?.state ?? null,
      window_ms,
    };
  });
}

/**
 * Observes through a running daemon's control socket: a flight snapshot, `probe_calls` calls per route over the UDS
 * lane (spread over the window, two at a time), the rest of the window, a second snapshot; live traffic counts too.
 */
export function daemonObserver(
  socket: string,
  opts: {
    /**
     * Makes `route` callable on the probe connection when the daemon requires it (a capability token: `open`).
     * Without it, or when it throws, probes the daemon refuses are not recorded and the route is judged by its live
     * traffic alone (min_calls keeps a quiet route from being judged on nothing).
     */
    authorize?: (c: FabricClient, route: PlanRoute) => Promise<void>;
  } = {},
): Observe {
  return async (routes, policy) => {
    const windowMs = policy.window_ms ?? 1000;
    const probes = policy.probe_calls ?? 20;
    const body = Buffer.from(JSON.stringify(policy.probe_payload ?? null));
    const c = await FabricClient.uds(socket);
    try {
      if (opts.authorize) for (const r of routes) await opts.authorize(c, r).catch(() => {});
      const before = await c.control<FlightSnapshot>("flight");
      const t0 = performance.now();
      const gap = probes > 0 ? windowMs / probes : windowMs;
      await Promise.all(
        routes.map(async (r) => {
          for (let i = 0; i < probes; i += 2) {
            const batch = [c.call(r.route_id, body, { timeoutMs: windowMs * 10 })];
            if (i + 1 < probes) batch.push(c.call(r.route_id, body, { timeoutMs: windowMs * 10 }));
            await Promise.allSettled(batch); // failures are counted by the daemon's recorder
            const next = t0 + (i + 2) * gap;
            if (next > performance.now()) await sleep(Math.min(next - performance.now(), windowMs));
          }
        }),
      );
      const rest = windowMs - (performance.now() - t0);
      if (rest > 0) await sleep(rest);
      const after = await c.control<FlightSnapshot>("flight");
      return observationsBetween(before, after, routes);
    } finally {
      c.close();
    }
  };
}

/** `.rtt/policy.json`'s `slo` (checked against spec/fabric/policy.schema.json), or undefined when it has none. */
export function readSloPolicy(policyPath: string): SloPolicy | undefined {
  if (!existsSync(policyPath)) return undefined;
  const doc = readJsonFile(policyPath) as { slo?: SloPolicy };
  assertSchema("policy", doc, policyPath);
  return doc.slo && doc.slo.objectives.length > 0 ? doc.slo : undefined;
}

/** The SLO gate for a fabric root whose daemon listens on `socket`, or undefined when policy.json sets no objectives. */
export function sloGateFor(
  policyPath: string,
  socket: string,
  opts: Parameters<typeof daemonObserver>[1] = {},
): Verifier | undefined {
  const p = readSloPolicy(policyPath);
  return p ? sloGate(p, daemonObserver(socket, opts)) : undefined;
}
