import { INPUT_GAIN_C } from "../engine.js";
import type { DimCore, SET, SnrNode } from "../types.js";
import type { SampleColumns, SetColumns } from "./columns.js";
import { round6 } from "./detectors/episodes.js";
import type { NodeDef } from "./scenarios.js";

/**
 * Triadic extensions, computed from the corridor state by the formulas of spec/scenarios/README.md ("Triadic
 * extensions"). Nothing here is random or invented per run: same state → same numbers.
 */

const clamp01 = (x: number) => (x < 0 ? 0 : Math.min(x, 1));
/** The fastest C can move under full effort (reference drift + full gain), the unit of E's flow term. */
const MAX_CONTROL_RATE = 0.01 + INPUT_GAIN_C;

export interface SetContext {
  C_target: number;
  h: number;
  period_s: number;
}

/**
 * S-E-T of one sample, each in [0, 1]:
 *  S (structure) = clamp01(D) * max(0, 1 - |C - C_target| / h)   — coherent and locked in the corridor;
 *  E (energy)    = 0.5 * clamp01(Q) + 0.5 * min(1, |dC/dt| / 0.51) — charge plus flow intensity;
 *  T (time)      = frac(t / period_s)                              — resonance-time phase.
 */
export function computeSET(C: number, D: number, Q: number, rateC: number, t: number, c: SetContext): SET {
  return { S: setS(C, D, c), E: setE(Q, rateC), T: setT(t, c) };
}

const setS = (C: number, D: number, c: SetContext) =>
  round6(clamp01(D) * Math.max(0, 1 - Math.abs(C - c.C_target) / c.h));
const setE = (Q: number, rateC: number) =>
  round6(0.5 * clamp01(Q) + 0.5 * Math.min(1, Math.abs(rateC) / MAX_CONTROL_RATE));
const setT = (t: number, c: SetContext) => {
  const phase = t / c.period_s;
  return round6(clamp01(phase - Math.floor(phase)));
};

/** Running sums of per-sample S-E-T over a session, in sample order (what `meanSET` sums). */
export interface SetSums {
  S: number;
  E: number;
  T: number;
  n: number;
}

/**
 * S-E-T of every recorded sample of a segment, as columns, adding each value to `sums` in sample order. dC/dt is the
 * rate between a sample and the one recorded before it in the segment (0 for the first, and when t did not advance).
 */
export function setColumns(cols: SampleColumns, c: SetContext, sums: SetSums): SetColumns {
  const n = cols.length;
  const out: SetColumns = { S: new Float64Array(n), E: new Float64Array(n), T: new Float64Array(n) };
  // In blocks: one call over millions of samples runs on-stack-replacement code, compiled anew on every long run
  // (and left at the loop's exit); a call per block is ordinary optimised code after the first few blocks.
  for (let from = 0; from < n; from += SET_BLOCK) setBlock(cols, from, Math.min(n, from + SET_BLOCK), c, out, sums);
  sums.n += n;
  return out;
}

/** Samples per `setBlock` call: a few hundred KB of columns, so a block's reads stay in cache. */
const SET_BLOCK = 16384;

/** `setColumns` over samples from..to-1 (0 <= from < to <= cols.length), adding to sums.S/E/T. */
function setBlock(cols: SampleColumns, from: number, to: number, c: SetContext, out: SetColumns, sums: SetSums): void {
  const { t, C, D, Q } = cols;
  const target = c.C_target;
  const h = c.h;
  const period = c.period_s;
  const outS = out.S;
  const outE = out.E;
  const outT = out.T;
  let sumS = sums.S;
  let sumE = sums.E;
  let sumT = sums.T;
  // Every index read is in [from - 1, to) within the columns. tPrev/cPrev hold sample i - 1 (unused at i = 0).
  let tPrev = from > 0 ? t[from - 1]! : 0;
  let cPrev = from > 0 ? C[from - 1]! : 0;
  for (let i = from; i < to; i++) {
    const ti = t[i]!;
    const ci = C[i]!;
    const rate = i > 0 && ti > tPrev ? (ci - cPrev) / (ti - tPrev) : 0;
    tPrev = ti;
    cPrev = ci;
    // setS / setE / setT written out with the context in locals (same expressions, same order: same numbers).
    const S = round6(clamp01(D[i]!) * Math.max(0, 1 - Math.abs(ci - target) / h));
    const E = round6(0.5 * clamp01(Q[i]!) + 0.5 * Math.min(1, Math.abs(rate) / MAX_CONTROL_RATE));
    const phase = ti / period;
    const T = round6(clamp01(phase - Math.floor(phase)));
    outS[i] = S;
    outE[i] = E;
    outT[i] = T;
    sumS += S;
    sumE += E;
    sumT += T;
  }
  sums.S = sumS;
  sums.E = sumE;
  sums.T = sumT;
}

/** `meanSET` from running sums. */
export function meanOfSums(sums: SetSums): SET | undefined {
  if (!sums.n) return undefined;
  return { S: round6(sums.S / sums.n), E: round6(sums.E / sums.n), T: round6(sums.T / sums.n) };
}

/** Session-level SET: the mean of the per-sample values. */
export function meanSET(list: SET[]): SET | undefined {
  if (!list.length) return undefined;
  let S = 0;
  let E = 0;
  let T = 0;
  for (const x of list) {
    S += x.S;
    E += x.E;
    T += x.T;
  }
  return { S: round6(S / list.length), E: round6(E / list.length), T: round6(T / list.length) };
}

/**
 * S-N-R: a network of nodes whose local corridors follow the main one with an offset o_i (C_i = C + o_i).
 * Nodes with role "source" are anchored (o = 0). Every other node is pulled toward its neighbours' mean offset:
 *   do_i/dt = b_i(t) - k_i * (o_i - mean_{j in N(i)} o_j)
 * with coupling k_i (0 while its link is down) and b_i the bias of an active node_desync disturbance.
 * Desync measure = max_i |o_i - mean_{j in N(i)} o_j| / h.
 */
export class NodeNetwork {
  private readonly offsets: Float64Array;
  private readonly neighbours: number[][];
  /** The neighbour lists flattened: node i's neighbours are nbIndex[nbStart[i] .. nbStart[i + 1]). */
  private readonly nbStart: Int32Array;
  private readonly nbIndex: Int32Array;
  private readonly peaks: Float64Array;
  private readonly prev: Float64Array;
  private readonly scratchBias: Float64Array;
  private readonly scratchDown: Uint8Array;
  private readonly anchored: Uint8Array;
  private readonly coupling: Float64Array;
  /** The dt of the last step when it was an undisturbed fixed point (see `stepWith`), NaN otherwise. */
  private settledDt = Number.NaN;
  /** The desync measure that fixed-point step returned. */
  private settledWorst = 0;

  constructor(
    readonly nodes: NodeDef[],
    private readonly h: number,
  ) {
    this.offsets = new Float64Array(nodes.length);
    this.peaks = new Float64Array(nodes.length);
    this.prev = new Float64Array(nodes.length);
    this.scratchBias = new Float64Array(nodes.length);
    this.scratchDown = new Uint8Array(nodes.length);
    this.anchored = Uint8Array.from(nodes, (n) => (n.role === "source" ? 1 : 0));
    this.coupling = Float64Array.from(nodes, (n) => n.coupling);
    const index = new Map(nodes.map((n, i) => [n.id, i] as const));
    this.neighbours = nodes.map((n) =>
      n.neighbors.map((id) => index.get(id)).filter((i): i is number => i !== undefined),
    );
    this.nbStart = new Int32Array(nodes.length + 1);
    for (let i = 0; i < nodes.length; i++) this.nbStart[i + 1] = this.nbStart[i]! + this.neighbours[i]!.length;
    this.nbIndex = Int32Array.from(this.neighbours.flat());
  }

  /** Advances the offsets by dt; bias(i) and linkDown(i) describe active disturbances. Returns the desync measure. */
  step(dt: number, bias: (i: number) => number, linkDown: (i: number) => boolean): number {
    for (let i = 0; i < this.nodes.length; i++) {
      if (this.anchored[i]) continue;
      this.scratchDown[i] = linkDown(i) ? 1 : 0;
      this.scratchBias[i] = bias(i);
    }
    return this.stepWith(dt, this.scratchBias, this.scratchDown);
  }

  /**
   * `step` with the active disturbances as arrays (bias[i], down[i] = 1 while node i's link is down), filled by the
   * caller once per step, or none when no node_desync is active (every bias 0, every link up): the simulator's form,
   * with no callback per node.
   *
   * Once undisturbed, the offsets decay toward the anchor and, in a long run, stop moving for good (the last
   * increments underflow: e.g. 3.28e-321 from about 1100 s on in CLFC_MICROGRID_02), each step then repeating the
   * one before on subnormal numbers. An undisturbed step that changed no offset (same bits) is a fixed point: the
   * next undisturbed step with the same dt reads the same state and the same inputs, so it would compute the same
   * offsets, the same measures (peaks already hold them) and the same result — which it returns without recomputing.
   */
  stepWith(dt: number, bias?: Float64Array, down?: Uint8Array): number {
    const undisturbed = !bias && !down;
    if (undisturbed && dt === this.settledDt) return this.settledWorst;
    return this.advance(dt, undisturbed, bias, down);
  }

  /**
   * `stepWith(dt)` (no node_desync active), tiny so that the step loop inlines it: once the network has settled (most
   * of a long run) an undisturbed step is then a comparison and a field read, with no call.
   */
  stepUndisturbed(dt: number): number {
    return dt === this.settledDt ? this.settledWorst : this.advance(dt, true, undefined, undefined);
  }

  /** The step itself (see `stepWith`), when the network has not settled or a disturbance is active. */
  private advance(
    dt: number,
    undisturbed: boolean,
    bias: Float64Array | undefined,
    down: Uint8Array | undefined,
  ): number {
    // Hot (once per simulated step): fields in locals, neighbour lists flattened, no builtin calls. Same sums in the
    // same order as the per-node neighbour mean it replaced (s / count; o itself without neighbours): the same numbers.
    const n = this.nodes.length;
    const prev = this.prev;
    const offsets = this.offsets;
    const anchored = this.anchored;
    const coupling = this.coupling;
    const nbStart = this.nbStart;
    const nbIndex = this.nbIndex;
    const peaks = this.peaks;
    // i < n and every nbIndex entry < n: all per-node reads are in range; nbStart has n + 1 entries.
    for (let i = 0; i < n; i++) prev[i] = offsets[i]!;
    for (let i = 0; i < n; i++) {
      if (anchored[i]) continue;
      const k = down?.[i] ? 0 : coupling[i]!;
      const o = prev[i]!;
      const from = nbStart[i]!;
      const to = nbStart[i + 1]!;
      let mean = o;
      if (to > from) {
        let s = 0;
        for (let x = from; x < to; x++) s += prev[nbIndex[x]!]!;
        mean = meanOf(s, to - from);
      }
      offsets[i] = o + ((bias ? bias[i]! : 0) - k * (o - mean)) * dt;
    }
    let moved = false;
    // Object.is: the same double, 0 and -0 apart (a `sameBits` helper with 1/a === 1/b was not inlined and boxed
    // numbers on every step). A NaN offset (Object.is(NaN, NaN) holds) is simply never treated as settled.
    for (let i = 0; i < n; i++) if (!Object.is(offsets[i]!, prev[i]!) || Number.isNaN(prev[i]!)) moved = true;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const o = offsets[i]!;
      const from = nbStart[i]!;
      const to = nbStart[i + 1]!;
      let mean = o;
      if (to > from) {
        let s = 0;
        for (let x = from; x < to; x++) s += offsets[nbIndex[x]!]!;
        mean = meanOf(s, to - from);
      }
      const m = Math.abs(o - mean) / this.h;
      if (m > peaks[i]!) peaks[i] = m;
      if (m > worst) worst = m;
    }
    this.settledDt = undisturbed && !moved ? dt : Number.NaN;
    this.settledWorst = worst;
    return worst;
  }

  /** triadic.snr.nodes at the end of the run. */
  snapshot(s: { t: number; C: number; D: number; Q: number; R: number }): SnrNode[] {
    return this.nodes.map((n, i) => ({
      id: n.id,
      role: n.role,
      neighbors: [...n.neighbors],
      coupling: n.coupling,
      local_corridor: {
        t: round6(s.t),
        C: round6(s.C + this.offsets[i]!),
        D: round6(s.D),
        Q: round6(s.Q),
        R: round6(s.R),
      },
      desync_peak: round6(this.peaks[i]!),
    }));
  }
}

/**
 * sum / count, exactly: by one or two neighbours (the usual node) without a division — s / 1 is s and s / 2 is
 * s * 0.5 (the same exact quotient, rounded once: identical bits, subnormals and NaN included). Divisions were the
 * network's hottest instructions while it settles (offsets decaying through subnormals, ~1000 s in a long run).
 */
function meanOf(sum: number, count: number): number {
  if (count === 1) return sum;
  if (count === 2) return sum * 0.5;
  return sum / count;
}

export const DIMCORE_MODELS = { "RTT-9": 9, "RTT-12": 12, "RTT-24": 24 } as const;

/**
 * Dimensional core with dims d0..dK (K = 9, 12 or 24 for RTT-9/12/24). Amplitude of dim k:
 *   a_k = decay^k * D^(1 + k/K) * (1 + excitation * |u| * k/K) * g_k
 * The model expects a_k without the excitation and gain factors (coherence alone shapes the profile); g_k is the
 * gain of an active dim_imbalance disturbance (1 otherwise). With p = actual shares and q = expected shares,
 * imbalance measure = max_k |p_k/q_k - 1|. triadic.dimcore.dims is the time average of a_k.
 */
export class DimensionalCore {
  readonly K: number;
  private readonly base: Float64Array;
  private readonly sums: Float64Array;
  private readonly m: Float64Array;
  /** k/K, so the per-step loop multiplies instead of divides (same value as computing it each time). */
  private readonly kOverK: Float64Array;
  private readonly invK: number;
  private readonly scratchGain: Float64Array;
  private n = 0;

  constructor(
    readonly model: keyof typeof DIMCORE_MODELS,
    decay = 0.95,
    private readonly excitation = 0.5,
  ) {
    // The model comes from scenario data: an unknown name would give K = undefined and a core with no dimensions
    // that silently measures nothing.
    if (!Object.hasOwn(DIMCORE_MODELS, model))
      throw new Error(
        `dimcore.model must be one of ${Object.keys(DIMCORE_MODELS).join(", ")}, got ${JSON.stringify(model)}`,
      );
    this.K = DIMCORE_MODELS[model];
    this.base = new Float64Array(this.K + 1);
    for (let k = 0; k <= this.K; k++) this.base[k] = decay ** k;
    this.sums = new Float64Array(this.K + 1);
    this.m = new Float64Array(this.K + 1);
    this.kOverK = new Float64Array(this.K + 1);
    for (let k = 0; k <= this.K; k++) this.kOverK[k] = k / this.K;
    this.invK = 1 / this.K;
    this.scratchGain = new Float64Array(this.K + 1);
  }

  /** One step; gain(k) is the disturbance gain of dim k. Returns the imbalance measure. */
  step(D: number, u: number, gain: (k: number) => number): number {
    for (let k = 0; k <= this.K; k++) this.scratchGain[k] = gain(k);
    return this.stepWith(D, u, this.scratchGain);
  }

  /**
   * `step` with the dims' gains as an array (gains[k]), or none when every gain is 1 (no dim_imbalance active): the
   * simulator's form, no callback.
   */
  stepWith(D: number, u: number, gains?: Float64Array): number {
    if (!gains) return this.stepUndisturbed(D, u);
    const Dc = Math.max(D, 0);
    // D^(1 + k/K) = D * (D^(1/K))^k: one pow per step instead of K + 1.
    const r = Dc ** this.invK;
    let pow = Dc;
    const exc = this.excitation * Math.abs(u);
    let sumA = 0;
    let sumE = 0;
    // Hot (once per simulated step): the arrays in locals, so the loop does not reload them after each store.
    const K = this.K;
    const base = this.base;
    const kOverK = this.kOverK;
    const ms = this.m;
    const sums = this.sums;
    // k <= K: every per-dimension array (and the caller's gains) has K + 1 slots.
    for (let k = 0; k <= K; k++) {
      const expected = base[k]! * pow;
      pow *= r;
      const m = (1 + exc * kOverK[k]!) * gains[k]!;
      ms[k] = m;
      const a = expected * m;
      sumE += expected;
      sumA += a;
      sums[k]! += a;
    }
    this.n++;
    if (sumA <= 0) return 0;
    let worst = 0;
    const norm = sumE / sumA;
    for (let k = 0; k <= K; k++) {
      const dev = Math.abs(ms[k]! * norm - 1);
      if (dev > worst) worst = dev;
    }
    return worst;
  }

  /**
   * `stepWith` with every gain 1 — the same numbers, with less work. Each product by a gain of 1 is exact, so the
   * amplitudes and sums are those of the general loop. Without gains m_k = 1 + exc·k/K is monotone in k (each
   * rounding is monotone), hence so is m_k·norm − 1, and the largest |m_k·norm − 1| is at k = 0 or k = K: the same
   * maximum as the loop over every dimension, in the same comparisons (NaN included: never larger than 0).
   */
  private stepUndisturbed(D: number, u: number): number {
    const Dc = Math.max(D, 0);
    const r = Dc ** this.invK;
    let pow = Dc;
    const exc = this.excitation * Math.abs(u);
    let sumA = 0;
    let sumE = 0;
    const K = this.K;
    const base = this.base;
    const kOverK = this.kOverK;
    const sums = this.sums;
    // k <= K: every per-dimension array has K + 1 slots.
    for (let k = 0; k <= K; k++) {
      const expected = base[k]! * pow;
      pow *= r;
      const a = expected * (1 + exc * kOverK[k]!);
      sumE += expected;
      sumA += a;
      sums[k]! += a;
    }
    this.n++;
    if (sumA <= 0) return 0;
    const norm = sumE / sumA;
    let worst = 0;
    const first = Math.abs((1 + exc * kOverK[0]!) * norm - 1);
    if (first > worst) worst = first;
    const last = Math.abs((1 + exc * kOverK[K]!) * norm - 1);
    if (last > worst) worst = last;
    return worst;
  }

  snapshot(): DimCore {
    const dims: Record<string, number> = {};
    for (let k = 0; k <= this.K; k++) dims[`d${k}`] = round6(this.n ? this.sums[k]! / this.n : this.base[k]!);
    return { model: this.model, dims };
  }
}
