import { seededRandom } from "@rtt/core";

/**
 * A deterministic hill-climb over a small grid (spec/fabric/autotune.md, "Search"). Each dimension is an ordered list
 * of values; a point is one index per dimension. From the start it evaluates every unvisited neighbour (each
 * dimension in declared order, one step down then one step up), moves to the best one when it beats the current
 * point, and stops at a local optimum or when the next evaluation would exceed the budget. Equal scores are broken
 * by a seeded PRNG (mulberry32), so the same seed and the same objective give the same path.
 */
export interface Dimension<T = number> {
  name: string;
  values: readonly T[];
}

export interface ClimbStep {
  point: number[];
  score: number;
  /** Index of the climb round that evaluated it (0 = the start). */
  round: number;
}

export interface ClimbResult {
  best: number[];
  bestScore: number;
  evaluations: ClimbStep[];
  /** Why it stopped: a local optimum (no neighbour better), or the evaluation budget. */
  stopped: "optimum" | "budget";
}

/** Neighbours of `p` in their fixed order: dimension by dimension, index − 1 then index + 1, inside the grid. */
export function neighbours(p: readonly number[], dims: readonly Dimension<unknown>[]): number[][] {
  const out: number[][] = [];
  for (let d = 0; d < dims.length; d++) {
    const size = (dims[d] as Dimension<unknown>).values.length;
    for (const step of [-1, 1]) {
      const i = (p[d] as number) + step;
      if (i < 0 || i >= size) continue;
      const q = [...p];
      q[d] = i;
      out.push(q);
    }
  }
  return out;
}

/**
 * Minimises `evaluate` (lower is better; Infinity = infeasible). `maxEvaluations` bounds the calls, the start
 * included; `evaluate` may be async (real trials) or sync (a fake objective in tests).
 */
export async function hillClimb(opts: {
  dims: readonly Dimension<unknown>[];
  start: readonly number[];
  evaluate: (point: number[]) => number | Promise<number>;
  maxEvaluations: number;
  seed: number;
}): Promise<ClimbResult> {
  const rand = seededRandom(opts.seed);
  const seen = new Map<string, number>();
  const evaluations: ClimbStep[] = [];
  let round = 0;
  const score = async (p: number[]): Promise<number> => {
    const k = p.join(",");
    const known = seen.get(k);
    if (known !== undefined) return known;
    const s = await opts.evaluate(p);
    seen.set(k, s);
    evaluations.push({ point: p, score: s, round });
    return s;
  };
  if (opts.maxEvaluations < 1) throw new RangeError("hillClimb: maxEvaluations must be at least 1");
  let cur = [...opts.start];
  let curScore = await score(cur);
  for (;;) {
    round++;
    const scored: Array<{ p: number[]; s: number }> = [];
    for (const q of neighbours(cur, opts.dims)) {
      const k = q.join(",");
      if (!seen.has(k) && evaluations.length >= opts.maxEvaluations) {
        return pick(scored, cur, curScore, "budget", evaluations, rand);
      }
      scored.push({ p: q, s: await score(q) });
    }
    const next = bestOf(scored, rand);
    if (!next || !(next.s < curScore)) return { best: cur, bestScore: curScore, evaluations, stopped: "optimum" };
    cur = next.p;
    curScore = next.s;
  }
}

/** The lowest score; among equal lowest scores one chosen by the PRNG (drawn only when there is a tie). */
function bestOf(scored: Array<{ p: number[]; s: number }>, rand: () => number): { p: number[]; s: number } | undefined {
  let low = Number.POSITIVE_INFINITY;
  for (const x of scored) if (x.s < low) low = x.s;
  const ties = scored.filter((x) => x.s === low && Number.isFinite(x.s));
  if (ties.length === 0) return undefined;
  if (ties.length === 1) return ties[0];
  return ties[Math.floor(rand() * ties.length)];
}

function pick(
  scored: Array<{ p: number[]; s: number }>,
  cur: number[],
  curScore: number,
  stopped: "budget",
  evaluations: ClimbStep[],
  rand: () => number,
): ClimbResult {
  const next = bestOf(scored, rand);
  if (next && next.s < curScore) return { best: next.p, bestScore: next.s, evaluations, stopped };
  return { best: cur, bestScore: curScore, evaluations, stopped };
}
