import type { Disturbance } from "./scenarios.js";

/**
 * A scenario's disturbances sorted by kind once, before the run, into small arrays of one shape each, so the
 * simulator's per-step loops test a window with two comparisons instead of re-filtering the whole list by `kind`
 * string every step. Within a kind the scenario's order is kept: that is the order noise and jitter draw from their
 * random streams and the order their terms are summed, so the results are the same numbers.
 *
 * Windows are [from, to) in session time (an absent bound is ±Infinity); point events belong to the step whose end is
 * nearest (`endsNear`). spec/scenarios/README.md ("Disturbances") describes each kind.
 */

/** Which state variable a noise or kick adds to: 0..3 = C, D, Q, R; 4 = none (an unknown name changes nothing). */
export type VarSlot = 0 | 1 | 2 | 3 | 4;
const VAR_SLOT: Record<string, VarSlot> = { C: 0, D: 1, Q: 2, R: 3 };
/** Which recorded field an emitter fault spoils: 0..4 = t, C, D, Q, R. */
export const FIELD_NAMES = ["t", "C", "D", "Q", "R"] as const;

interface Window {
  from: number;
  to: number;
}
export interface Noise extends Window {
  slot: VarSlot;
  sigma: number;
}
export interface Kick {
  slot: VarSlot;
  t: number;
  amount: number;
}
export interface ClockSlip extends Window {
  rate: number;
}
export interface Jitter extends Window {
  amplitude: number;
  probability: number;
}
export interface EmitterFault {
  t: number;
  field: number;
}
export interface NodeDesync extends Window {
  /** Index of the node in snr.nodes, -1 when the id names no node. */
  node: number;
  bias: number;
  linkDown: boolean;
}
export interface DimImbalance extends Window {
  /** The k of the dimension "d<k>", -1 when that is not a whole number (it then matches no dimension). */
  dim: number;
  gain: number;
}

export interface Environment {
  noises: Noise[];
  kicks: Kick[];
  slips: ClockSlip[];
  dropouts: Window[];
  flatlines: Window[];
  jitters: Jitter[];
  emitterFaults: EmitterFault[];
  desyncs: NodeDesync[];
  imbalances: DimImbalance[];
}

const windowOf = (d: { t_from?: number; t_to?: number }): Window => ({
  from: d.t_from ?? Number.NEGATIVE_INFINITY,
  to: d.t_to ?? Number.POSITIVE_INFINITY,
});

/** Whether time t (a step's start) is inside the window. */
export const active = (w: Window, t: number) => t >= w.from && t < w.to;

/** A point event at time e belongs to the one step whose end time is nearest to it (half-open, so never two). */
export const endsNear = (e: number, tNext: number, dt: number) => e > tNext - dt / 2 && e <= tNext + dt / 2;

/** `nodeIndex`: node id → index in snr.nodes (the last one wins for a repeated id). */
export function compileEnvironment(disturbances: Disturbance[], nodeIndex: Map<string, number>): Environment {
  const env: Environment = {
    noises: [],
    kicks: [],
    slips: [],
    dropouts: [],
    flatlines: [],
    jitters: [],
    emitterFaults: [],
    desyncs: [],
    imbalances: [],
  };
  for (const d of disturbances) {
    switch (d.kind) {
      case "noise":
        env.noises.push({ ...windowOf(d), slot: VAR_SLOT[d.var] ?? 4, sigma: d.sigma });
        break;
      case "kick":
        env.kicks.push({ slot: VAR_SLOT[d.var] ?? 4, t: d.t, amount: d.amount });
        break;
      case "clock_slip":
        env.slips.push({ ...windowOf(d), rate: d.rate });
        break;
      case "dropout":
        env.dropouts.push(windowOf(d));
        break;
      case "flatline":
        env.flatlines.push(windowOf(d));
        break;
      case "jitter":
        env.jitters.push({ ...windowOf(d), amplitude: d.amplitude, probability: d.probability });
        break;
      case "emitter_fault": {
        const field = FIELD_NAMES.indexOf(d.field);
        if (field < 0) throw new Error(`emitter_fault.field must be one of ${FIELD_NAMES.join(", ")}, got ${d.field}`);
        env.emitterFaults.push({ t: d.t, field });
        break;
      }
      case "node_desync":
        env.desyncs.push({
          ...windowOf(d),
          node: nodeIndex.get(d.node) ?? -1,
          bias: d.bias,
          linkDown: d.link_down === true,
        });
        break;
      case "dim_imbalance": {
        const k = Number(d.dim.slice(1));
        env.imbalances.push({ ...windowOf(d), dim: Number.isInteger(k) && k >= 0 ? k : -1, gain: d.gain });
        break;
      }
    }
  }
  return env;
}
