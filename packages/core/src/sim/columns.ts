import type { Sample } from "../types.js";

/**
 * Recorded samples of one segment as columns (one Float64Array per field) instead of one object per sample.
 * The simulator's hot loop writes here: no allocation per step, nothing for the garbage collector to trace, and the
 * whole-run detectors, S-E-T and scores read plain numbers. Sample objects are built once, when the v2 log is
 * materialised (`samplesOf`). A Float64Array holds any double exactly, so a value read back is the value written.
 */
export class SampleColumns {
  readonly t: Float64Array;
  readonly C: Float64Array;
  readonly D: Float64Array;
  readonly Q: Float64Array;
  readonly R: Float64Array;
  /** Operator effort applied over the step that ended at the sample (meaningful from index 1 on). */
  readonly u: Float64Array;
  length = 0;

  /** `capacity`: the most samples the segment can record (steps + 1); the arrays never grow. */
  constructor(readonly capacity: number) {
    this.t = new Float64Array(capacity);
    this.C = new Float64Array(capacity);
    this.D = new Float64Array(capacity);
    this.Q = new Float64Array(capacity);
    this.R = new Float64Array(capacity);
    this.u = new Float64Array(capacity);
  }

  push(t: number, C: number, D: number, Q: number, R: number, u: number): void {
    const i = this.length++;
    this.t[i] = t;
    this.C[i] = C;
    this.D[i] = D;
    this.Q[i] = Q;
    this.R[i] = R;
    this.u[i] = u;
  }
}

/** S-E-T of every recorded sample of a segment, as columns (see triadic.ts `setColumns`). */
export interface SetColumns {
  S: Float64Array;
  E: Float64Array;
  T: Float64Array;
}

/** Columns of existing samples (e.g. from a log on disk), so the column detectors also run on any v2 log. */
export function columnsOf(samples: readonly Sample[]): SampleColumns {
  const cols = new SampleColumns(samples.length);
  for (const s of samples) cols.push(s.t, s.C, s.D, s.Q, s.R, typeof s.u === "number" ? s.u : 0);
  return cols;
}

/**
 * The v2 samples of a segment, built from its columns in one pass. Keys in the order the log has always had:
 * t, C, D, Q, R, then u (every sample after the first, when the operator's effort is recorded), then triadic.set.
 * One object literal per shape, so every sample of a segment shares one hidden class.
 */
export function samplesOf(cols: SampleColumns, withU: boolean, set: SetColumns | undefined): Sample[] {
  const n = cols.length;
  const out: Sample[] = new Array(n);
  if (n === 0) return out;
  // Hot path: every column holds at least `n` values (the sample columns have `capacity` >= length, the S-E-T
  // columns one value per recorded sample), so each read below is in range; `!` asserts it without a check.
  const { t, C, D, Q, R, u } = cols;
  if (set) {
    const { S, E, T } = set;
    out[0] = { t: t[0]!, C: C[0]!, D: D[0]!, Q: Q[0]!, R: R[0]!, triadic: { set: { S: S[0]!, E: E[0]!, T: T[0]! } } };
    if (withU)
      for (let i = 1; i < n; i++)
        out[i] = {
          t: t[i]!,
          C: C[i]!,
          D: D[i]!,
          Q: Q[i]!,
          R: R[i]!,
          u: u[i]!,
          triadic: { set: { S: S[i]!, E: E[i]!, T: T[i]! } },
        };
    else
      for (let i = 1; i < n; i++)
        out[i] = {
          t: t[i]!,
          C: C[i]!,
          D: D[i]!,
          Q: Q[i]!,
          R: R[i]!,
          triadic: { set: { S: S[i]!, E: E[i]!, T: T[i]! } },
        };
  } else {
    out[0] = { t: t[0]!, C: C[0]!, D: D[0]!, Q: Q[0]!, R: R[0]! };
    if (withU) for (let i = 1; i < n; i++) out[i] = { t: t[i]!, C: C[i]!, D: D[i]!, Q: Q[i]!, R: R[i]!, u: u[i]! };
    else for (let i = 1; i < n; i++) out[i] = { t: t[i]!, C: C[i]!, D: D[i]!, Q: Q[i]!, R: R[i]! };
  }
  return out;
}
