import { laneOf, latencyOf, type Model, type ModelRoute, type PlanCode } from "./constraints.js";
import type { Lane } from "./types.js";

/** Score bonus for keeping a symbol on the node the plan in force put it on: larger than any latency saving. */
export const KEEP_BONUS = 1e9;
/** Local search limits: passes over the movable symbols, and moves in all (never wall time). */
export const MAX_PASSES = 8;

/** The plan in force, as the solver sees it: each symbol's node (-1: none) and which routes it held. */
export interface BaseState {
  node: Int32Array;
  routes: Uint8Array;
}

export interface SolveStats {
  greedy_steps: number;
  local_search_passes: number;
  local_search_moves: number;
  readmitted: number;
}

/** Weight of a route in the latency objective: 1 + value, so every route pulls its ends together. */
export const latencyWeight = (r: ModelRoute): number => 1 + r.value;

/**
 * Admission order: priority (desc), value (desc), routes the plan in force already holds first, then (from, to) —
 * model.routes is sorted by (from, to), so the index is the last key. Only routes that passed every static check.
 */
export function admissionOrder(m: Model, base: BaseState): number[] {
  const idx: number[] = [];
  for (let i = 0; i < m.routes.length; i++) if (!m.routes[i]?.fail) idx.push(i);
  return idx.sort((a, b) => {
    const ra = m.routes[a] as ModelRoute;
    const rb = m.routes[b] as ModelRoute;
    return rb.priority - ra.priority || rb.value - ra.value || (base.routes[b] ?? 0) - (base.routes[a] ?? 0) || a - b;
  });
}

/**
 * The placement engine, after the Kubernetes scheduling framework: for each route in admission order, FILTER the
 * nodes each unplaced end may use (pin, free CPU and memory, lane and latency budget with the other end), SCORE the
 * pairs (keep the plan in force's node, latency to every placed neighbour, this route's latency, free capacity), BIND
 * the best (first in node order on a tie). Then a deterministic local search moves symbols not on their kept node
 * while the weighted latency falls, and a last pass retries the routes refused on the way.
 */
export class Solver {
  readonly N: number;
  readonly node: Int32Array;
  readonly admitted: Uint8Array;
  readonly usedCpu: Float64Array;
  readonly usedMem: Float64Array;
  readonly refs: Int32Array;
  readonly rejected = new Map<number, { code: PlanCode; reason: string }>();
  readonly stats: SolveStats = { greedy_steps: 0, local_search_passes: 0, local_search_moves: 0, readmitted: 0 };
  /** Routes (statically ok) touching each symbol. */
  readonly adj: number[][];
  readonly order: number[];

  constructor(
    readonly m: Model,
    readonly base: BaseState,
  ) {
    this.N = m.nodes.length;
    const S = m.symbols.length;
    this.node = new Int32Array(S).fill(-1);
    this.admitted = new Uint8Array(m.routes.length);
    this.usedCpu = new Float64Array(this.N);
    this.usedMem = new Float64Array(this.N);
    this.refs = new Int32Array(S);
    this.adj = Array.from({ length: S }, () => []);
    for (let i = 0; i < m.routes.length; i++) {
      const r = m.routes[i] as ModelRoute;
      if (r.fail) continue;
      this.adj[r.f]?.push(i);
      if (r.t !== r.f) this.adj[r.t]?.push(i);
    }
    this.order = admissionOrder(m, base);
  }

  /** Greedy admission over every route, local search, a retry pass. */
  run(): void {
    for (const i of this.order) this.step(i);
    this.localSearch();
    this.retry();
  }

  /** Runs local search and the retry pass from a state set by `adopt` (the ILP's answer). */
  improve(): void {
    this.localSearch();
    this.retry();
  }

  private free(n: number, s: number, extraCpu = 0, extraMem = 0): boolean {
    const node = this.m.nodes[n];
    if (!node) return false;
    const eps = 1e-9;
    return (
      (this.usedCpu[n] ?? 0) + (this.m.cpu[s] ?? 0) + extraCpu <= node.cpu + eps &&
      (this.usedMem[n] ?? 0) + (this.m.mem[s] ?? 0) + extraMem <= node.mem + eps
    );
  }

  private place(s: number, n: number): void {
    this.node[s] = n;
    this.usedCpu[n] = (this.usedCpu[n] ?? 0) + (this.m.cpu[s] ?? 0);
    this.usedMem[n] = (this.usedMem[n] ?? 0) + (this.m.mem[s] ?? 0);
  }

  private unplace(s: number): void {
    const n = this.node[s] ?? -1;
    if (n < 0) return;
    this.usedCpu[n] = (this.usedCpu[n] ?? 0) - (this.m.cpu[s] ?? 0);
    this.usedMem[n] = (this.usedMem[n] ?? 0) - (this.m.mem[s] ?? 0);
    this.node[s] = -1;
  }

  private admit(i: number): void {
    const r = this.m.routes[i] as ModelRoute;
    this.admitted[i] = 1;
    this.refs[r.f] = (this.refs[r.f] ?? 0) + 1;
    if (r.t !== r.f) this.refs[r.t] = (this.refs[r.t] ?? 0) + 1;
    this.rejected.delete(i);
  }

  /** Feasible lane of r with ends on (a, b) within its budget, or null. */
  lane(r: ModelRoute, a: number, b: number): Lane | null {
    const lane = laneOf(this.m, r, a, b);
    if (!lane) return null;
    return latencyOf(this.m, r, lane, a, b) <= r.budget ? lane : null;
  }

  /** Score of putting unplaced symbol s on node n: kept-node bonus, minus latency to its placed neighbours. */
  private nodeScore(s: number, n: number, except: number): number {
    let score = (this.base.node[s] ?? -1) === n ? KEEP_BONUS : 0;
    for (const j of this.adj[s] ?? []) {
      if (j === except) continue;
      const r = this.m.routes[j] as ModelRoute;
      const u = r.f === s ? r.t : r.f;
      const un = this.node[u] ?? -1;
      if (un < 0 || u === s) continue;
      const a = r.f === s ? n : un;
      const b = r.f === s ? un : n;
      const lane = laneOf(this.m, r, a, b);
      score -= latencyWeight(r) * (lane ? latencyOf(this.m, r, lane, a, b) : 100);
    }
    const node = this.m.nodes[n];
    if (node && node.cpu > 0) score += 1e-3 * (1 - ((this.usedCpu[n] ?? 0) + (this.m.cpu[s] ?? 0)) / node.cpu);
    return score;
  }

  /** Filter → score → bind for one route; records the reason when it is refused. */
  step(i: number): boolean {
    this.stats.greedy_steps++;
    const m = this.m;
    const r = m.routes[i] as ModelRoute;
    const { f, t } = r;
    const fn = this.node[f] ?? -1;
    const tn = this.node[t] ?? -1;
    const cands = (s: number, placed: number): number[] => {
      if (placed >= 0) return [placed];
      const p = m.pin[s] ?? -1;
      const all = p >= 0 ? [p] : Array.from({ length: this.N }, (_, k) => k);
      return all.filter((n) => this.free(n, s));
    };
    const cf = cands(f, fn);
    const ct = f === t ? cf : cands(t, tn);
    if (cf.length === 0 || ct.length === 0) {
      const s = cf.length === 0 ? f : t;
      return this.refuse(
        i,
        "RTT_PLAN_ADMISSION",
        `${m.symbols[s]} fits on no node it may use any more: CPU/memory taken by routes admitted before it (priority ${r.priority}, value ${r.value})`,
      );
    }
    const sf = fn >= 0 ? null : new Map(cf.map((n) => [n, this.nodeScore(f, n, i)]));
    const st = tn >= 0 || f === t ? null : new Map(ct.map((n) => [n, this.nodeScore(t, n, i)]));
    let best = Number.NEGATIVE_INFINITY;
    let bf = -1;
    let bt = -1;
    let laneFail = 0;
    let budgetFail = 0;
    let capFail = 0;
    const w = latencyWeight(r);
    for (const a of cf)
      for (const b of ct) {
        if (f === t && a !== b) continue;
        if (a === b && fn < 0 && tn < 0 && f !== t && !this.free(a, f, m.cpu[t] ?? 0, m.mem[t] ?? 0)) {
          capFail++;
          continue;
        }
        const lane = laneOf(m, r, a, b);
        if (!lane) {
          laneFail++;
          continue;
        }
        const lat = latencyOf(m, r, lane, a, b);
        if (lat > r.budget) {
          budgetFail++;
          continue;
        }
        const score = (sf?.get(a) ?? 0) + (st?.get(b) ?? 0) - w * lat;
        if (score > best) {
          best = score;
          bf = a;
          bt = b;
        }
      }
    if (bf < 0) {
      const where = `${m.symbols[f]} ${fn >= 0 ? `on ${m.nodes[fn]?.id}` : "unplaced"}, ${m.symbols[t]} ${tn >= 0 ? `on ${m.nodes[tn]?.id}` : "unplaced"}`;
      if (capFail > 0 && laneFail + budgetFail === 0)
        return this.refuse(i, "RTT_PLAN_ADMISSION", `no node has room for both ends any more (${where})`);
      if (budgetFail > 0)
        return this.refuse(
          i,
          "RTT_PLAN_QOS_BUDGET",
          `every usable pair of nodes exceeds the budget ${r.budget} ms (${r.budgetFrom}) (${where})`,
        );
      return this.refuse(
        i,
        "RTT_PLAN_PLACEMENT",
        `no pair of nodes gives a usable lane${r.lane ? ` (requires ${r.lane})` : ""} (${where})`,
      );
    }
    if (fn < 0) this.place(f, bf);
    if (tn < 0 && f !== t) this.place(t, bt);
    this.admit(i);
    return true;
  }

  private refuse(i: number, code: PlanCode, reason: string): false {
    this.rejected.set(i, { code, reason });
    return false;
  }

  /** Weighted latency of symbol s's admitted routes with s on node n (null: a route becomes infeasible there). */
  private costAt(s: number, n: number): number | null {
    let cost = 0;
    for (const j of this.adj[s] ?? []) {
      if (!this.admitted[j]) continue;
      const r = this.m.routes[j] as ModelRoute;
      const a = r.f === s ? n : (this.node[r.f] ?? -1);
      const b = r.t === s ? n : (this.node[r.t] ?? -1);
      const lane = this.lane(r, a, b);
      if (!lane) return null;
      cost += latencyWeight(r) * latencyOf(this.m, r, lane, a, b);
    }
    return cost;
  }

  /**
   * Moves one symbol at a time to the node where its admitted routes' weighted latency is lowest, while it falls by
   * more than 1e-9; symbols on the node the plan in force gave them, and pinned ones, stay. At most MAX_PASSES passes.
   */
  localSearch(): void {
    const m = this.m;
    const movable: number[] = [];
    for (let s = 0; s < m.symbols.length; s++)
      if ((this.node[s] ?? -1) >= 0 && (m.pin[s] ?? -1) < 0 && this.node[s] !== this.base.node[s]) movable.push(s);
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      this.stats.local_search_passes++;
      let moved = false;
      for (const s of movable) {
        const cur = this.node[s] ?? -1;
        const now = this.costAt(s, cur);
        if (now === null) continue;
        let best = now - 1e-9;
        let to = -1;
        for (let n = 0; n < this.N; n++) {
          if (n === cur) continue;
          this.unplace(s);
          const room = this.free(n, s);
          this.place(s, cur);
          if (!room) continue;
          const c = this.costAt(s, n);
          const keep = this.base.node[s] === n ? KEEP_BONUS : 0;
          if (c !== null && c - keep < best) {
            best = c - keep;
            to = n;
          }
        }
        if (to >= 0) {
          this.unplace(s);
          this.place(s, to);
          this.stats.local_search_moves++;
          moved = true;
        }
      }
      if (!moved) break;
    }
  }

  /** Retries, in admission order, every route refused during the greedy pass (a refusal keeps the newer reason). */
  retry(): void {
    for (const i of this.order) if (this.rejected.has(i) && this.step(i)) this.stats.readmitted++;
  }

  /** Takes a whole assignment (the ILP's): symbols' nodes and admitted routes. Returns false if it is infeasible. */
  adopt(node: Int32Array, admitted: Uint8Array): boolean {
    for (let s = 0; s < node.length; s++) {
      const n = node[s] ?? -1;
      if (n < 0) continue;
      if (!this.free(n, s)) return false;
      this.place(s, n);
    }
    for (const i of this.order) {
      if (!admitted[i]) continue;
      const r = this.m.routes[i] as ModelRoute;
      const a = this.node[r.f] ?? -1;
      const b = this.node[r.t] ?? -1;
      if (a < 0 || b < 0 || !this.lane(r, a, b)) return false;
      this.admit(i);
    }
    for (const i of this.order)
      if (!this.admitted[i])
        this.refuse(
          i,
          "RTT_PLAN_ADMISSION",
          `the exact admission (ILP) gives its capacity to routes of higher priority or more value`,
        );
    // symbols the ILP placed but no admitted route uses are not placed
    for (let s = 0; s < node.length; s++) if ((this.node[s] ?? -1) >= 0 && (this.refs[s] ?? 0) === 0) this.unplace(s);
    return true;
  }

  /** Σ value of admitted routes (the admission objective) and Σ (1 + value) × p99 (the placement objective). */
  objective(): { admitted_value: number; latency_cost: number } {
    let value = 0;
    let cost = 0;
    for (let i = 0; i < this.m.routes.length; i++) {
      if (!this.admitted[i]) continue;
      const r = this.m.routes[i] as ModelRoute;
      value += r.value;
      const a = this.node[r.f] ?? 0;
      const b = this.node[r.t] ?? 0;
      const lane = laneOf(this.m, r, a, b);
      if (lane) cost += latencyWeight(r) * latencyOf(this.m, r, lane, a, b);
    }
    return { admitted_value: value, latency_cost: cost };
  }
}
