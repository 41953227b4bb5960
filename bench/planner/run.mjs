#!/usr/bin/env node
// Plan generation (issue 15): greedy filter → score → bind + local search on generated, seeded instances, beside
// the LP bound (HiGHS) of the same admission problem, and HiGHS's exact ILP time on a small instance.
// Usage: node bench/planner/run.mjs [--routes 10000] [--nodes 8] [--seed 1] [--runs 5] [--json] [--no-lp]
// Needs the built fabric: npx tsc -p packages/fabric
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import {
  admissionWeights,
  buildPlan,
  hashInputs,
  normaliseInputs,
  solveAdmission,
} from "../../packages/fabric/dist/index.js";
import { prng } from "../lib/prng.mjs";

const { values: o } = parseArgs({
  options: {
    routes: { type: "string", default: "10000" },
    nodes: { type: "string", default: "8" },
    seed: { type: "string", default: "1" },
    runs: { type: "string", default: "5" },
    json: { type: "boolean", default: false },
    "no-lp": { type: "boolean", default: false },
    "small-only": { type: "boolean", default: false },
  },
});

/** R routes among R/4 symbols in 16 domains on N nodes over 2 NUMA nodes; CPU demand ≈ 1.2 × capacity (admission). */
export function instance(R, N, seed) {
  const r = prng(seed);
  const S = Math.max(8, Math.ceil(R / 4));
  const decls = Array.from({ length: S }, (_, i) => ({
    symbol: `rtt://d${i % 16}/svc/s${i}`,
    version: "1.0.0",
    input_type: "T",
    output_type: "T",
    qos: { cpu: 0.25 + Math.floor(r() * 8) / 4, memory_mb: 64 + Math.floor(r() * 8) * 64, latency_p99_ms: 0.2 },
  }));
  const demand = decls.reduce((s, d) => s + d.qos.cpu, 0);
  const manifests = Array.from({ length: 16 }, (_, d) => ({
    manifest: `m${d}`,
    version: "1.0.0",
    symbols: decls.filter((_, i) => i % 16 === d),
  }));
  const seen = new Set();
  const routes = [];
  while (routes.length < R) {
    const a = Math.floor(r() * S);
    // locality: most routes stay within a domain neighbourhood
    const b = r() < 0.8 ? (a + 16 * (1 + Math.floor(r() * 4))) % S : Math.floor(r() * S);
    if (a === b || seen.has(`${a}:${b}`)) continue;
    seen.add(`${a}:${b}`);
    routes.push({
      from: decls[a].symbol,
      to: decls[b].symbol,
      priority: Math.floor(r() * 3),
      value: 1 + Math.floor(r() * 10),
      ...(r() < 0.05 ? { control: true } : {}),
    });
  }
  const cpu = demand / 1.2 / N;
  const topology = {
    nodes: Array.from({ length: N }, (_, i) => ({ id: `node${i}`, cpu, memory_mb: 1e9, numa: i % 2 })),
    numa_distance: [
      [10, 21],
      [21, 10],
    ],
  };
  const policy = { qos: [{ from: "rtt://d0/**", latency_p99_ms: 1 }] };
  const where = { routes: "routes", manifests: "manifests", policy: "policy", topology: "topology" };
  const n = normaliseInputs({ routes: { routes }, manifests, policy, topology }, where);
  return { inputs: { ...n, ...hashInputs(n), warnings: [], strict: false }, where };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(R, N, seed, runs, lp) {
  const { inputs, where } = instance(R, N, seed);
  const times = [];
  let res;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    res = await buildPlan(inputs, { base: null, paths: where, lp: "never" });
    times.push(performance.now() - t0);
  }
  const plan = res.plan;
  const out = {
    routes: R,
    nodes: N,
    seed,
    plan_ms_median: +median(times).toFixed(1),
    plan_ms_max: +Math.max(...times).toFixed(1),
    admitted: plan.routes.length,
    rejected: plan.rejected.length,
    plan_id: plan.plan_id,
    objective: plan.stats.objective,
    solver: plan.stats.solver,
  };
  if (lp) {
    const order = res.solver.order;
    const w = admissionWeights(res.model, order);
    let got = 0;
    for (let i = 0; i < res.solver.admitted.length; i++) if (res.solver.admitted[i]) got += w[i];
    const t0 = performance.now();
    const bound = await solveAdmission(res.model, order, w, "lp");
    out.lp = {
      status: bound.status,
      ms: +(performance.now() - t0).toFixed(0),
      rows: bound.rows,
      columns: bound.columns,
      bound: bound.objective,
      greedy: got,
      gap: bound.objective ? +((bound.objective - got) / bound.objective).toFixed(5) : null,
    };
  }
  return out;
}

async function ilpSmall(seed) {
  const { inputs, where } = instance(40, 4, seed);
  const res = await buildPlan(inputs, { base: null, paths: where, lp: "never" });
  const w = admissionWeights(res.model, res.solver.order);
  let greedy = 0;
  for (let i = 0; i < res.solver.admitted.length; i++) if (res.solver.admitted[i]) greedy += w[i];
  const t0 = performance.now();
  const ilp = await solveAdmission(res.model, res.solver.order, w, "ilp");
  return {
    routes: 40,
    nodes: 4,
    ilp_ms: +(performance.now() - t0).toFixed(0),
    status: ilp.status,
    optimum: ilp.objective,
    greedy,
    plan_stats_ilp: res.plan.stats.ilp ?? null,
  };
}

const R = Number(o.routes);
const N = Number(o.nodes);
const seed = Number(o.seed);
const runs = Number(o.runs);
const results = { node: process.version, cases: [] };
if (!o["small-only"]) results.cases.push(await measure(R, N, seed, runs, !o["no-lp"]));
results.cases.push(await measure(100, 4, seed, runs, !o["no-lp"]));
results.ilp_small = await ilpSmall(seed);
if (o.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
else {
  for (const c of results.cases) {
    console.log(
      `plan ${c.routes} routes × ${c.nodes} nodes: median ${c.plan_ms_median} ms (max ${c.plan_ms_max}) — ${c.admitted} admitted, ${c.rejected} rejected; local search ${c.solver.local_search_moves} moves`,
    );
    if (c.lp)
      console.log(
        `  LP bound (HiGHS, ${c.lp.rows} rows × ${c.lp.columns} cols): ${c.lp.status} in ${c.lp.ms} ms; greedy ${c.lp.greedy} vs bound ${c.lp.bound} → gap ${c.lp.gap === null ? "-" : `${(c.lp.gap * 100).toFixed(3)} %`}`,
      );
  }
  const s = results.ilp_small;
  console.log(
    `exact ILP (HiGHS) ${s.routes} routes × ${s.nodes} nodes: ${s.status} in ${s.ilp_ms} ms; optimum ${s.optimum}, greedy ${s.greedy}`,
  );
}
