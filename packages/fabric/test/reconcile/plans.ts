import type { KeyObject } from "node:crypto";
import { hashOf } from "../../src/canonical.js";
import type { Plan, PlanRoute } from "../../src/planner/types.js";
import { computePlanId } from "../../src/planner/verify.js";
import { signDocument } from "../../src/trust/sign.js";

/** A route of the test fabric: rtt://svc/s<i> -> rtt://svc/t<i> with route_id i. */
export const route = (i: number, lane: PlanRoute["lane"] = "uds"): PlanRoute => ({
  route_id: i,
  from: `rtt://svc/s${i}`,
  to: `rtt://svc/t${i}`,
  lane,
});

/** n routes 1..n. */
export const routes = (n: number, lane: PlanRoute["lane"] = "uds"): PlanRoute[] =>
  Array.from({ length: n }, (_, i) => route(i + 1, lane));

const key = (r: PlanRoute) => `${r.from}\u0000${r.to}`;

/**
 * A valid plan whose table is `table`, computed against `base` (null: no plan): routes_add/routes_remove are the
 * difference, every symbol placed, plan_id computed like the planner's; signed when `sign` is given.
 */
export function makePlan(
  base: Plan | null,
  table: PlanRoute[],
  opts: { sign?: KeyObject; inputsHash?: string; tag?: string } = {},
): Plan {
  const sorted = [...table].sort((a, b) => a.route_id - b.route_id);
  const old = new Map((base?.routes ?? []).map((r) => [key(r), r]));
  const now = new Map(sorted.map((r) => [key(r), r]));
  const routes_add = sorted.filter((r) => {
    const o = old.get(key(r));
    return !o || o.lane !== r.lane || o.route_id !== r.route_id;
  });
  const routes_remove = (base?.routes ?? []).filter((r) => !now.has(key(r)));
  const placement: Record<string, string> = {};
  for (const r of sorted) {
    placement[r.from] = "node-a";
    placement[r.to] = "node-a";
  }
  const body = {
    inputs: {
      hash: opts.inputsHash ?? `sha256:${hashOf({ sorted, tag: opts.tag ?? "" })}`,
      base: base?.plan_id ?? null,
    },
    routes_add,
    routes_remove,
    routes: sorted,
    placement,
  };
  const plan: Plan = { plan_id: computePlanId(body), ...body };
  return opts.sign ? (signDocument(plan, opts.sign) as Plan) : plan;
}

/** A chain of n plans of `size` routes, each changing one route's lane against the one before. */
export function chain(n: number, size: number): Plan[] {
  const out: Plan[] = [];
  let table = routes(size);
  let prev: Plan | null = null;
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      const at = (i * 7) % size;
      const r = table[at] as PlanRoute;
      table = table.map((x, j) => (j === at ? { ...r, lane: r.lane === "uds" ? "shm" : "uds" } : x));
    }
    prev = makePlan(prev, table);
    out.push(prev);
  }
  return out;
}
