import { readdirSync } from "node:fs";
import { join } from "node:path";
import { readSpecJson, specDir } from "../spec.js";
import type { DeviceType } from "../types.js";
import type { ThresholdOverrides } from "./taxonomy.js";

/**
 * Scenario definitions are data: spec/scenarios/<ID>.json (documented field by field in spec/scenarios/README.md).
 * Files whose name starts with "_" are not scenarios (e.g. _difficulty.json, the difficulty ladder).
 */

export interface StateDef {
  t: number;
  C: number;
  D: number;
  Q: number;
  R: number;
}

export interface SegmentDef {
  segment_id: string;
  /** From spec/v2/segment_labels.json. */
  label: string;
  /** Seconds; the segment runs round(duration/dt) steps and records steps + 1 samples. */
  duration: number;
  dt: number;
  /** "initial": restart from the scenario's initial state (a fresh trial); "continue" (default): carry the state on. */
  start?: "initial" | "continue";
}

/** The exogenous input schedule: load the operator has to counter, added to the operator's effort. */
export type InputEvent =
  | { kind: "step"; t: number; u: number }
  | { kind: "ramp"; t_from: number; t_to: number; from: number; to: number }
  | { kind: "pulse"; t: number; width: number; u: number };

type Window = { t_from: number; t_to: number };
export type Disturbance =
  /** White noise: each step adds sigma * sqrt(dt) * N(0, 1), so sigma is per square-root second and dt-independent. */
  | ({ kind: "noise"; var: "C" | "D" | "Q" | "R"; sigma: number } & Partial<Window>)
  | { kind: "kick"; var: "C" | "D" | "Q" | "R"; t: number; amount: number }
  | ({ kind: "dropout" } & Window)
  | ({ kind: "flatline" } & Window)
  | ({ kind: "jitter"; amplitude: number; probability: number } & Window)
  | ({ kind: "clock_slip"; rate: number } & Window)
  | { kind: "handoff_jump"; segment: string; w: Partial<Record<"C" | "D" | "Q" | "R", number>> }
  | ({ kind: "node_desync"; node: string; bias: number; link_down?: boolean } & Window)
  | ({ kind: "dim_imbalance"; dim: string; gain: number } & Window)
  | { kind: "emitter_fault"; t: number; field: "t" | "C" | "D" | "Q" | "R" };

export type Objective = { id: string; text: string } & (
  | { kind: "hold_D_above"; threshold: number; seconds: number }
  | { kind: "hold_C_in_band"; seconds: number }
  | { kind: "max_severity"; max: number }
  | { kind: "min_score"; field: "stability" | "response" | "quality" | "final"; min: number }
  | { kind: "max_anomalies"; max: number; type?: string }
);

export interface NodeDef {
  id: string;
  role: string;
  neighbors: string[];
  /** 1/s: how fast the node is pulled toward its neighbours' mean. Nodes with role "source" are anchored. */
  coupling: number;
}

export interface ScenarioDef {
  id: string;
  title: string;
  description: string;
  device: string;
  device_type: DeviceType;
  difficulty: string;
  extensions?: Array<"SET" | "SNR" | "DIMCORE">;
  initial_state: StateDef;
  corridor: { C_target: number; C_band: [number, number]; D_min: number };
  segments: SegmentDef[];
  inputs?: InputEvent[];
  disturbances?: Disturbance[];
  thresholds?: ThresholdOverrides;
  objectives: Objective[];
  snr?: { nodes: NodeDef[] };
  dimcore?: { model: "RTT-9" | "RTT-12" | "RTT-24"; decay?: number; excitation?: number };
  set?: { period_s?: number };
  scoring?: { max_recovery_s?: number };
  /** What this scenario is built to exercise (documentation; the tests check it). */
  teaches?: string[];
}

export interface DifficultyTier {
  name: string;
  rank: number;
  meaning: string;
}

export function difficultyLadder(): DifficultyTier[] {
  return readSpecJson<{ tiers: DifficultyTier[] }>("scenarios/_difficulty.json").tiers;
}

/** Rank of a difficulty name on the ladder (1 = easiest), 0 when it is not on the ladder. */
export function difficultyRank(name: string): number {
  return difficultyLadder().find((t) => t.name === name)?.rank ?? 0;
}

let scenarioCache: ScenarioDef[] | undefined;

/** Every spec/scenarios/*.json scenario, sorted by id. */
export function listScenarios(): ScenarioDef[] {
  if (!scenarioCache) {
    const files = readdirSync(join(specDir(), "scenarios")).filter((f) => f.endsWith(".json") && !f.startsWith("_"));
    scenarioCache = files
      .map((f) => readSpecJson<ScenarioDef>(`scenarios/${f}`))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
  return scenarioCache;
}

export function getScenario(id: string): ScenarioDef | undefined {
  return listScenarios().find((s) => s.id === id);
}

/** Half the C band width: the unit of most corridor measures. */
export function halfBand(def: Pick<ScenarioDef, "corridor">): number {
  return (def.corridor.C_band[1] - def.corridor.C_band[0]) / 2;
}

/** Number of engine steps of a segment. */
export function segmentSteps(seg: SegmentDef): number {
  return Math.round(seg.duration / seg.dt);
}

/** The exogenous input at time t (sum of every active schedule entry). */
export function scheduledInput(inputs: InputEvent[] | undefined, t: number): number {
  if (!inputs) return 0;
  let u = 0;
  for (const e of inputs) {
    if (e.kind === "step") {
      if (t >= e.t) u += e.u;
    } else if (e.kind === "ramp") {
      if (t >= e.t_to) u += e.to;
      else if (t >= e.t_from) u += e.from + ((e.to - e.from) * (t - e.t_from)) / (e.t_to - e.t_from);
    } else if (t >= e.t && t < e.t + e.width) u += e.u;
  }
  return u;
}
