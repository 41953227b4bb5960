/** Autotune (seed 004 layer 4; spec/fabric/autotune.md): trace input, sweep, hill-climb, machine-keyed profiles. */
export {
  type AutotuneOptions,
  type AutotuneResult,
  defaultParams,
  type Measured,
  minTrials,
  paramsAt,
  runAutotune,
  SWEEP,
  startPoint,
} from "./engine.js";
export { type ClimbResult, type ClimbStep, type Dimension, hillClimb, neighbours } from "./hill-climb.js";
export { LOAD_LIMITS, type LoadSpec, loadFromFlight, syntheticLoad } from "./load.js";
export {
  allowedCpus,
  formatCpuList,
  type MachineInfo,
  machineKey,
  type PinningSuggestion,
  parseCpuList,
  readMachine,
  suggestPinning,
} from "./machine.js";
export {
  profileOf,
  readTunedProfile,
  type TunedProfile,
  type TunedStatus,
  tunedDaemonOptions,
  tunedProfilePath,
  writeTunedProfile,
} from "./profile.js";
export { DAEMON_DEFAULTS, ringBytesFor, type TrialResult, TrialRig, type TuneParams } from "./trial.js";
