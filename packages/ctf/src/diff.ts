import { at } from "./at.js";
import {
  type PackedSide,
  packedCommonPrefix,
  packedText,
  packedTool,
  samePackedText,
  withBufferText,
} from "./packed-side.js";
import type { StepNode } from "./step-tree.js";
import type { LoadedTrace } from "./trace.js";
import { type CorridorStatus, type CTFIssue, Q_METRICS, type QMetricName } from "./types.js";

export interface StepRef {
  step_id: number;
  tool: string | null;
  action: string;
  observation: string;
}

export interface MetricDelta {
  /** Largest |B − A| over the common lineage prefix, and the lineage index where it occurs. */
  max_abs_delta: number;
  at_index: number | null;
  /** Mean of B − A over the common prefix. */
  mean_delta: number;
  /** Values at the last step of each final lineage. */
  final_a: number | null;
  final_b: number | null;
  final_delta: number | null;
}

export interface CTFDiff {
  same: boolean;
  a: TraceFacts;
  b: TraceFacts;
  /**
   * Lineage index of the first differing step (null when the lineages are equal) and what differs there: the tool,
   * the action, the observation (empty when one lineage ended: the other goes on).
   */
  divergence: { index: number; a: StepRef | null; b: StepRef | null; differs: DiffField[] } | null;
  common_prefix: number;
  metrics: Record<QMetricName, MetricDelta>;
  only_in_a: { count: number; steps: StepRef[] };
  only_in_b: { count: number; steps: StepRef[] };
}

export interface TraceFacts {
  task_id: string | null;
  steps: number;
  lineage_length: number;
  rewinds: number;
  final_status: CorridorStatus;
}

/** What can differ between two steps at the same lineage index. */
export type DiffField = "tool" | "action" | "observation";

/** Listing cap for only-in-A/B: a 1M-event diff must stay readable; counts stay exact. */
const LIST_CAP = 50;
const EPS = 1e-9;

/**
 * What a diff needs from one trace: facts plus its final lineage in flat arrays. The loaders build it over a
 * packed lineage (packed-side.ts), which diffSides compares directly.
 */
export interface DiffSide {
  facts: TraceFacts;
  ids: number[];
  tools: Array<string | null>;
  actions: string[];
  observations: string[];
  /** Five values per lineage step in Q_METRICS order; NaN where the step has no q. */
  q: Float64Array;
  issues: CTFIssue[];
}

export function diffSide(t: LoadedTrace): DiffSide {
  return sideFromLineage(facts(t), t.lineage, t.issues);
}

/** The q values of a lineage, five per step in Q_METRICS order, NaN where a step has none. */
export function lineageQ(l: StepNode[]): Float64Array {
  const M = Q_METRICS.length;
  const q = new Float64Array(l.length * M).fill(Number.NaN);
  for (const [i, node] of l.entries()) {
    const nq = node.q;
    if (nq) for (const [j, m] of Q_METRICS.entries()) q[i * M + j] = nq[m];
  }
  return q;
}

export function sideFromLineage(f: TraceFacts, l: StepNode[], issues: CTFIssue[], q = lineageQ(l)): DiffSide {
  return {
    facts: f,
    ids: l.map((n) => n.id),
    tools: l.map((n) => n.event.tool ?? null),
    actions: l.map((n) => n.event.action),
    observations: l.map((n) => n.event.observation),
    q,
    issues,
  };
}

/**
 * A DiffSide over a packed side: diffSides reads the packed bytes directly; the arrays of the DiffSide interface
 * (what other readers such as the server's diff view use) are built on first access.
 */
export function unpackSide(packed: PackedSide): DiffSide {
  const p = withBufferText(packed);
  const n = p.ids.length;
  const lazy = <T>(make: () => T) => {
    let v: T | undefined;
    return { enumerable: true, get: () => (v ??= make()) };
  };
  const side = { facts: p.facts } as DiffSide;
  Object.defineProperties(side, {
    ids: lazy(() => Array.from(p.ids)),
    tools: lazy(() => fill(n, (i) => packedTool(p, i))),
    actions: lazy(() => fill(n, (i) => packedText(p, i, 1))),
    observations: lazy(() => fill(n, (i) => packedText(p, i, 2))),
    q: { enumerable: true, value: p.q },
    issues: { enumerable: true, value: p.issues },
    packed: { enumerable: false, value: p },
  });
  return side;
}

/** [f(0), …, f(n − 1)] (a loop: Array.from with a map function is several times slower on 300k steps). */
function fill<T>(n: number, f: (i: number) => T): T[] {
  const out: T[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = f(i);
  return out;
}

const packedOf = (s: DiffSide): PackedSide | undefined => (s as { packed?: PackedSide }).packed;
/** A side's lineage length, without building a packed side's arrays. */
export const lineageLength = (s: DiffSide): number => packedOf(s)?.ids.length ?? s.ids.length;

/**
 * The i-th lineage step of a side; `i` is within its lineage. Readers of a few steps (the server's diff view) use
 * this instead of the side's arrays, which a packed side builds whole on first access.
 */
export function stepRef(s: DiffSide, i: number): StepRef {
  const p = packedOf(s);
  if (p)
    return {
      step_id: p.ids[i] as number,
      tool: packedTool(p, i),
      action: packedText(p, i, 1),
      observation: packedText(p, i, 2),
    };
  return { step_id: at(s.ids, i), tool: at(s.tools, i), action: at(s.actions, i), observation: at(s.observations, i) };
}
/** Metric j of lineage step i; NaN where the step has no q (or is past the lineage's end). */
const qAt = (s: DiffSide, i: number, j: number) => s.q[i * Q_METRICS.length + j] ?? Number.NaN;
/** Two steps are the same when the agent did and saw the same thing; ids and times may differ. */
const sameStep = (a: DiffSide, b: DiffSide, i: number) =>
  a.tools[i] === b.tools[i] && a.actions[i] === b.actions[i] && a.observations[i] === b.observations[i];

/** Length of the common prefix of two lineages: the first index where the steps differ. */
function commonPrefix(a: DiffSide, b: DiffSide): number {
  const n = Math.min(lineageLength(a), lineageLength(b));
  const pa = packedOf(a);
  const pb = packedOf(b);
  if (pa && pb) return packedCommonPrefix(pa, pb, n);
  let k = 0;
  while (k < n && sameStep(a, b, k)) k++;
  return k;
}

/** The fields that differ at lineage index i when both lineages reach it (none when one has ended). */
export function differsAt(a: DiffSide, b: DiffSide, i: number): DiffField[] {
  if (i >= lineageLength(a) || i >= lineageLength(b)) return [];
  const out: DiffField[] = [];
  const pa = packedOf(a);
  const pb = packedOf(b);
  if (pa && pb) {
    if (packedTool(pa, i) !== packedTool(pb, i)) out.push("tool");
    if (!samePackedText(pa, pb, i, 1)) out.push("action");
    if (!samePackedText(pa, pb, i, 2)) out.push("observation");
    return out;
  }
  const ra = stepRef(a, i);
  const rb = stepRef(b, i);
  if (ra.tool !== rb.tool) out.push("tool");
  if (ra.action !== rb.action) out.push("action");
  if (ra.observation !== rb.observation) out.push("observation");
  return out;
}

const facts = (t: LoadedTrace): TraceFacts => ({
  task_id: t.header?.task_id ?? null,
  steps: t.steps.length,
  lineage_length: t.lineage.length,
  rewinds: t.rewinds.length,
  final_status: t.finalStatus,
});

export function diffTraces(a: LoadedTrace, b: LoadedTrace): CTFDiff {
  return diffSides(diffSide(a), diffSide(b));
}

/**
 * Compares two runs along their final lineages (what each run finally kept): the first index where
 * the steps differ is the divergence point; the metrics are compared step by step on the common
 * prefix and at the two ends.
 */
export function diffSides(a: DiffSide, b: DiffSide): CTFDiff {
  const la = lineageLength(a);
  const lb = lineageLength(b);
  const k = commonPrefix(a, b);
  const divergence =
    k < la || k < lb
      ? { index: k, a: k < la ? stepRef(a, k) : null, b: k < lb ? stepRef(b, k) : null, differs: differsAt(a, b, k) }
      : null;

  const metrics = {} as Record<QMetricName, MetricDelta>;
  let metricsDiffer = false;
  // Read once: a side over a packed lineage has its fields as defined properties, slower to look up in a loop.
  const qa = a.q;
  const qb = b.q;
  const M = Q_METRICS.length;
  Q_METRICS.forEach((m, j) => {
    let max = 0;
    let atIndex: number | null = null;
    let sum = 0;
    let count = 0;
    for (let i = 0; i < k; i++) {
      const d = (qb[i * M + j] ?? Number.NaN) - (qa[i * M + j] ?? Number.NaN);
      if (Number.isNaN(d)) continue;
      sum += d;
      count++;
      if (Math.abs(d) > max + EPS) {
        max = Math.abs(d);
        atIndex = i;
      }
    }
    const finalQ = (s: DiffSide, len: number) =>
      len > 0 && !Number.isNaN(qAt(s, len - 1, j)) ? qAt(s, len - 1, j) : null;
    const fa = finalQ(a, la);
    const fb = finalQ(b, lb);
    const fd = fa !== null && fb !== null ? round(fb - fa) : null;
    if (max > EPS || (fd !== null && Math.abs(fd) > EPS) || (fa === null) !== (fb === null)) metricsDiffer = true;
    metrics[m] = {
      max_abs_delta: round(max),
      at_index: atIndex,
      mean_delta: count ? round(sum / count) : 0,
      final_a: fa,
      final_b: fb,
      final_delta: fd,
    };
  });
  const only = (s: DiffSide) => {
    const steps: StepRef[] = [];
    const len = lineageLength(s);
    for (let i = k; i < Math.min(len, k + LIST_CAP); i++) steps.push(stepRef(s, i));
    return { count: len - k, steps };
  };
  return {
    same: divergence === null && !metricsDiffer && a.facts.final_status === b.facts.final_status,
    a: a.facts,
    b: b.facts,
    divergence,
    common_prefix: k,
    metrics,
    only_in_a: only(a),
    only_in_b: only(b),
  };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** Human-readable diff for the terminal. */
export function formatDiff(d: CTFDiff, nameA = "A", nameB = "B"): string {
  const out: string[] = [];
  out.push(d.same ? "same: the runs match along their lineage" : "different");
  out.push(
    `  ${nameA}: ${d.a.task_id} steps=${d.a.steps} lineage=${d.a.lineage_length} rewinds=${d.a.rewinds} final=${d.a.final_status}`,
  );
  out.push(
    `  ${nameB}: ${d.b.task_id} steps=${d.b.steps} lineage=${d.b.lineage_length} rewinds=${d.b.rewinds} final=${d.b.final_status}`,
  );
  if (d.divergence) {
    const s = (r: StepRef | null) => (r ? `step ${r.step_id} [${r.tool ?? "-"}] ${r.action}` : "(lineage ended)");
    const { a, b, differs } = d.divergence;
    const what = differs.length ? `; differs in ${differs.join(", ")}` : "";
    out.push(`divergence at lineage index ${d.divergence.index} (common prefix ${d.common_prefix} steps${what})`);
    // The observation is printed whenever it differs: two steps that did the same thing but saw different results
    // would otherwise print as two identical lines.
    const obs = differs.includes("observation") && a && b ? observationSnippets(a.observation, b.observation) : null;
    out.push(`  ${nameA}: ${s(a)}`);
    if (obs) out.push(`      observation: ${obs[0]}`);
    out.push(`  ${nameB}: ${s(b)}`);
    if (obs) out.push(`      observation: ${obs[1]}`);
  } else out.push(`no divergence: ${d.common_prefix} common lineage steps`);
  out.push("metric deltas (B − A): max|Δ| on common prefix @index, mean Δ, final A → B");
  for (const m of Q_METRICS) {
    const x = d.metrics[m];
    out.push(
      `  ${m.padEnd(19)} ${String(x.max_abs_delta).padStart(9)} @${x.at_index ?? "-"}  mean ${x.mean_delta}  final ${x.final_a ?? "-"} → ${x.final_b ?? "-"}${x.final_delta !== null ? ` (Δ ${x.final_delta})` : ""}`,
    );
  }
  const list = (name: string, o: CTFDiff["only_in_a"]) => {
    if (o.count === 0) return;
    out.push(`only in ${name}: ${o.count} lineage steps`);
    for (const r of o.steps) out.push(`  step ${r.step_id} [${r.tool ?? "-"}] ${r.action}`);
    if (o.count > o.steps.length) out.push(`  … ${o.count - o.steps.length} more`);
  };
  list(nameA, d.only_in_a);
  list(nameB, d.only_in_b);
  if (d.a.final_status !== d.b.final_status) out.push(`final status: ${d.a.final_status} → ${d.b.final_status}`);
  return `${out.join("\n")}\n`;
}

const SNIPPET = 100;

/**
 * Both observations, quoted, cut to about SNIPPET characters around where they first differ (with "…" where cut), so
 * a difference deep in a long observation is still on screen.
 */
export function observationSnippets(a: string, b: string): [string, string] {
  let k = 0;
  while (k < a.length && k < b.length && a[k] === b[k]) k++;
  const start = Math.max(0, k - SNIPPET / 4);
  const cut = (x: string) => {
    const end = Math.min(x.length, start + SNIPPET);
    return `${start > 0 ? "…" : ""}${JSON.stringify(x.slice(start, end))}${end < x.length ? "…" : ""}`;
  };
  return [cut(a), cut(b)];
}
