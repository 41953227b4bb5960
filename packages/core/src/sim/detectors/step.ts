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

/**
 * The per-step detectors of the taxonomy (scope "step"), comparing two successive states (seed §2's
 * detectAnomalies(s_prev, s_next)). Measures are defined in spec/taxonomy/anomalies.json; severity = how many of the
 * type's thresholds the measure reaches. Allocation-free: findings go to `sink`.
 */
export function scanStep(prev: CorridorState, next: CorridorState, ctx: StepContext, sink: FindingSink): void {
  scanStepValues(prev.t, prev.C, prev.D, next.t, next.C, next.D, next.t, ctx, { find: sink });
}

/**
 * `scanStep` on plain numbers, reporting findings at time `at` (the simulator reports at the recorded clock).
 * The simulator keeps its state in scalars and calls this once per step; the common case is three comparisons.
 */
export function scanStepValues(
  tPrev: number,
  Cprev: number,
  Dprev: number,
  tNext: number,
  Cnext: number,
  Dnext: number,
  at: number,
  ctx: StepContext,
  target: FindingTarget,
): void {
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
