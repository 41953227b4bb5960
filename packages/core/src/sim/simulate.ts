import { buildSessionV2 } from "../session.js";
import type { Anomaly, Mode, Segment, SessionLogV2 } from "../types.js";
import { columnSegment } from "./columnSegment.js";
import { runAnomaliesOf } from "./detectors/run.js";
import { compileEnvironment } from "./environment.js";
import { InputReplayer, type RecordedInput } from "./inputs.js";
import { makeController, policyParams } from "./policies.js";
import { fnv1a, rngStream } from "./prng.js";
import { type RecordedSegment, SegmentRunner } from "./runner.js";
import { getScenario, halfBand, listScenarios, type ScenarioDef } from "./scenarios.js";
import { DEFAULT_MAX_RECOVERY_S, scoreColumns } from "./scoring.js";
import { detectorConfigs } from "./taxonomy.js";
import { DimensionalCore, meanOfSums, NodeNetwork, type SetSums, setColumns } from "./triadic.js";

export interface SimulateOptions {
  scenario: string;
  /** "none" | "novice" | "competent" | "expert" (default "competent"); ignored in REPLAY. */
  policy?: string;
  /** Default 1. Same scenario + policy + seed (+ the other options) → byte-identical log. */
  seed?: number;
  operator_id?: string;
  operator_display?: string;
  operator_team?: string;
  mastery_level?: number;
  mode?: Mode;
  /** Default: derived from the options (see `deriveSessionId`). */
  session_id?: string;
  /** Default: 2026-01-06T00:00:00Z plus (seed mod 525600) minutes. */
  timestamp?: string;
  /** Operator inputs to replay (mode REPLAY). */
  inputs?: RecordedInput[];
}

export const DEFAULT_POLICY = "competent";
export const DEFAULT_SEED = 1;
const EPOCH_MS = Date.UTC(2026, 0, 6);

export function deriveTimestamp(seed: number): string {
  return new Date(EPOCH_MS + (Math.abs(Math.trunc(seed)) % 525600) * 60_000).toISOString();
}

/** SIM-<scenario>-<policy>-s<seed>-<8 hex of FNV-1a over every option that changes the log>. */
export function deriveSessionId(o: SimulateOptions & { policy: string; seed: number; mode: Mode }): string {
  const key = JSON.stringify([o.scenario, o.policy, o.seed, o.mode, o.operator_id, o.mastery_level, o.inputs ?? null]);
  return `SIM-${o.scenario}-${o.mode === "REPLAY" ? "replay" : o.policy}-s${o.seed}-${fnv1a(key).toString(16).padStart(8, "0")}`;
}

/** Runs a built-in scenario (spec/scenarios/<id>.json); see `simulateScenario`. */
export function simulateSession(opts: SimulateOptions): SessionLogV2 {
  const def = getScenario(opts.scenario);
  if (!def)
    throw new Error(
      `unknown scenario ${JSON.stringify(opts.scenario)} (known: ${listScenarios()
        .map((s) => s.id)
        .join(", ")})`,
    );
  return simulateScenario(def, opts);
}

/** The corridor numbers every detector and score uses, from a scenario. */
export function corridorOf(def: ScenarioDef) {
  return { C_target: def.corridor.C_target, C_band: def.corridor.C_band, D_min: def.corridor.D_min, h: halfBand(def) };
}

/**
 * Runs a scenario definition. Per step: the recorder's clock advances (clock slips), the operator decides on the last
 * recorded C (or the recorded input is replayed), the scenario's load is added, disturbances are drawn, the engine
 * advances the true state, step detectors and the S-N-R / dimensional-core overlays run on it, then the sensor model
 * decides what is recorded (see runner.ts). After each segment, the whole-run detectors read what was recorded;
 * scores, S-E-T and the triadic snapshots follow.
 */
export function simulateScenario(def: ScenarioDef, opts: Omit<SimulateOptions, "scenario"> = {}): SessionLogV2 {
  const mode: Mode = opts.mode ?? "TRAINING";
  const policy = opts.policy ?? DEFAULT_POLICY;
  const seed = opts.seed ?? DEFAULT_SEED;
  const params = policyParams(policy);
  if (mode === "REPLAY" && !opts.inputs) throw new Error("mode REPLAY needs recorded inputs (inputs: [{t, u}, …])");
  const operator_id = opts.operator_id ?? `urn:operator:sim:${policy}`;
  if (!/^urn:operator:.+/.test(operator_id))
    throw new Error(`operator_id must be a URN urn:operator:…, got ${JSON.stringify(operator_id)}`);
  const mastery_level = opts.mastery_level ?? 0;
  if (!Number.isInteger(mastery_level) || mastery_level < 0 || mastery_level > 30)
    throw new Error(`mastery_level must be an integer 0..30, got ${mastery_level}`);

  const h = halfBand(def);
  const configs = detectorConfigs(def.thresholds);
  const extensions = def.extensions ?? [];
  const nodes = extensions.includes("SNR") ? (def.snr?.nodes ?? []) : [];
  const network = nodes.length ? new NodeNetwork(nodes, h) : undefined;
  const core =
    extensions.includes("DIMCORE") && def.dimcore
      ? new DimensionalCore(def.dimcore.model, def.dimcore.decay, def.dimcore.excitation)
      : undefined;
  const disturbances = def.disturbances ?? [];
  const handoffs = [];
  for (const d of disturbances) if (d.kind === "handoff_jump") handoffs.push({ segment: d.segment, w: d.w });

  const runner = new SegmentRunner({
    initial: def.initial_state,
    handoffs,
    env: compileEnvironment(disturbances, new Map(nodes.map((n, i) => [n.id, i] as const))),
    inputs: def.inputs,
    envRng: rngStream(seed, "environment"),
    sensorRng: rngStream(seed, "sensor"),
    controller: makeController(params, def.corridor.C_target, h, rngStream(seed, "policy")),
    replayer: mode === "REPLAY" ? new InputReplayer(opts.inputs ?? []) : undefined,
    network,
    nodeCount: nodes.length,
    core,
    stepCtx: { C_target: def.corridor.C_target, C_band: def.corridor.C_band, h, configs },
    configs,
  });
  const recorded: RecordedSegment[] = def.segments.map((seg, i) => runner.run(seg, i));

  const corridor = { C_target: def.corridor.C_target, h };
  const runAnomalies = runAnomaliesOf(
    recorded.map((r) => ({ segment_id: r.def.segment_id, start: r.start, dt: r.def.dt, cols: r.cols })),
    corridor,
    configs,
  );
  const withU = mode === "REPLAY" || policy !== "none";
  const sums: SetSums = { S: 0, E: 0, T: 0, n: 0 };
  const setCtx = { C_target: def.corridor.C_target, h, period_s: def.set?.period_s ?? 10 };
  const all: Anomaly[] = [];
  const segments: Segment[] = recorded.map((r, i) => {
    const anomalies = [...r.anomalies, ...runAnomalies[i]!].sort((a, b) => a.t - b.t); // one entry per segment
    all.push(...anomalies);
    const set = extensions.includes("SET") ? setColumns(r.cols, setCtx, sums) : undefined;
    const meta = { start: r.start, dt: r.def.dt, steps: r.steps };
    // The samples stay in their columns until read (columnSegment.ts); logWriter.ts serialises them from there.
    return columnSegment(
      { segment_id: r.def.segment_id, label: r.def.label, meta },
      { cols: r.cols, withU, set },
      anomalies,
    );
  });

  const scores = scoreColumns(
    recorded.map((r) => r.cols),
    all,
    {
      C_band: def.corridor.C_band,
      D_min: def.corridor.D_min,
      max_recovery_s: def.scoring?.max_recovery_s ?? DEFAULT_MAX_RECOVERY_S,
    },
  );
  const triadic: NonNullable<SessionLogV2["triadic"]> = {};
  if (extensions.includes("SET")) triadic.set = meanOfSums(sums);
  if (network) triadic.snr = { nodes: network.snapshot(runner.state) };
  if (core) triadic.dimcore = core.snapshot();

  const session_id = opts.session_id ?? deriveSessionId({ ...opts, scenario: def.id, policy, seed, mode });
  return buildSessionV2(
    {
      session_id,
      timestamp: opts.timestamp ?? deriveTimestamp(seed),
      device: def.device,
      scenario: def.id,
      difficulty: def.difficulty,
    },
    segments,
    {
      mode,
      device_type: def.device_type,
      operator_id,
      operator_display: opts.operator_display,
      operator_team: opts.operator_team,
      mastery_level,
      scores,
      extensions: extensions.length ? [...extensions] : undefined,
      triadic: Object.keys(triadic).length ? triadic : undefined,
    },
  );
}
