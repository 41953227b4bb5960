import { createRequire } from "node:module";
import type { Highs } from "highs";
import type { Model, ModelRoute } from "./constraints.js";
import { laneOf } from "./constraints.js";

/** Exact admission (ILP) only for problems this small; HiGHS's branch and bound is bounded by node count. */
export const ILP_MAX_ROUTES = 64;
export const ILP_MAX_NODES = 16;
export const MIP_MAX_NODES = 2000;
export const SIMPLEX_ITERATION_LIMIT = 1_000_000;
/** The LP bound is computed during `plan build` up to this many routes (the bench computes it beyond). */
export const LP_MAX_ROUTES = 2000;

let highs: Promise<Highs> | undefined;
/** HiGHS (WebAssembly), loaded once per process on first use. */
export function loadHighs(): Promise<Highs> {
  if (!highs) {
    const require = createRequire(import.meta.url);
    const loader = require("highs") as (o?: object) => Promise<Highs>;
    highs = loader();
  }
  return highs;
}

/**
 * Lexicographic admission weights: within one priority a route weighs its value; each priority level is offset by
 * more than everything below it can add up to, so one route of a higher priority outweighs any set of lower ones (the
 * greedy order, as an objective). Returns null when the offsets would lose precision (too many levels).
 */
export function admissionWeights(m: Model, routes: number[]): Float64Array | null {
  const w = new Float64Array(m.routes.length);
  const levels = [...new Set(routes.map((i) => (m.routes[i] as ModelRoute).priority))].sort((a, b) => a - b);
  let below = 0;
  for (const p of levels) {
    const offset = below === 0 ? 0 : below + 1;
    let sum = 0;
    for (const i of routes) {
      const r = m.routes[i] as ModelRoute;
      if (r.priority !== p) continue;
      w[i] = r.value + offset;
      sum += w[i] ?? 0;
    }
    below += sum;
    if (below > 2 ** 50) return null;
  }
  return w;
}

const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(17).replace(/\.?0+$/, ""));

export interface AdmissionModel {
  text: string;
  routes: number[];
  symbols: number[];
  /** Rows in the model (for the report). */
  rows: number;
  columns: number;
}

/**
 * The admission problem in CPLEX LP format: maximise Σ w_r·a_r over a_r ∈ {0,1} (route admitted) and x_s,n ∈ {0,1}
 * (symbol s on node n), subject to Σ_n x_s,n ≤ 1, a_r ≤ Σ_n x_from,n and a_r ≤ Σ_n x_to,n, CPU and memory per node,
 * pins (only the pinned node's column exists), and — with `pairs` — a_r + x_from,a + x_to,b ≤ 2 for each pair (a, b)
 * where the route has no lane within its budget. Without `pairs` (large instances) the relaxation is looser but still
 * an upper bound.
 */
export function admissionModel(m: Model, routes: number[], w: Float64Array, binary: boolean, pairs: boolean) {
  const N = m.nodes.length;
  const used = new Set<number>();
  for (const i of routes) {
    const r = m.routes[i] as ModelRoute;
    used.add(r.f);
    used.add(r.t);
  }
  const symbols = [...used].sort((a, b) => a - b);
  const allowed = (s: number) => {
    const p = m.pin[s] ?? -1;
    return p >= 0 ? [p] : Array.from({ length: N }, (_, k) => k);
  };
  const x = (s: number, n: number) => `x${s}_${n}`;
  const lines: string[] = ["Maximize", ` obj: ${routes.map((i) => `${num(w[i] ?? 0)} a${i}`).join(" + ") || "0 a0"}`];
  lines.push("Subject To");
  let rows = 0;
  for (const s of symbols) {
    lines.push(
      ` s${s}: ${allowed(s)
        .map((n) => x(s, n))
        .join(" + ")} <= 1`,
    );
    rows++;
  }
  for (const i of routes) {
    const r = m.routes[i] as ModelRoute;
    for (const [end, s] of [
      ["f", r.f],
      ["t", r.t],
    ] as const) {
      if (end === "t" && r.t === r.f) continue;
      lines.push(
        ` l${end}${i}: a${i} - ${allowed(s)
          .map((n) => x(s, n))
          .join(" - ")} <= 0`,
      );
      rows++;
    }
    if (pairs && r.f !== r.t)
      for (const a of allowed(r.f))
        for (const b of allowed(r.t)) {
          const lane = laneOf(m, r, a, b);
          const ok = lane !== null && latencyWithin(m, r, lane, a, b);
          if (ok) continue;
          lines.push(` p${i}_${a}_${b}: a${i} + ${x(r.f, a)} + ${x(r.t, b)} <= 2`);
          rows++;
        }
  }
  for (let n = 0; n < N; n++) {
    const node = m.nodes[n];
    if (!node) continue;
    for (const [res, cap, dem] of [
      ["cpu", node.cpu, m.cpu],
      ["mem", node.mem, m.mem],
    ] as const) {
      const terms = symbols.filter((s) => (dem[s] ?? 0) > 0 && allowed(s).includes(n));
      if (terms.length === 0) continue;
      lines.push(` ${res}${n}: ${terms.map((s) => `${num(dem[s] ?? 0)} ${x(s, n)}`).join(" + ")} <= ${num(cap)}`);
      rows++;
    }
  }
  const cols = [...routes.map((i) => `a${i}`), ...symbols.flatMap((s) => allowed(s).map((n) => x(s, n)))];
  lines.push("Bounds");
  for (const c of cols) lines.push(` 0 <= ${c} <= 1`);
  if (binary) lines.push("Binary", ` ${cols.join(" ")}`);
  lines.push("End");
  return { text: lines.join("\n"), routes, symbols, rows, columns: cols.length } satisfies AdmissionModel;
}

function latencyWithin(m: Model, r: ModelRoute, lane: "shm" | "uds" | "tcp", a: number, b: number): boolean {
  const base = lane === "shm" ? m.latency.shm_ms : lane === "uds" ? m.latency.uds_ms : m.latency.tcp_ms;
  const d = m.dist[a * m.nodes.length + b] ?? 10;
  return base + m.latency.numa_hop_ms * (d / 10 - 1) + r.endpointMs <= r.budget;
}

export interface SolveResult {
  status: string;
  objective: number | null;
  rows: number;
  columns: number;
  /** For the ILP: the assignment (symbol → node, -1 none) and admitted routes. */
  node?: Int32Array;
  admitted?: Uint8Array;
}

const HIGHS_OPTIONS = {
  output_flag: false,
  random_seed: 0,
  threads: 1,
  simplex_iteration_limit: SIMPLEX_ITERATION_LIMIT,
  mip_max_nodes: MIP_MAX_NODES,
};

/** Solves the admission model with HiGHS: the LP relaxation (an upper bound) or the ILP (exact, node-limited). */
export async function solveAdmission(
  m: Model,
  routes: number[],
  w: Float64Array,
  mode: "lp" | "ilp",
): Promise<SolveResult> {
  const model = admissionModel(m, routes, w, mode === "ilp", mode === "ilp" || routes.length <= ILP_MAX_ROUTES);
  const h = await loadHighs();
  const sol = h.solve(model.text, HIGHS_OPTIONS);
  const solved = sol.Status === "Optimal" || sol.Status === "Iteration limit reached";
  const out: SolveResult = {
    status: sol.Status,
    objective: sol.Status === "Optimal" ? sol.ObjectiveValue : null,
    rows: model.rows,
    columns: model.columns,
  };
  if (mode === "ilp" && solved && sol.Status === "Optimal") {
    const cols = sol.Columns as Record<string, { Primal?: number }>;
    const node = new Int32Array(m.symbols.length).fill(-1);
    const admitted = new Uint8Array(m.routes.length);
    for (const i of routes) if ((cols[`a${i}`]?.Primal ?? 0) > 0.5) admitted[i] = 1;
    for (const s of model.symbols)
      for (let n = 0; n < m.nodes.length; n++) if ((cols[`x${s}_${n}`]?.Primal ?? 0) > 0.5) node[s] = n;
    out.node = node;
    out.admitted = admitted;
  }
  return out;
}
