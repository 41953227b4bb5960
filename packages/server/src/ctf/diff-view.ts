import {
  type CTFDiff,
  type CTFIssue,
  type DiffField,
  type DiffSide,
  differsAt,
  diffSides,
  lineageLength,
  Q_METRICS,
  type QMetricName,
  stepRef,
  type TraceFacts,
} from "@rtt/ctf";
import { httpError, invalid, q } from "@rtt/http";
import type { FastifyInstance } from "fastify";
import { ID_PATTERN, type TraceStore } from "./store.js";

// The diff view's read endpoint (web UI, `?view=trace-diff&a=…&b=…`):
//   GET /ctf/diff?a=ID&b=ID[&from=&to=&max_points=]
// Both traces are loaded and compared with @rtt/ctf's loadDiffSides/diffSides (what `rtt ctf diff` runs); this adds
// the two final lineages aligned index by index (a window of rows, by default around the divergence) and the
// per-metric delta B − A along them (decimated to max_points, min/max per bucket). The loaded sides of the last
// few pairs are kept until either file changes, so paging through the rows does not reload the traces.

const TEXT_LIMIT = 2000;
const ROWS_DEFAULT = 200;
const ROWS_MAX = 1000;
const ROWS_BEFORE_DIVERGENCE = 20;
const DELTA_POINTS_DEFAULT = 4000;
const ISSUES_MAX = 20;
const PAIR_CACHE = 2;

/** One side's step at an aligned lineage index. */
export interface DiffStepRow {
  step_id: number;
  tool: string | null;
  /** Cut at 2,000 characters (with "…"). */
  action: string;
  observation: string;
  q: Record<QMetricName, number> | null;
}

/** One aligned lineage index: A's and B's step there (null past the end of a lineage) and what differs. */
export interface DiffAlignedRow {
  index: number;
  a: DiffStepRow | null;
  b: DiffStepRow | null;
  /** Tool, action, observation that differ between the two steps (empty when they match or one is missing). */
  differs: DiffField[];
}

/** `GET /ctf/diff`. */
export interface TraceDiffView {
  a: { id: string; facts: TraceFacts; errors: CTFIssue[] };
  b: { id: string; facts: TraceFacts; errors: CTFIssue[] };
  /** @rtt/ctf's diff, as `rtt ctf diff --format json` prints it. */
  diff: CTFDiff;
  /** Aligned lineage length: the longer of the two lineages. */
  length: number;
  /** Aligned rows [from, to). */
  rows: { from: number; to: number; rows: DiffAlignedRow[] };
  /**
   * B − A per Q-metric at aligned indices (`index`), null where either side has no step or no q there; decimated to
   * at most max_points when the lineage is longer (each bucket keeps its ends and every metric's min and max).
   */
  deltas: { n: number; n_total: number; decimated: boolean; index: number[] } & Record<
    QMetricName,
    Array<number | null>
  >;
}

const M = Q_METRICS.length;
const cut = (s: string) => (s.length > TEXT_LIMIT ? `${s.slice(0, TEXT_LIMIT)}…` : s);

/** The row of side s at aligned index i: read step by step (a packed side would build its whole arrays otherwise). */
function row(s: DiffSide, i: number): DiffStepRow | null {
  if (i >= lineageLength(s)) return null;
  let qv: Record<QMetricName, number> | null = null;
  if (!Number.isNaN(s.q[i * M] ?? Number.NaN)) {
    qv = {} as Record<QMetricName, number>;
    for (const [j, m] of Q_METRICS.entries()) qv[m] = s.q[i * M + j] as number;
  }
  const step = stepRef(s, i);
  return { ...step, action: cut(step.action), observation: cut(step.observation), q: qv };
}

/** B − A of metric j at aligned index i, NaN where either is missing. */
const delta = (a: DiffSide, b: DiffSide, i: number, j: number) =>
  (b.q[i * M + j] ?? Number.NaN) - (a.q[i * M + j] ?? Number.NaN);

/** Aligned indices to plot: every one, or per bucket its ends and each metric's min and max delta. */
function deltaIndices(a: DiffSide, b: DiffSide, len: number, maxPoints: number): number[] {
  if (len <= maxPoints) return Array.from({ length: len }, (_, i) => i);
  const perBucket = 2 + 2 * M;
  const buckets = Math.max(1, Math.floor(maxPoints / perBucket));
  const out: number[] = [];
  for (let k = 0; k < buckets; k++) {
    const lo = Math.floor((k * len) / buckets);
    const hi = Math.floor(((k + 1) * len) / buckets);
    const pick = new Set<number>([lo, hi - 1]);
    for (let j = 0; j < M; j++) {
      let iMin = -1;
      let iMax = -1;
      let vMin = Number.POSITIVE_INFINITY;
      let vMax = Number.NEGATIVE_INFINITY;
      for (let i = lo; i < hi; i++) {
        const d = delta(a, b, i, j);
        if (Number.isNaN(d)) continue;
        if (d < vMin) {
          vMin = d;
          iMin = i;
        }
        if (d > vMax) {
          vMax = d;
          iMax = i;
        }
      }
      if (iMin >= 0) pick.add(iMin);
      if (iMax >= 0) pick.add(iMax);
    }
    out.push(...[...pick].sort((x, y) => x - y));
  }
  return out;
}

const round = (x: number) => Math.round(x * 1e9) / 1e9;

export function diffView(
  ids: { a: string; b: string },
  sa: DiffSide,
  sb: DiffSide,
  opts: { from?: number; to?: number; maxPoints?: number } = {},
): TraceDiffView {
  const d = diffSides(sa, sb);
  const length = Math.max(lineageLength(sa), lineageLength(sb));
  const from = Math.min(length, opts.from ?? Math.max(0, d.common_prefix - ROWS_BEFORE_DIVERGENCE));
  const to = Math.min(length, opts.to ?? from + ROWS_DEFAULT, from + ROWS_MAX);
  const rows: DiffAlignedRow[] = [];
  for (let i = from; i < to; i++) {
    const ra = row(sa, i);
    const rb = row(sb, i);
    rows.push({ index: i, a: ra, b: rb, differs: differsAt(sa, sb, i) });
  }
  const maxPoints = opts.maxPoints ?? DELTA_POINTS_DEFAULT;
  const index = deltaIndices(sa, sb, length, maxPoints);
  const deltas = {
    n: index.length,
    n_total: length,
    decimated: index.length < length,
    index,
  } as TraceDiffView["deltas"];
  for (const [j, m] of Q_METRICS.entries())
    deltas[m] = index.map((i) => {
      const v = delta(sa, sb, i, j);
      return Number.isNaN(v) ? null : round(v);
    });
  const errors = (s: DiffSide) => s.issues.filter((i) => i.severity === "error").slice(0, ISSUES_MAX);
  return {
    a: { id: ids.a, facts: sa.facts, errors: errors(sa) },
    b: { id: ids.b, facts: sb.facts, errors: errors(sb) },
    diff: d,
    length,
    rows: { from, to: Math.max(from, to), rows },
    deltas,
  };
}

/** Registers GET /ctf/diff in the CTF plugin's scope. */
export function ctfDiffRoutes(app: FastifyInstance, deps: { store: TraceStore }): void {
  const { store } = deps;
  const pairs = new Map<string, Promise<[DiffSide, DiffSide]>>();
  const fileKey = async (id: string) => {
    try {
      const st = await store.stamp(id);
      return `${id}:${st.size}:${st.mtimeMs}`;
    } catch {
      throw httpError("RTT_ERR_NOT_FOUND", `no trace ${id}`);
    }
  };
  const sides = async (a: string, b: string): Promise<[DiffSide, DiffSide]> => {
    const key = `${await fileKey(a)}|${await fileKey(b)}`;
    let p = pairs.get(key);
    if (!p) {
      p = store.loadDiffSides(a, b);
      p.catch(() => pairs.delete(key));
    }
    pairs.delete(key);
    pairs.set(key, p);
    while (pairs.size > PAIR_CACHE) pairs.delete(pairs.keys().next().value as string);
    return p;
  };

  const ID = q.pattern(ID_PATTERN.source, "a trace id (letters, digits, . _ -, at most 128)");
  const QUERY = q.object(
    { a: ID, b: ID, from: q.integer(0, 1e9), to: q.integer(0, 1e9), max_points: q.integer(100, 200_000) },
    ["a", "b"],
  );
  app.get<{ Querystring: { a: string; b: string; from?: number; to?: number; max_points?: number } }>(
    "/ctf/diff",
    { schema: { querystring: QUERY } },
    async (req): Promise<TraceDiffView> => {
      const { a, b, from, to, max_points } = req.query;
      if (from !== undefined && to !== undefined && from > to)
        throw invalid("querystring", [{ path: "from", message: "from is after to" }]);
      const [sa, sb] = await sides(a, b);
      return diffView({ a, b }, sa, sb, { from, to, maxPoints: max_points });
    },
  );
}
