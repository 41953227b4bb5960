import type { Sample } from "./types.js";

/** The corridor state advanced in resonance-time (seed §2). */
export interface CorridorState {
  t: number;
  C: number;
  D: number;
  Q: number;
  R: number;
  meta?: { device?: string; scenario?: string; difficulty?: string };
}

/**
 * Operator input and environment disturbance for one step (spec/v2/engine.md, "Operator input law").
 * `u` is the control effort in [-1, 1] held over the step; `du` is how much `u` changed since the previous
 * step (the caller tracks it: the engine keeps no input history); `w` are additive disturbances applied after
 * the rule. An absent input, or one whose every term is zero, leaves the step exactly the reference rule.
 */
export interface EngineInput {
  u?: number;
  du?: number;
  w?: Partial<Record<"C" | "D" | "Q" | "R", number>>;
}

/** dC/dt gained per unit of effort: full effort moves C by 0.5 per second, 50× the reference drift. */
export const INPUT_GAIN_C = 0.5;
/** Extra decoherence rate per unit of effort squared: holding full effort costs 5 % of D per second. */
export const INPUT_COST_D = 0.05;
/** Decoherence lost per step per unit of input change squared: a full reversal (du = 2) costs 8 % of D at once. */
export const INPUT_SLEW_COST_D = 0.02;

const isZero = (x: number | undefined) => x === undefined || x === 0;

function isNeutral(input: EngineInput | undefined): boolean {
  if (!input) return true;
  const w = input.w;
  return isZero(input.u) && isZero(input.du) && (!w || (isZero(w.C) && isZero(w.D) && isZero(w.Q) && isZero(w.R)));
}

/**
 * One step of the engine. With a neutral input this is the v1 reference rule (seed §8.1):
 * C += 0.01·dt, D *= (1 − 0.001·dt), Q and R unchanged, t += dt.
 * The neutral case is computed by exactly those expressions so the reference vectors reproduce bit for bit.
 */
export function update(s: CorridorState, dt: number, input?: EngineInput): CorridorState {
  let next: CorridorState;
  if (isNeutral(input)) {
    next = { t: s.t + dt, C: s.C + 0.01 * dt, D: s.D * (1 - 0.001 * dt), Q: s.Q, R: s.R };
  } else {
    const u = input?.u ?? 0;
    const du = input?.du ?? 0;
    const w = input?.w ?? {};
    next = {
      t: s.t + dt,
      C: s.C + (0.01 + INPUT_GAIN_C * u) * dt + (w.C ?? 0),
      D: s.D * (1 - (0.001 + INPUT_COST_D * u * u) * dt - INPUT_SLEW_COST_D * du * du) + (w.D ?? 0),
      Q: s.Q + (w.Q ?? 0),
      R: s.R + (w.R ?? 0),
    };
  }
  // An object literal, not `{ ...s, t, C, … }`: spreading and then overriding keys falls off V8's fast path
  // (measured ~170× slower per step, bench/RESULTS.md). `meta` is the only other field and is carried over.
  if (s.meta !== undefined) next.meta = s.meta;
  return next;
}

/**
 * The same step as `update(s, dt, {u, du, w})`, written into `s` in place: for the simulator's hot loop, which would
 * otherwise allocate a state object per step (bench/engine). Every field reads only its own previous value, so
 * updating in place is safe, and the expressions are those of `update`, term for term, so the results are
 * bit-identical (test: packages/core/test/sim-hotpath.test.ts). All-zero terms take the reference-rule branch.
 */
export function advanceInPlace(
  s: CorridorState,
  dt: number,
  u: number,
  du: number,
  wC: number,
  wD: number,
  wQ: number,
  wR: number,
): void {
  if (u === 0 && du === 0 && wC === 0 && wD === 0 && wQ === 0 && wR === 0) {
    s.t = s.t + dt;
    s.C = s.C + 0.01 * dt;
    s.D = s.D * (1 - 0.001 * dt);
    return;
  }
  s.t = s.t + dt;
  s.C = s.C + (0.01 + INPUT_GAIN_C * u) * dt + wC;
  s.D = s.D * (1 - (0.001 + INPUT_COST_D * u * u) * dt - INPUT_SLEW_COST_D * du * du) + wD;
  s.Q = s.Q + wQ;
  s.R = s.R + wR;
}

export function sampleFromState(s: CorridorState): Sample {
  return { t: s.t, C: s.C, D: s.D, Q: s.Q, R: s.R };
}

export const REFERENCE_INITIAL_STATE: Readonly<CorridorState> = Object.freeze({ t: 0, C: 0.1, D: 1, Q: 0.5, R: 0 });

/** Runs `steps` updates from `initial` and returns the initial sample plus one per step. */
export function runSimulation(steps: number, dt: number, initial: CorridorState = REFERENCE_INITIAL_STATE): Sample[] {
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`steps must be a non-negative integer, got ${steps}`);
  if (!Number.isFinite(dt)) throw new RangeError(`dt must be a finite number, got ${dt}`);
  const samples: Sample[] = new Array(steps + 1);
  let s: CorridorState = { ...initial };
  samples[0] = sampleFromState(s);
  for (let i = 1; i <= steps; i++) {
    s = update(s, dt);
    samples[i] = sampleFromState(s);
  }
  return samples;
}
