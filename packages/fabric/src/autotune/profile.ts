import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic.js";
import { FabricError, isFabricError } from "../errors.js";
import { prettyJson, readJsonFile } from "../json-file.js";
import { assertSchema } from "../schemas.js";
import type { AutotuneResult, Measured } from "./engine.js";
import { type MachineInfo, machineKey, type PinningSuggestion, readMachine } from "./machine.js";
import type { TuneParams } from "./trial.js";

/** `.rtt/tuned/profile.json` (spec/fabric/tuned-profile.schema.json). */
export interface TunedProfile {
  format: "rtt-tuned/1";
  key: string;
  machine: MachineInfo;
  created: string;
  params: TuneParams;
  pinning: PinningSuggestion;
  load: AutotuneResult["load"];
  result: {
    seed: number;
    trials: number;
    repeats: number;
    stopped?: "optimum" | "budget";
    kept: "tuned" | "defaults";
    p99_gain_pct: number;
    defaults: MeasuredSummary;
    tuned: MeasuredSummary;
    loadavg?: number[];
  };
}

interface MeasuredSummary {
  p50_us: number | null;
  p99_us: number | null;
  throughput_hz: number;
  noise_pct: number;
}

/** Where the profile lives under a fabric root. */
export const tunedProfilePath = (root: string) => join(root, "tuned", "profile.json");

const summary = (m: Measured): MeasuredSummary => ({
  p50_us: Number.isFinite(m.p50_us) ? m.p50_us : null,
  p99_us: Number.isFinite(m.p99_us) ? m.p99_us : null,
  throughput_hz: m.throughput_hz,
  noise_pct: Number.isFinite(m.noise_pct) ? m.noise_pct : 0,
});

/** The profile of a run: the tuned point when it beat the defaults in the confirmation, else the defaults. */
export function profileOf(r: AutotuneResult, machine: MachineInfo, pinning: PinningSuggestion): TunedProfile {
  return {
    format: "rtt-tuned/1",
    key: machineKey(machine),
    machine,
    created: new Date().toISOString(),
    params: r.kept === "tuned" ? r.tuned.params : r.defaults.params,
    pinning,
    load: r.load,
    result: {
      seed: r.seed,
      trials: r.trials_run,
      repeats: r.repeats,
      stopped: r.climb.stopped,
      kept: r.kept,
      p99_gain_pct: r.p99_gain_pct,
      defaults: summary(r.defaults),
      tuned: summary(r.tuned),
      loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    },
  };
}

export function writeTunedProfile(root: string, p: TunedProfile): string {
  assertSchema("tuned-profile", p, "tuned profile");
  const path = tunedProfilePath(root);
  writeFileAtomic(path, prettyJson(p));
  return path;
}

/**
 * Reads and checks a profile: JSON, its schema, ring bytes a power of two, its key the hash of its own machine
 * (a hand-edited machine is corrupt), and that machine this one (RTT_FABRIC_TUNED_FOREIGN otherwise).
 */
export function readTunedProfile(path: string, here: MachineInfo = readMachine()): TunedProfile {
  const v = readJsonFile(path);
  assertSchema("tuned-profile", v, path);
  const p = v as TunedProfile;
  if ((p.params.ring_bytes & (p.params.ring_bytes - 1)) !== 0)
    throw new FabricError("RTT_FABRIC_INVALID", `params.ring_bytes ${p.params.ring_bytes} is not a power of two`, path);
  if (machineKey(p.machine) !== p.key)
    throw new FabricError("RTT_FABRIC_INVALID", "its key is not the hash of its machine (edited or corrupt)", path);
  const mine = machineKey(here);
  if (p.key !== mine)
    throw new FabricError(
      "RTT_FABRIC_TUNED_FOREIGN",
      `tuned on "${p.machine.cpu_model}" (${p.machine.cpus} CPUs, ${p.machine.numa.length} NUMA nodes), this is "${here.cpu_model}" (${here.cpus} CPUs, ${here.numa.length} NUMA nodes): run rtt autotune here`,
      path,
    );
  return p;
}

/** What the daemon did with the profile at start (`rtt fabric status`, "tuned"). */
export interface TunedStatus {
  state: "none" | "loaded" | "refused";
  path: string;
  key?: string;
  /** The settings the daemon took from it (explicit options win and are not listed). */
  applied?: { spinMicros?: number; shmCapacity?: number };
  batch_window_us?: number;
  error?: { code: string; message: string };
  /** Profiles refused by this daemon (0 or 1: it reads the file once, at start). */
  refused: number;
}

interface TunableOptions {
  root?: string;
  spinMicros?: number;
  shmCapacity?: number;
  log?: (line: string) => void;
}

/**
 * The daemon's start hook: fills spinMicros and shmCapacity from `<root>/tuned/profile.json` where the caller gave
 * none. A corrupt or foreign profile is refused — logged, counted in the status — and the defaults are used; no
 * profile is not an error.
 */
export function tunedDaemonOptions<O extends TunableOptions>(
  opts: O,
  here?: MachineInfo,
): { opts: O; tuned: TunedStatus } {
  const path = tunedProfilePath(opts.root ?? ".rtt");
  if (!existsSync(path)) return { opts, tuned: { state: "none", path, refused: 0 } };
  let p: TunedProfile;
  try {
    p = readTunedProfile(path, here ?? readMachine());
  } catch (e) {
    const err = isFabricError(e) ? e : new FabricError("RTT_FABRIC_UNREADABLE", (e as Error).message, path);
    opts.log?.(`fabric: tuned profile REFUSED (${err.code}): ${err.message} — using the defaults`);
    return { opts, tuned: { state: "refused", path, error: { code: err.code, message: err.message }, refused: 1 } };
  }
  const applied: TunedStatus["applied"] = {};
  const out = { ...opts };
  if (opts.spinMicros === undefined) out.spinMicros = applied.spinMicros = p.params.spin_us;
  if (opts.shmCapacity === undefined) out.shmCapacity = applied.shmCapacity = p.params.ring_bytes;
  opts.log?.(
    `fabric: tuned profile ${path}: spin ${out.spinMicros} µs, rings ${out.shmCapacity} bytes (batch window ${p.params.batch_window_us} µs for producers)`,
  );
  return {
    opts: out,
    tuned: { state: "loaded", path, key: p.key, applied, batch_window_us: p.params.batch_window_us, refused: 0 },
  };
}
