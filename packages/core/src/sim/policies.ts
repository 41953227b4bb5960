import { INPUT_GAIN_C } from "../engine.js";
import type { Rng } from "./prng.js";

/**
 * Scripted operators. Each is a delayed, sampled proportional(-integral) controller on the C error, with the human
 * flaws that separate skill levels written as numbers. The error is measured in half bands:
 * e = (C_observed - C_target) / h, and the effort is u = feedforward - gain*e - integral*∫e dt, then held, rate
 * limited, perturbed by hand noise and clamped to [-1, 1]. The operator only sees recorded samples (so sensor
 * faults blind them too). Documented in spec/scenarios/README.md ("Operator policies").
 */
export interface PolicyParams {
  /** Effort per half band of error. */
  gain: number;
  /** Effort per half-band-second of accumulated error (removes steady offsets). */
  integral: number;
  /** Constant effort the operator applies knowingly; the expert cancels the reference drift of C. */
  feedforward: number;
  /** Reaction time: the operator acts on what the sensor showed this long ago. */
  delay_s: number;
  /** Errors smaller than this many half bands are ignored. */
  deadband: number;
  /** Standard deviation of the hand tremor added to the effort; a new tremor value every TREMOR_PERIOD_S. */
  noise: number;
  /** Largest change of effort per second (0 = unlimited: jerky hands). */
  rate_limit: number;
  /** The operator re-decides only every hold_s seconds (0 = every step). */
  hold_s: number;
}

/** Cancels the reference rule's drift of C (+0.01 per second). */
const DRIFT_FEEDFORWARD = -0.01 / INPUT_GAIN_C;

export const POLICIES: Readonly<Record<string, PolicyParams>> = Object.freeze({
  /** No operator: zero input on every step (the reference rule, plus whatever the scenario does). */
  none: { gain: 0, integral: 0, feedforward: 0, delay_s: 0, deadband: 0, noise: 0, rate_limit: 0, hold_s: 0 },
  /** Late, jerky and strong: ignores small errors, then over-corrects and hunts. */
  novice: {
    gain: 0.6,
    integral: 0,
    feedforward: 0,
    delay_s: 0.3,
    deadband: 0.3,
    noise: 0.08,
    rate_limit: 0,
    hold_s: 0.3,
  },
  /** Reasonable gain and reaction time, some tremor, no knowledge of the drift. */
  competent: {
    gain: 0.4,
    integral: 0.1,
    feedforward: 0,
    delay_s: 0.2,
    deadband: 0.2,
    noise: 0.04,
    rate_limit: 4,
    hold_s: 0.1,
  },
  /** Anticipates the drift, removes offsets, smooth hands, quick eyes. */
  expert: {
    gain: 0.3,
    integral: 0.3,
    feedforward: DRIFT_FEEDFORWARD,
    delay_s: 0.1,
    deadband: 0,
    noise: 0.003,
    rate_limit: 2,
    hold_s: 0,
  },
});

/** Tremor is redrawn 10 times a second whatever the step, so its decoherence cost does not depend on dt. */
export const TREMOR_PERIOD_S = 0.1;

export const POLICY_NAMES = Object.keys(POLICIES);

export function policyParams(name: string): PolicyParams {
  const p = POLICIES[name];
  if (!p) throw new Error(`unknown policy ${JSON.stringify(name)} (known: ${POLICY_NAMES.join(", ")})`);
  return p;
}

export interface Controller {
  /** Effort for the step starting at time t, having seen observedC at time t. */
  decide(t: number, dt: number, observedC: number): number;
}

export function makeController(p: PolicyParams, target: number, halfBand: number, rng: Rng): Controller {
  if (p === POLICIES.none) return { decide: () => 0 };
  return new PolicyController(p, target, halfBand, rng);
}

/** Ring buffer of past observations for the reaction delay. */
const RING = 4096;

/**
 * The scripted operator. A class, not a closure: its running numbers (integral, held effort, tremor, …) are object
 * fields that V8 updates in place, where a closure's context slots boxed a new heap number on every step.
 */
class PolicyController implements Controller {
  private readonly seenC = new Float64Array(RING);
  private head = 0;
  private count = 0;
  private integral = 0;
  /** Initialised with a number so V8 stores it as an unboxed double updated in place (see `Mulberry32.a`). */
  private held = 0;
  private nextDecision = Number.NEGATIVE_INFINITY;
  private u = 0;
  private tremor = 0;
  private nextTremor = Number.NEGATIVE_INFINITY;
  /** Math.round(delay_s / dt) for `lagDt` (dt is constant within a segment). */
  private lagDt = Number.NaN;
  private lagSteps = 0;

  constructor(
    private readonly p: PolicyParams,
    private readonly target: number,
    private readonly halfBand: number,
    private readonly rng: Rng,
  ) {
    this.held = p.feedforward;
  }

  decide(t: number, dt: number, observedC: number): number {
    const p = this.p;
    const seenC = this.seenC;
    seenC[this.head] = observedC;
    const head = (this.head + 1) % RING;
    this.head = head;
    if (this.count < RING) this.count++;
    // What the sensor showed delay_s ago (dt is constant within a segment, so that is a fixed number of steps).
    if (dt !== this.lagDt) {
      this.lagDt = dt;
      this.lagSteps = Math.round(p.delay_s / dt);
    }
    const lag = Math.min(this.count - 1, this.lagSteps);
    const c = seenC[(head - 1 - lag + RING) % RING]!; // lag <= count - 1 < RING (delay_s >= 0): a slot of the ring
    const e = (c - this.target) / this.halfBand;
    const eSeen = Math.abs(e) < p.deadband ? 0 : e;
    this.integral = Math.max(-2, Math.min(2, this.integral + eSeen * dt));
    if (t >= this.nextDecision - 1e-12) {
      this.held = p.feedforward - p.gain * eSeen - p.integral * this.integral;
      this.nextDecision = p.hold_s > 0 ? t + p.hold_s : t;
    }
    let want = this.held;
    if (p.rate_limit > 0) {
      const max = p.rate_limit * dt;
      want = Math.max(this.u - max, Math.min(this.u + max, want));
    }
    const u = Math.max(-1, Math.min(1, want));
    this.u = u;
    if (t >= this.nextTremor - 1e-12) {
      this.tremor = p.noise * this.rng.gauss();
      this.nextTremor = t + TREMOR_PERIOD_S;
    }
    return Math.max(-1, Math.min(1, u + this.tremor));
  }
}
