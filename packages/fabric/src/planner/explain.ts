import { FabricError } from "../errors.js";
import { type Check, laneOf, latencyOf, type ModelRoute, round } from "./constraints.js";
import { KEEP_BONUS } from "./place.js";
import type { BuildResult } from "./plan.js";
import type { Lane } from "./types.js";

export interface NodeOption {
  node: string;
  lane: Lane | null;
  p99_ms: number | null;
  within_budget: boolean;
  room: boolean;
  kept: boolean;
}

export interface Explanation {
  from: string;
  to: string;
  route_id: number | null;
  admitted: boolean;
  lane: Lane | null;
  code: string | null;
  reason: string | null;
  priority: number;
  value: number;
  /** 1-based position in the admission order (null: refused by a static check). */
  admission_rank: number | null;
  of: number;
  budget_ms: number | null;
  budget_from: string;
  placement: { from: string | null; to: string | null };
  p99_ms: number | null;
  checks: Check[];
  /** Each node for `to` with `from` where it is, and for `from` with `to` where it is. */
  options: { to: NodeOption[]; from: NodeOption[] };
}

/** Finds a route by `FROM->TO` (or `FROM -> TO`) or by route_id in a build's model. */
export function findRoute(res: BuildResult, key: string): number {
  const m = res.model;
  const arrow = key.split(/\s*->\s*/);
  if (arrow.length === 2) {
    const i = m.routes.findIndex((r) => r.from === arrow[0] && r.to === arrow[1]);
    if (i >= 0) return i;
  } else if (/^\d+$/.test(key)) {
    const id = Number(key);
    for (const [i, rid] of res.routeIds) if (rid === id) return i;
    const old = res.plan.routes_remove.find((r) => r.route_id === id);
    if (old) {
      const i = m.routes.findIndex((r) => r.from === old.from && r.to === old.to);
      if (i >= 0) return i;
    }
  }
  throw new FabricError("RTT_FABRIC_NOT_FOUND", "no such route in routes.json (give FROM->TO or a route_id)", key);
}

/** Every check of one route, its admission rank, where its ends went, and the lane and p99 on each other node. */
export function explainRoute(res: BuildResult, key: string): Explanation {
  const i = findRoute(res, key);
  const m = res.model;
  const s = res.solver;
  const r = m.routes[i] as ModelRoute;
  const rank = s.order.indexOf(i);
  const admitted = s.admitted[i] === 1;
  const fn = r.f >= 0 ? (s.node[r.f] ?? -1) : -1;
  const tn = r.t >= 0 ? (s.node[r.t] ?? -1) : -1;
  const why = r.fail ? { code: r.fail.code, reason: r.fail.detail } : s.rejected.get(i);
  const option = (a: number, b: number, moving: number): NodeOption => {
    const lane = a >= 0 && b >= 0 ? laneOf(m, r, a, b) : null;
    const p99 = lane ? latencyOf(m, r, lane, a, b) : null;
    const n = moving === r.f ? a : b;
    const node = m.nodes[n];
    const cur = s.node[moving] ?? -1;
    const extraCpu = cur === n ? 0 : (m.cpu[moving] ?? 0);
    const extraMem = cur === n ? 0 : (m.mem[moving] ?? 0);
    return {
      node: node?.id ?? "?",
      lane,
      p99_ms: p99 === null ? null : round(p99),
      within_budget: p99 !== null && p99 <= r.budget,
      room: !!node && (s.usedCpu[n] ?? 0) + extraCpu <= node.cpu && (s.usedMem[n] ?? 0) + extraMem <= node.mem,
      kept: (s.base.node[moving] ?? -1) === n,
    };
  };
  const ns = m.nodes.map((_, k) => k);
  const lane = admitted ? s.lane(r, fn, tn) : null;
  return {
    from: r.from,
    to: r.to,
    route_id: res.routeIds.get(i) ?? null,
    admitted,
    lane,
    code: admitted ? null : (why?.code ?? null),
    reason: admitted ? null : (why?.reason ?? null),
    priority: r.priority,
    value: r.value,
    admission_rank: rank >= 0 ? rank + 1 : null,
    of: s.order.length,
    budget_ms: Number.isFinite(r.budget) ? r.budget : null,
    budget_from: r.budgetFrom,
    placement: { from: fn >= 0 ? (m.nodes[fn]?.id ?? null) : null, to: tn >= 0 ? (m.nodes[tn]?.id ?? null) : null },
    p99_ms: lane ? round(latencyOf(m, r, lane, fn, tn)) : null,
    checks: r.checks,
    options: {
      to: fn >= 0 && r.t >= 0 ? ns.map((n) => option(fn, n, r.t)) : [],
      from: tn >= 0 && r.f >= 0 ? ns.map((n) => option(n, tn, r.f)) : [],
    },
  };
}

const cell = (o: NodeOption) =>
  `${o.node}: ${o.lane ?? "no lane"}${o.p99_ms !== null ? ` ${o.p99_ms} ms` : ""}${o.lane && !o.within_budget ? " over budget" : ""}${o.room ? "" : " no room"}${o.kept ? " (kept)" : ""}`;

/** The explanation for people. */
export function formatExplanation(e: Explanation): string {
  const out = [
    `route ${e.route_id ?? "-"} ${e.from} -> ${e.to}: ${e.admitted ? `admitted, lane ${e.lane}, p99 ${e.p99_ms} ms` : `REJECTED ${e.code}: ${e.reason}`}`,
    `  priority ${e.priority}, value ${e.value}; admission rank ${e.admission_rank ?? "-"} of ${e.of}; budget ${e.budget_ms === null ? "none" : `${e.budget_ms} ms (${e.budget_from})`}`,
    `  placement: ${e.from} on ${e.placement.from ?? "-"}, ${e.to} on ${e.placement.to ?? "-"}`,
    "  constraints:",
    ...e.checks.map((c) => `    ${c.ok ? "ok  " : "FAIL"} ${c.code.padEnd(24)} ${c.detail}`),
  ];
  if (e.options.to.length > 0) out.push(`  ${e.to} on each node:`, ...e.options.to.map((o) => `    ${cell(o)}`));
  if (e.options.from.length > 0) out.push(`  ${e.from} on each node:`, ...e.options.from.map((o) => `    ${cell(o)}`));
  out.push(
    `  scoring: keep the plan in force's node (+${KEEP_BONUS}), then lowest Σ (1 + value) × p99 to placed neighbours, then most free CPU, then node order`,
  );
  return `${out.join("\n")}\n`;
}
