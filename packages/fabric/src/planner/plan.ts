import { existsSync } from "node:fs";
import { join } from "node:path";
import { FabricError } from "../errors.js";
import { readJsonFile } from "../json-file.js";
import type { FabricPaths } from "../paths.js";
import { emptyTrustStore } from "../trust/store.js";
import { PlanLog } from "../wal/plan-log.js";
import { buildModel, type Model, type ModelPaths, type ModelRoute, round } from "./constraints.js";
import type { PlannerInputs } from "./inputs.js";
import {
  admissionWeights,
  ILP_MAX_NODES,
  ILP_MAX_ROUTES,
  LP_MAX_ROUTES,
  type SolveResult,
  solveAdmission,
} from "./lp.js";
import { type BaseState, Solver } from "./place.js";
import { type Plan, type PlanRoute, pairKey, type RejectedRoute } from "./types.js";
import { computePlanId, verifyPlan } from "./verify.js";

export interface BuildOptions {
  /** The plan in force (churn minimisation, route_ids, inputs.base), or null. */
  base: Plan | null;
  /** The plan_id of the plan in force when its file is not at hand (null: none). Defaults to base?.plan_id. */
  baseId?: string | null;
  paths: ModelPaths;
  /** LP bound: `auto` up to LP_MAX_ROUTES routes when admission refused some, `always`, `never`. */
  lp?: "auto" | "always" | "never";
}

export interface BuildResult {
  plan: Plan;
  model: Model;
  solver: Solver;
  /** model route index → route_id, for admitted routes. */
  routeIds: Map<number, number>;
}

function baseState(m: Model, base: Plan | null): BaseState {
  const node = new Int32Array(m.symbols.length).fill(-1);
  const routes = new Uint8Array(m.routes.length);
  if (!base) return { node, routes };
  const nodeIndex = new Map(m.nodes.map((n, i) => [n.id, i]));
  for (const [s, id] of Object.entries(base.placement)) {
    const i = m.symIndex.get(s);
    if (i !== undefined) node[i] = nodeIndex.get(id) ?? -1;
  }
  const pairs = new Set(base.routes.map((r) => pairKey(r.from, r.to)));
  m.routes.forEach((r, i) => {
    if (pairs.has(pairKey(r.from, r.to))) routes[i] = 1;
  });
  return { node, routes };
}

const weightOf = (s: Solver, w: Float64Array) => {
  let sum = 0;
  for (let i = 0; i < s.admitted.length; i++) if (s.admitted[i]) sum += w[i] ?? 0;
  return sum;
};

const report = (r: SolveResult) => ({
  status: r.status,
  objective: r.objective === null ? null : round(r.objective),
  rows: r.rows,
  columns: r.columns,
});

/**
 * Plans: model and static checks (constraints.ts), greedy filter → score → bind plus local search (place.ts), the
 * exact ILP for small admission problems and the LP bound (lp.ts), then the plan: route_ids kept from the plan in
 * force (new pairs get the next ids in (from, to) order), the table sorted by route_id, routes_add/routes_remove
 * against the base, placement, rejected routes with their codes, stats, plan_id. Deterministic: no clocks, no
 * randomness, every order fixed, solver limits by count.
 */
export async function buildPlan(inputs: PlannerInputs, opts: BuildOptions): Promise<BuildResult> {
  const m = buildModel(inputs, opts.paths);
  const base = opts.base;
  const bs = baseState(m, base);
  let solver = new Solver(m, bs);
  solver.run();
  const greedyObjective = solver.objective();

  let lpStats: Record<string, unknown> = { skipped: "every statically feasible route admitted: the bound is met" };
  let ilpStats: Record<string, unknown> | undefined;
  const admissionRefused = [...solver.rejected.values()].some((r) => r.code === "RTT_PLAN_ADMISSION");
  const weights = admissionRefused ? admissionWeights(m, solver.order) : null;
  if (admissionRefused && !weights) lpStats = { skipped: "too many priority levels for exact lexicographic weights" };
  const lpMode = opts.lp ?? "auto";
  if (weights) {
    const greedyW = weightOf(solver, weights);
    if (solver.order.length <= ILP_MAX_ROUTES && m.nodes.length <= ILP_MAX_NODES) {
      const ilp = await solveAdmission(m, solver.order, weights, "ilp");
      ilpStats = { ...report(ilp), greedy: round(greedyW), adopted: false };
      if (ilp.node && ilp.admitted && ilp.objective !== null && ilp.objective > greedyW + 1e-9 * Math.max(1, greedyW)) {
        const exact = new Solver(m, bs);
        if (exact.adopt(ilp.node, ilp.admitted)) {
          exact.improve();
          if (weightOf(exact, weights) > greedyW) {
            solver = exact;
            ilpStats.adopted = true;
          }
        }
      }
    }
    if (lpMode === "always" || (lpMode === "auto" && solver.order.length <= LP_MAX_ROUTES)) {
      const lp = await solveAdmission(m, solver.order, weights, "lp");
      const got = weightOf(solver, weights);
      lpStats = {
        ...report(lp),
        admitted_weight: round(got),
        gap: lp.objective === null || lp.objective <= 0 ? null : round((lp.objective - got) / lp.objective),
      };
    } else if (lpMode === "never") lpStats = { skipped: "--no-lp" };
    else lpStats = { skipped: `over ${LP_MAX_ROUTES} routes: run bench/planner for the bound` };
  }

  // route_ids: kept for pairs the base holds, the next free ones for new pairs in (from, to) order
  const baseIds = new Map((base?.routes ?? []).map((r) => [pairKey(r.from, r.to), r]));
  let next = 1;
  for (const r of base?.routes ?? []) next = Math.max(next, r.route_id + 1);
  const baseNext = base?.stats?.next_route_id;
  if (typeof baseNext === "number" && Number.isInteger(baseNext)) next = Math.max(next, baseNext);
  const routeIds = new Map<number, number>();
  const routes: PlanRoute[] = [];
  for (let i = 0; i < m.routes.length; i++) {
    if (!solver.admitted[i]) continue;
    const r = m.routes[i] as ModelRoute;
    const kept = baseIds.get(pairKey(r.from, r.to));
    const id = kept ? kept.route_id : next++;
    if (id > 0xffffffff) throw new FabricError("RTT_FABRIC_INVALID", "route_id space (u32) exhausted", r.from);
    routeIds.set(i, id);
    const lane = solver.lane(r, solver.node[r.f] ?? -1, solver.node[r.t] ?? -1);
    if (!lane) throw new Error(`planner bug: admitted route ${r.from} -> ${r.to} has no lane`);
    routes.push({ route_id: id, from: r.from, to: r.to, lane });
  }
  routes.sort((a, b) => a.route_id - b.route_id);
  const routes_add = routes.filter((r) => {
    const old = baseIds.get(pairKey(r.from, r.to));
    return !old || old.lane !== r.lane || old.route_id !== r.route_id;
  });
  const inTable = new Set(routes.map((r) => pairKey(r.from, r.to)));
  const routes_remove = (base?.routes ?? [])
    .filter((r) => !inTable.has(pairKey(r.from, r.to)))
    .sort((a, b) => a.route_id - b.route_id);
  const placement: Record<string, string> = {};
  let moved = 0;
  let kept = 0;
  for (let s = 0; s < m.symbols.length; s++) {
    const n = solver.node[s] ?? -1;
    if (n < 0) continue;
    placement[m.symbols[s] as string] = m.nodes[n]?.id as string;
    const b = bs.node[s] ?? -1;
    if (b >= 0) b === n ? kept++ : moved++;
  }
  const rejected: RejectedRoute[] = [];
  for (let i = 0; i < m.routes.length; i++) {
    const r = m.routes[i] as ModelRoute;
    const why = r.fail ? { code: r.fail.code, reason: r.fail.detail } : solver.rejected.get(i);
    if (why && !solver.admitted[i]) rejected.push({ from: r.from, to: r.to, ...why });
  }
  const objective = solver.objective();
  const stats: Record<string, unknown> = {
    routes: { desired: m.routes.length, admitted: routes.length, rejected: rejected.length },
    symbols: { placed: Object.keys(placement).length, kept, moved },
    nodes: m.nodes.length,
    solver: { ...solver.stats },
    objective: { admitted_value: round(objective.admitted_value), latency_cost: round(objective.latency_cost) },
    greedy_objective: {
      admitted_value: round(greedyObjective.admitted_value),
      latency_cost: round(greedyObjective.latency_cost),
    },
    lp: lpStats,
    ...(ilpStats ? { ilp: ilpStats } : {}),
    next_route_id: next,
  };
  const body = {
    inputs: {
      hash: inputs.hash,
      base: opts.baseId !== undefined ? opts.baseId : (base?.plan_id ?? null),
      files: inputs.files,
    },
    routes_add,
    routes_remove,
    routes,
    placement,
    rejected,
    stats,
  };
  const plan: Plan = { plan_id: computePlanId(body), ...body };
  return { plan, model: m, solver, routeIds };
}

/** Where the reconciler keeps applied plans: `<root>/plans/<hex>.json`. */
export const planFile = (paths: FabricPaths, planId: string): string =>
  join(paths.root, "plans", `${planId.replace(/^sha256:/, "")}.json`);

/**
 * The plan in force: the WAL's current plan (read-only open; none without a WAL) and its file under .rtt/plans/,
 * checked with verifyPlan (integrity; trust is the applier's business). A current plan without its file is
 * RTT_FABRIC_NOT_FOUND: new route_ids could collide with the applied ones.
 */
export function planInForce(paths: FabricPaths): { plan: Plan | null; plan_id: string | null; file?: string } {
  const current = PlanLog.inForce(paths.wal);
  if (!current) return { plan: null, plan_id: null };
  const file = planFile(paths, current);
  if (!existsSync(file))
    throw new FabricError(
      "RTT_FABRIC_NOT_FOUND",
      `the plan in force ${current} has no file ${file}: pass --base FILE or --base none`,
      paths.wal,
    );
  return { plan: readPlan(file), plan_id: current, file };
}

/** Reads a plan file and checks its schema and plan_id (not its signature). */
export function readPlan(file: string): Plan {
  return verifyPlan(readJsonFile(file), { strict: false, store: emptyTrustStore(), where: file }).plan;
}
