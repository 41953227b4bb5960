/** Sandboxed, supervised drivers (seed 004, "Driver Sandboxing"; spec/fabric/sandbox.md). */
export { Backoff, type BackoffOptions } from "./backoff.js";
export {
  bwrapArgs,
  DEFAULT_PATH,
  type DriverProcessSpec,
  driverArgv,
  driverEnv,
  findBwrap,
  makeDriverTmp,
  probeSandbox,
  resolveCommand,
  type SandboxOptions,
  type SandboxProbe,
  type SpawnedDriver,
  SYSTEM_READ_ONLY,
  spawnDriver,
} from "./sandbox.js";
export {
  AF_UNIX,
  AUDIT_ARCH,
  buildSeccompFilter,
  CLONE_NEW_MASK,
  ENOSYS,
  EPERM,
  runSeccompFilter,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RULES,
  type SeccompAction,
  type SeccompArch,
  type SeccompRule,
} from "./seccomp.js";
export { type DriverHealth, type DriverState, DriverSupervisor, type SupervisorOptions } from "./supervisor.js";
