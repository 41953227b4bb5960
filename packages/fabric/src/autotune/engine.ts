import { FabricError } from "../errors.js";
import { type ClimbResult, type Dimension, hillClimb } from "./hill-climb.js";
import type { LoadSpec } from "./load.js";
import { DAEMON_DEFAULTS, ringBytesFor, type TrialResult, TrialRig, type TuneParams } from "./trial.js";

/** The grid (spec/fabric/autotune.md, "What is swept"): the seed's values, plus 0 (off) for coalescing and spin. */
export const SWEEP = {
  ring_slots: [512, 1024, 2048, 4096],
  batch_window_us: [0, 50, 100, 200],
  spin_us: [0, 5, 20, 50, 100, 200],
} as const;

export interface Measured {
  params: TuneParams;
  trials: TrialResult[];
  /**
   * Median of the trials' p99s (the objective); Infinity when a trial lost frames or the median trial answered less
   * than the throughput floor.
   */
  p99_us: number;
  p50_us: number;
  throughput_hz: number;
  /** Spread of the trials' p99s: (max − min) / median, in %. */
  noise_pct: number;
  feasible: boolean;
}

export interface AutotuneOptions {
  load: LoadSpec;
  /** Total trials, every one counted: climb (repeats per point) and the final defaults-vs-tuned confirmation. */
  trials: number;
  /** Trials per evaluated point (default 3). */
  repeats?: number;
  /** Alternating defaults/tuned trial pairs at the end (default 5). */
  confirm?: number;
  /** Throughput floor as a share of the offered rate (default 0.95). */
  floor?: number;
  seed?: number;
  onTrial?: (done: number, total: number, what: string) => void;
}

export interface AutotuneResult {
  load: LoadSpec;
  seed: number;
  repeats: number;
  trials_run: number;
  climb: { stopped: ClimbResult["stopped"]; path: Measured[] };
  /** The confirmation: defaults and the climb's best, alternated, same run. */
  defaults: Measured;
  tuned: Measured;
  /**
   * (defaults p99 − tuned p99) / defaults p99, in %. The defaults are kept when it is ≤ 0, when the tuned point is
   * the defaults in effect (same ring bytes, no batching, same spin), or when tuned won at most half the pairs.
   */
  p99_gain_pct: number;
  kept: "tuned" | "defaults";
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

function summarise(params: TuneParams, trials: TrialResult[], floor: number): Measured {
  // The floor on the median trial: one trial stalled by the machine does not sink a setting, a lost frame does.
  const feasible =
    trials.every((t) => t.lost === 0) && median(trials.map((t) => t.throughput_hz / t.offered_hz)) >= floor;
  const p99s = trials.map((t) => t.p99_us);
  const med = median(p99s);
  return {
    params,
    trials,
    p99_us: feasible ? Math.round(med * 1000) / 1000 : Number.POSITIVE_INFINITY,
    p50_us: Math.round(median(trials.map((t) => t.p50_us)) * 1000) / 1000,
    throughput_hz: Math.round(median(trials.map((t) => t.throughput_hz))),
    noise_pct: med > 0 ? Math.round(((Math.max(...p99s) - Math.min(...p99s)) / med) * 1000) / 10 : 0,
    feasible,
  };
}

/** The daemon's defaults as a sweep point (ring_slots null: 1 MiB whatever the payload). */
export const defaultParams = (): TuneParams => ({
  ring_slots: null,
  ring_bytes: DAEMON_DEFAULTS.shmCapacity,
  batch_window_us: 0,
  spin_us: DAEMON_DEFAULTS.spinMicros,
});

/** The grid point the climb starts from: the one nearest the daemon's defaults for this payload size. */
export function startPoint(payload: number): number[] {
  const slotsAtDefault = DAEMON_DEFAULTS.shmCapacity / ((24 + payload + 7) & ~7);
  let ring = 0;
  for (let i = 0; i < SWEEP.ring_slots.length; i++)
    if (
      Math.abs(Math.log2((SWEEP.ring_slots[i] as number) / slotsAtDefault)) <
      Math.abs(Math.log2((SWEEP.ring_slots[ring] as number) / slotsAtDefault))
    )
      ring = i;
  return [ring, SWEEP.batch_window_us.indexOf(0), SWEEP.spin_us.indexOf(DAEMON_DEFAULTS.spinMicros)];
}

export const paramsAt = (point: readonly number[], payload: number): TuneParams => {
  const slots = SWEEP.ring_slots[point[0] as number] as number;
  return {
    ring_slots: slots,
    ring_bytes: ringBytesFor(slots, payload),
    batch_window_us: SWEEP.batch_window_us[point[1] as number] as number,
    spin_us: SWEEP.spin_us[point[2] as number] as number,
  };
};

/** Minimum --trials for these repeats and confirmation pairs: one evaluated point plus the confirmation. */
export const minTrials = (repeats: number, confirm: number) => repeats + 2 * confirm;

/**
 * Hill-climbs the sweep on a live rig (trial.ts) and confirms the result against the daemon's defaults in the same
 * run, alternating trials so both see the same machine load.
 */
export async function runAutotune(o: AutotuneOptions): Promise<AutotuneResult> {
  const repeats = o.repeats ?? 3;
  const confirm = o.confirm ?? 5;
  const floor = o.floor ?? 0.95;
  const seed = o.seed ?? 4;
  if (!Number.isInteger(o.trials) || o.trials < minTrials(repeats, confirm))
    throw new FabricError(
      "RTT_FABRIC_USAGE",
      `--trials must be at least ${minTrials(repeats, confirm)} (${repeats} per point + ${confirm} defaults/tuned pairs), not ${o.trials}`,
    );
  const payload = Math.max(0, ...o.load.routes.map((r) => r.payload_bytes));
  const dims: Dimension<number>[] = [
    { name: "ring_slots", values: SWEEP.ring_slots },
    { name: "batch_window_us", values: SWEEP.batch_window_us },
    { name: "spin_us", values: SWEEP.spin_us },
  ];
  const total = o.trials;
  let done = 0;
  const rig = await TrialRig.start(o.load, seed);
  try {
    // One warm-up trial, not counted and not measured: the first trial of a rig pays JIT and page faults.
    await rig.run(defaultParams());
    const trial = async (p: TuneParams, what: string) => {
      const r = await rig.run(p);
      done++;
      o.onTrial?.(done, total, what);
      return r;
    };
    const label = (p: TuneParams) =>
      `ring ${p.ring_slots ?? "default"}/${p.ring_bytes}B batch ${p.batch_window_us}µs spin ${p.spin_us}µs`;
    const path: Measured[] = [];
    const climbEvals = Math.floor((total - 2 * confirm) / repeats);
    const climb = await hillClimb({
      dims,
      start: startPoint(payload),
      seed,
      maxEvaluations: climbEvals,
      evaluate: async (pt) => {
        const p = paramsAt(pt, payload);
        const rs: TrialResult[] = [];
        for (let i = 0; i < repeats; i++) rs.push(await trial(p, `climb: ${label(p)}`));
        const m = summarise(p, rs, floor);
        path.push(m);
        return m.p99_us;
      },
    });
    const best = paramsAt(climb.best, payload);
    const defs: TrialResult[] = [];
    const tuned: TrialResult[] = [];
    for (let i = 0; i < confirm; i++) {
      defs.push(await trial(defaultParams(), "confirm: defaults"));
      tuned.push(await trial(best, `confirm: ${label(best)}`));
    }
    const d = summarise(defaultParams(), defs, floor);
    const t = summarise(best, tuned, floor);
    const gain = d.feasible && t.feasible ? ((d.p99_us - t.p99_us) / d.p99_us) * 100 : t.feasible ? 100 : 0;
    // Kept only when it is not the defaults in effect and wins most of the alternated pairs, not just the medians.
    const same =
      best.ring_bytes === defaultParams().ring_bytes &&
      best.batch_window_us === 0 &&
      best.spin_us === DAEMON_DEFAULTS.spinMicros;
    const wins = tuned.filter((x, i) => x.p99_us < (defs[i] as TrialResult).p99_us).length;
    return {
      load: o.load,
      seed,
      repeats,
      trials_run: done,
      climb: { stopped: climb.stopped, path },
      defaults: d,
      tuned: t,
      p99_gain_pct: Math.round(gain * 10) / 10,
      kept: !same && gain > 0 && wins * 2 > confirm ? "tuned" : "defaults",
    };
  } finally {
    await rig.close();
  }
}
