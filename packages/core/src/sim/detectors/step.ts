import type { CorridorState } from "../../engine.js";
import { type AnomalyType, type DetectorConfigs, type Severity, severityOf } from "../taxonomy.js";

/** What the per-step detectors need to know about the corridor (from the scenario). */
export interface StepContext {
  C_target: number;
  C_band: [number, number];
  /** Half the C band width. */
  h: number;
  configs: DetectorConfigs;
}

export interface StepFinding {
  type: AnomalyType;
  t: number;
  measure: number;
  severity: Severity;
}

export type FindingSink = (type: AnomalyType, t: number, measure: number, severity: Severity) => void;

/** Where per-step findings go: an EpisodeTracker in the simulator (a method call, no closure per step). */
export interface FindingTarget {
  find(type: AnomalyType, t: number, measure: number, severity: Severity): void;
}

/** What the per-step detectors compare of a corridor state: its time, C and D. */
export interface StepEnd {
  t: number;
  C: number;
  D: number;
}

/**
 * The per-step detectors of the taxonomy (scope "step"), comparing two successive states (seed §2's
 * detectAnomalies(s_prev, s_next)). Measures are defined in spec/taxonomy/anomalies.json; severity = how many of the
 * type's thresholds the measure reaches. Allocation-free: findings go to `sink`.
 */
export function scanStep(prev: CorridorState, next: CorridorState, ctx: StepContext, sink: FindingSink): void {
  scanStepBetween(prev, next, next.t, ctx, { find: sink });
}

/**
 * `scanStep` reporting findings at time `at` (the simulator reports at the recorded clock), into a `FindingTarget`.
 * The simulator calls this once per step; the common case is three comparisons. The states come as objects, not as
 * six numbers: a double passed to a call the compiler does not inline is boxed in a fresh heap number, and this call
 * is not inlined into the step loop.
 */
export function scanStepBetween(
  prev: StepEnd,
  next: StepEnd,
  at: number,
  ctx: StepContext,
  target: FindingTarget,
): void {
  const tPrev = prev.t;
  const Cprev = prev.C;
  const Dprev = prev.D;
  const tNext = next.t;
  const Cnext = next.C;
  const Dnext = next.D;
  const dt = tNext - tPrev;
  if (!(dt > 0)) return;
  const cfg = ctx.configs;

  // DECOHERENCE_SPIKE: D fell faster than the reference decay.
  if (Dprev > 0) {
    const excess = (Dprev * (1 - 0.001 * dt) - Dnext) / (Dprev * dt);
    const s = severityOf(excess, cfg.DECOHERENCE_SPIKE.thresholds);
    if (s) target.find("DECOHERENCE_SPIKE", at, excess, s);
  }

  // OVERSHOOT_EVENT: C outside its band, in half bands.
  const lo = ctx.C_band[0];
  const hi = ctx.C_band[1];
  const out = Cnext > hi ? (Cnext - hi) / ctx.h : Cnext < lo ? (lo - Cnext) / ctx.h : 0;
  if (out > 0) {
    const s = severityOf(out, cfg.OVERSHOOT_EVENT.thresholds);
    if (s) target.find("OVERSHOOT_EVENT", at, out, s);
  }

  // CORRELATION_COLLAPSE: C fell faster than control can move it.
  const fall = (Cprev - Cnext) / dt;
  if (fall > 0) {
    const s = severityOf(fall, cfg.CORRELATION_COLLAPSE.thresholds);
    if (s) target.find("CORRELATION_COLLAPSE", at, fall, s);
  }
}

/** The pure, array-returning form of `scanStep`. */
export function detectAnomalies(prev: CorridorState, next: CorridorState, ctx: StepContext): StepFinding[] {
  const out: StepFinding[] = [];
  scanStep(prev, next, ctx, (type, t, measure, severity) => out.push({ type, t, measure, severity }));
  return out;
}
