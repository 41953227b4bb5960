import { advanceInPlace, type CorridorState } from "../engine.js";
import type { Anomaly } from "../types.js";
import { SampleColumns } from "./columns.js";
import { clusterFindings, EpisodeTracker, type PointFinding } from "./detectors/episodes.js";
import { type StepContext, type StepEnd, scanStepBetween } from "./detectors/step.js";
import { type Environment, endsNear, FIELD_NAMES } from "./environment.js";
import type { InputReplayer } from "./inputs.js";
import type { Controller } from "./policies.js";
import type { Rng } from "./prng.js";
import { type InputEvent, type SegmentDef, type StateDef, scheduledInput, segmentSteps } from "./scenarios.js";
import type { DetectorConfigs, SeverityThresholds } from "./taxonomy.js";
import { detectorParam, severityOf } from "./taxonomy.js";
import type { DimensionalCore, NodeNetwork } from "./triadic.js";

/** What one segment of a run recorded: its samples as columns and the anomalies found while stepping. */
export interface RecordedSegment {
  def: SegmentDef;
  start: "initial" | "continue";
  steps: number;
  cols: SampleColumns;
  /** Step-scope episodes (in the order they closed), then emission-gate violations. */
  anomalies: Anomaly[];
}

export interface RunnerParts {
  initial: StateDef;
  /** handoff_jump disturbances: added to the state when a continuing segment with that id starts. */
  handoffs: Array<{ segment: string; w: Partial<Record<"C" | "D" | "Q" | "R", number>> }>;
  env: Environment;
  inputs: InputEvent[] | undefined;
  envRng: Rng;
  sensorRng: Rng;
  controller: Controller;
  replayer: InputReplayer | undefined;
  network: NodeNetwork | undefined;
  nodeCount: number;
  core: DimensionalCore | undefined;
  stepCtx: StepContext;
  configs: DetectorConfigs;
}

const round9 = (x: number) => Math.round(x * 1e9) / 1e9;

/**
 * The simulator's inner loop, one segment at a time (see `simulateScenario` for the sequence of a step). It keeps
 * the corridor state in one mutable object advanced in place and the last recorded sample in scalars, and writes
 * what the sensor records into `SampleColumns`: a step allocates nothing unless an anomaly episode opens or a record
 * is quarantined. Every expression, and the order of every random draw, is the one the object-per-step simulator
 * used, so logs are byte-identical (packages/core/test/sim-golden.test.ts).
 */
export class SegmentRunner {
  /** The true corridor state (what the engine advances and the step detectors see). */
  readonly state: CorridorState;
  private clockOffset = 0;
  private uPrev = 0;
  private readonly bias: Float64Array;
  private readonly down: Uint8Array;
  private readonly gains: Float64Array;
  private readonly snrThresholds: SeverityThresholds;
  private readonly dimThresholds: SeverityThresholds;

  constructor(private readonly p: RunnerParts) {
    this.state = { ...p.initial };
    this.bias = new Float64Array(p.nodeCount);
    this.down = new Uint8Array(p.nodeCount);
    this.gains = new Float64Array(p.core ? p.core.K + 1 : 0).fill(1);
    this.snrThresholds = p.configs.SNR_NODE_DESYNC.thresholds;
    this.dimThresholds = p.configs.DIMCORE_IMBALANCE.thresholds;
  }

  run(segDef: SegmentDef, segIndex: number): RecordedSegment {
    const p = this.p;
    const st = this.state;
    const start = segIndex === 0 || segDef.start === "initial" ? "initial" : "continue";
    if (start === "initial") {
      const i = p.initial;
      st.t = i.t;
      st.C = i.C;
      st.D = i.D;
      st.Q = i.Q;
      st.R = i.R;
      this.clockOffset = 0;
      this.uPrev = 0;
    } else {
      for (const h of p.handoffs)
        if (h.segment === segDef.segment_id) {
          st.C = st.C + (h.w.C ?? 0);
          st.D = st.D + (h.w.D ?? 0);
          st.Q = st.Q + (h.w.Q ?? 0);
          st.R = st.R + (h.w.R ?? 0);
        }
    }
    p.replayer?.startSegment(segDef.segment_id);
    const dt = segDef.dt;
    const steps = segmentSteps(segDef);
    const cols = new SampleColumns(Math.max(0, steps) + 1);
    const tracker = new EpisodeTracker();
    const quarantined: PointFinding[] = [];
    const lsv = p.configs.LOG_SCHEMA_VIOLATION;
    const lsvMaxGap = detectorParam(lsv, "LOG_SCHEMA_VIOLATION", "max_gap_s");
    this.loop(dt, steps, cols, tracker, quarantined);
    const emitAnomalies = clusterFindings("LOG_SCHEMA_VIOLATION", quarantined, lsvMaxGap, lsv.thresholds);
    return { def: segDef, start, steps, cols, anomalies: [...tracker.flush(), ...emitAnomalies] };
  }

  /** The steps of one segment. Hot: about 3.6 M iterations for a 1 h session at dt = 1 ms. */
  private loop(
    dt: number,
    steps: number,
    cols: SampleColumns,
    tracker: EpisodeTracker,
    quarantined: PointFinding[],
  ): void {
    const p = this.p;
    const st = this.state;
    const { env, controller, replayer, network, core, stepCtx, envRng, sensorRng, inputs } = p;
    const { noises, kicks, slips, dropouts, flatlines, jitters, emitterFaults, desyncs, imbalances } = env;
    // sigma * sqrt(dt), the same product the step used to form (left to right) before multiplying by the draw.
    const noiseScale = noises.map((d) => d.sigma * Math.sqrt(dt));
    const { bias, down, gains } = this;
    const K = core ? core.K : -1;
    const nodeCount = p.nodeCount;
    // The true state before each step, for the step detectors (updated in place: no object per step).
    const before: StepEnd = { t: st.t, C: st.C, D: st.D };
    let clockOffset = this.clockOffset;
    let uPrev = this.uPrev;

    // The segment's first sample: the state it starts from, on the recorder's clock.
    let lastT = round9(st.t + clockOffset);
    let lastC = st.C;
    let lastD = st.D;
    let lastQ = st.Q;
    let lastR = st.R;
    cols.push(lastT, lastC, lastD, lastQ, lastR, 0);

    // Windows are tested inline (`t >= d.from && t < d.to`, environment.ts `active`): one shared `active` inlined at
    // every site would see every disturbance shape and make its property loads polymorphic.
    // Every `xs[j]!` below reads index j < xs.length of a loop over xs (noiseScale is noises mapped); `bias`/`down`
    // have one slot per node (0 <= d.node < nodeCount) and `gains` one per dimension (0 <= d.dim <= K).
    for (let i = 1; i <= steps; i++) {
      const t = st.t;
      const tNext = t + dt;
      // The recorded clock for this step (a clock slip makes it run at 1 + rate).
      for (let j = 0; j < slips.length; j++) {
        const d = slips[j]!;
        if (t >= d.from && t < d.to) clockOffset += d.rate * dt;
      }
      const recT = tNext + clockOffset;

      // The operator sees the last recorded C; the scenario's load adds to the effort.
      const uOp = round9(replayer ? replayer.at(recT) : controller.decide(t, dt, lastC));
      const u = Math.max(-1, Math.min(1, uOp + scheduledInput(inputs, t)));
      const du = u - uPrev;
      uPrev = u;

      // Disturbances w, summed in the scenario's order (one draw per active noise, even on an unknown variable).
      let wC = 0;
      let wD = 0;
      let wQ = 0;
      let wR = 0;
      for (let j = 0; j < noises.length; j++) {
        const d = noises[j]!;
        if (!(t >= d.from && t < d.to)) continue;
        const x = noiseScale[j]! * envRng.gauss();
        if (d.slot === 0) wC += x;
        else if (d.slot === 1) wD += x;
        else if (d.slot === 2) wQ += x;
        else if (d.slot === 3) wR += x;
      }
      for (let j = 0; j < kicks.length; j++) {
        const d = kicks[j]!;
        if (!endsNear(d.t, tNext, dt)) continue;
        if (d.slot === 0) wC += d.amount;
        else if (d.slot === 1) wD += d.amount;
        else if (d.slot === 2) wQ += d.amount;
        else if (d.slot === 3) wR += d.amount;
      }

      before.t = t;
      before.C = st.C;
      before.D = st.D;
      advanceInPlace(st, dt, u, du, wC, wD, wQ, wR);

      // Step detectors on the true state; findings are reported at the recorded clock.
      tracker.step();
      scanStepBetween(before, st, recT, stepCtx, tracker);
      if (network) {
        // Biases and links only while a node_desync is active; otherwise the network's undisturbed step.
        let desynced = false;
        for (let j = 0; j < desyncs.length; j++) {
          const d = desyncs[j]!;
          if (d.node < 0 || !(t >= d.from && t < d.to)) continue;
          if (!desynced)
            for (let k = 0; k < nodeCount; k++) {
              bias[k] = 0;
              down[k] = 0;
            }
          desynced = true;
          bias[d.node]! += d.bias;
          if (d.linkDown) down[d.node] = 1;
        }
        const m = desynced ? network.stepWith(dt, bias, down) : network.stepUndisturbed(dt);
        const s = severityOf(m, this.snrThresholds);
        if (s) tracker.find("SNR_NODE_DESYNC", recT, m, s);
      }
      if (core) {
        // Gains only while a dim_imbalance is active; otherwise the core's undisturbed step (every gain 1).
        let imbalanced = false;
        for (let j = 0; j < imbalances.length; j++) {
          const d = imbalances[j]!;
          if (!(d.dim >= 0 && d.dim <= K && t >= d.from && t < d.to)) continue;
          if (!imbalanced) for (let k = 0; k <= K; k++) gains[k] = 1;
          imbalanced = true;
          gains[d.dim]! *= d.gain;
        }
        const m = core.stepWith(st.D, u, imbalanced ? gains : undefined);
        const s = severityOf(m, this.dimThresholds);
        if (s) tracker.find("DIMCORE_IMBALANCE", recT, m, s);
      }

      // Sensor model: what gets recorded for this step (jitter draws happen even when the record is then lost).
      let dropped = false;
      for (let j = 0; j < dropouts.length; j++) {
        const d = dropouts[j]!;
        if (t >= d.from && t < d.to) dropped = true;
      }
      let flat = false;
      for (let j = 0; j < flatlines.length; j++) {
        const d = flatlines[j]!;
        if (t >= d.from && t < d.to) flat = true;
      }
      let jitter = 0;
      for (let j = 0; j < jitters.length; j++) {
        const d = jitters[j]!;
        if (t >= d.from && t < d.to && sensorRng.next() < d.probability)
          jitter += (sensorRng.next() < 0.5 ? -1 : 1) * d.amplitude;
      }
      let fault = -1;
      for (let j = 0; j < emitterFaults.length; j++) {
        const d = emitterFaults[j]!;
        if (endsNear(d.t, tNext, dt)) fault = d.field;
      }
      if (dropped) continue;

      let rt = round9(recT);
      let rC = flat ? lastC : st.C;
      let rD = flat ? lastD : st.D;
      let rQ = flat ? lastQ : st.Q;
      let rR = flat ? lastR : st.R;
      if (jitter) rC += jitter;
      if (fault >= 0) {
        if (fault === 0) rt = Number.NaN;
        else if (fault === 1) rC = Number.NaN;
        else if (fault === 2) rD = Number.NaN;
        else if (fault === 3) rQ = Number.NaN;
        else rR = Number.NaN;
      }
      if (
        !Number.isFinite(rt) ||
        !Number.isFinite(rC) ||
        !Number.isFinite(rD) ||
        !Number.isFinite(rQ) ||
        !Number.isFinite(rR)
      ) {
        // Emission gate: a record the v2 schema would reject is quarantined, not written; the anomaly says why.
        quarantined.push({ t: Number.isFinite(rt) ? rt : lastT, amount: 1, kind: firstNonFinite(rt, rC, rD, rQ, rR) });
        continue;
      }
      cols.push(rt, rC, rD, rQ, rR, uOp);
      lastT = rt;
      lastC = rC;
      lastD = rD;
      lastQ = rQ;
      lastR = rR;
    }
    this.clockOffset = clockOffset;
    this.uPrev = uPrev;
  }
}

/** The name of the first non-finite field; called only when one of the values is not finite. */
function firstNonFinite(...values: number[]): string {
  return FIELD_NAMES[values.findIndex((v) => !Number.isFinite(v))]!;
}
