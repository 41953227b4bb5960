/**
 * Corridor alignment (POST /api/rtt/corridor). Documented in docs/api/rtt/corridor.md.
 *
 * A corridor is a request path through services with an end-to-end latency. For each flow:
 * - hops = path.length - 1; per_hop_ms = latency_ms / hops.
 * - budget: the first of flow.budget_ms, a latency_budget_ms constraint with the same from/to,
 *   a latency_budget_ms constraint without from/to (global), the site profile's latency_budget_ms.
 * - slack_ms = budget - latency (negative = over budget); alignment = min(1, budget / latency).
 * - hop latencies: measured when hop_latency_ms is given, otherwise estimated. The estimate splits
 *   each flow's latency evenly over its hops and averages every edge's shares across all flows
 *   that use it, so an edge that is slow in many corridors stands out. Estimated values say so.
 * - bottleneck: the hop with the largest (measured or estimated) latency.
 * Overall: score = mean alignment of flows that have a budget (null when none has one);
 * aligned = every budgeted flow is within budget.
 */
import type { CorridorPayload, CorridorResult, HopLatency } from "@rtt/sdk";
import type { Constraint } from "./coherence.js";
import { InputError } from "./errors.js";
import { capFindings, checkCount, describePath, MAX_CORRIDOR_FLOWS, MAX_CORRIDOR_HOPS } from "./limits.js";

// Request and response shapes are the SDK's (the wire contract of /api/rtt); the server fills the responses.
export type CorridorFlow = CorridorPayload["flows"][number];

/** The SDK's CorridorPayload, its constraints as the checks read them (coherence.ts). */
export interface CorridorRequest extends Omit<CorridorPayload, "constraints"> {
  constraints?: Constraint[];
}

export type { CorridorResult, HopLatency };
export type CorridorFlowResult = CorridorResult["flows"][number];
export type CorridorEdge = CorridorResult["edges"][number];

const round = (n: number) => Math.round(n * 1000) / 1000;
const key = (from: string, to: string) => JSON.stringify([from, to]);

export function analyzeCorridor(req: CorridorRequest, profileBudgetMs?: number): CorridorResult {
  const constraints = (req.constraints ?? []).filter((c) => c.type === "latency_budget_ms");
  const findings: CorridorResult["findings"] = [];
  preflightCorridor(req);

  req.flows.forEach((f, i) => {
    if (f.hop_latency_ms && f.hop_latency_ms.length !== f.path.length - 1) {
      // Input the schema cannot express: hop_latency_ms must have one entry per hop of the path.
      throw new InputError("invalid corridor request", [
        {
          path: `/flows/${i}/hop_latency_ms`,
          message: `must have ${f.path.length - 1} entries (one per hop of the path), got ${f.hop_latency_ms.length}`,
        },
      ]);
    }
  });

  // Pass 1: every edge's measured latencies and even-split shares across all flows.
  const acc = new Map<string, { from: string; to: string; flows: number; measured: number[]; shares: number[] }>();
  for (const f of req.flows) {
    const hops = f.path.length - 1;
    for (let h = 0; h < hops; h++) {
      const k = key(f.path[h]!, f.path[h + 1]!);
      let e = acc.get(k);
      if (!e) {
        e = { from: f.path[h]!, to: f.path[h + 1]!, flows: 0, measured: [], shares: [] };
        acc.set(k, e);
      }
      e.flows++;
      if (f.hop_latency_ms) e.measured.push(f.hop_latency_ms[h]!);
      else e.shares.push(f.latency_ms / hops);
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const edgeLatency = new Map<string, { latency_ms: number; estimated: boolean }>();
  const edges: CorridorEdge[] = [];
  for (const [k, e] of acc) {
    // Measurements beat estimates: an edge measured anywhere uses only its measurements.
    const estimated = e.measured.length === 0;
    const latency = round(mean(estimated ? e.shares : e.measured));
    edgeLatency.set(k, { latency_ms: latency, estimated });
    edges.push({ from: e.from, to: e.to, flows: e.flows, latency_ms: latency, estimated });
  }

  // Pass 2: per-flow budget, slack, alignment and bottleneck.
  const flows = req.flows.map((f, index): CorridorFlowResult => {
    const hops = f.path.length - 1;
    const { budget, source } = budgetFor(f, constraints, profileBudgetMs);
    const hopLat: HopLatency[] = [];
    for (let h = 0; h < hops; h++) {
      const from = f.path[h]!;
      const to = f.path[h + 1]!;
      hopLat.push(
        f.hop_latency_ms
          ? { from, to, latency_ms: f.hop_latency_ms[h]!, estimated: false }
          : { from, to, ...edgeLatency.get(key(from, to))! },
      );
    }
    const bottleneck = hopLat.reduce((a, b) => (b.latency_ms > a.latency_ms ? b : a));
    const slack = budget === null ? null : round(budget - f.latency_ms);
    const alignment = budget === null ? null : f.latency_ms === 0 ? 1 : round(Math.min(1, budget / f.latency_ms));
    const revisits = f.path.length - new Set(f.path).size;
    if (revisits > 0) {
      findings.push({
        severity: "warning",
        code: "path_revisits",
        message: `flow ${index} visits a service more than once (a loop in the corridor)`,
        path: `/flows/${index}/path`,
      });
    }
    if (slack !== null && slack < 0) {
      findings.push({
        severity: "error",
        code: "over_budget",
        message: `flow ${index} (${describePath(f.path)}) takes ${f.latency_ms} ms, ${-slack} ms over its ${budget} ms budget; bottleneck ${bottleneck.from} → ${bottleneck.to}`,
        path: `/flows/${index}/latency_ms`,
      });
    }
    if (f.hop_latency_ms) {
      const sum = f.hop_latency_ms.reduce((a, b) => a + b, 0);
      if (sum > f.latency_ms + 1e-9) {
        findings.push({
          severity: "warning",
          code: "hop_sum_exceeds_total",
          message: `flow ${index} hop latencies add up to ${round(sum)} ms, more than latency_ms ${f.latency_ms}`,
          path: `/flows/${index}/hop_latency_ms`,
        });
      }
    }
    return {
      index,
      ...(f.name !== undefined ? { name: f.name } : {}),
      path: f.path,
      hops,
      latency_ms: f.latency_ms,
      per_hop_ms: round(f.latency_ms / hops),
      budget_ms: budget,
      budget_source: source,
      slack_ms: slack,
      within_budget: slack === null ? null : slack >= 0,
      alignment,
      bottleneck,
    };
  });

  const budgeted = flows.filter((f) => f.alignment !== null);
  if (budgeted.length === 0) {
    findings.push({
      severity: "info",
      code: "no_budget",
      message:
        "no flow has a latency budget (flow budget_ms, latency_budget_ms constraint or site profile): alignment not scored",
      path: "/flows",
    });
  }
  // Bottlenecks: the slowest edges overall (ties keep first-seen order), at most 5.
  const bottlenecks = [...edges].sort((a, b) => b.latency_ms - a.latency_ms).slice(0, Math.min(5, edges.length));
  return {
    status: "ok",
    aligned: budgeted.every((f) => f.within_budget),
    score: budgeted.length === 0 ? null : round(budgeted.reduce((a, f) => a + f.alignment!, 0) / budgeted.length),
    flows,
    edges,
    bottlenecks,
    ...capFindings(findings),
  };
}

/** The size limits, checked before schema validation (see preflightValidate). */
export function preflightCorridor(body: unknown): void {
  const flows = (body as { flows?: unknown } | null)?.flows;
  if (!Array.isArray(flows)) return;
  checkCount("corridor", "/flows", flows.length, "flows", MAX_CORRIDOR_FLOWS);
  checkCount("corridor", "/flows", corridorHops(flows), "hops", MAX_CORRIDOR_HOPS);
}

/** Hops over all flows; tolerant of malformed flows so it can run before schema validation. */
export function corridorHops(flows: unknown[]): number {
  let hops = 0;
  for (const f of flows) {
    const path = (f as { path?: unknown } | null)?.path;
    if (Array.isArray(path) && path.length > 1) hops += path.length - 1;
  }
  return hops;
}

function budgetFor(
  f: CorridorFlow,
  constraints: Constraint[],
  profileBudgetMs: number | undefined,
): { budget: number | null; source: CorridorFlowResult["budget_source"] } {
  if (f.budget_ms !== undefined) return { budget: f.budget_ms, source: "flow" };
  const first = f.path[0];
  const last = f.path[f.path.length - 1];
  const exact = constraints.find((c) => c.from === first && c.to === last);
  if (exact) return { budget: exact.budget_ms!, source: "constraint" };
  const global = constraints.find((c) => c.from === undefined && c.to === undefined);
  if (global) return { budget: global.budget_ms!, source: "global_constraint" };
  if (profileBudgetMs !== undefined) return { budget: profileBudgetMs, source: "profile" };
  return { budget: null, source: null };
}
