/** The 2PC reconciler (seed 004, layer 2): `rtt plan apply | status | rollback | recover`; spec/fabric/reconcile.md. */

export { type ApplyFileOptions, applyPlanFile } from "./apply-file.js";
export { CRASH_ENV, CRASH_POINTS, type CrashPoint, crashPoint } from "./crash.js";
export { type ApplyLock, acquireApplyLock, type LockInfo, pidAlive, readLock } from "./lock.js";
export {
  LocalParticipant,
  type Participant,
  type ParticipantState,
  readTable,
  sameTable,
  type Transition,
  tableProblem,
  type Vote,
} from "./participant.js";
export { type ReconcilePaths, reconcilePaths } from "./paths.js";
export {
  type ApplyOptions,
  type ApplyResult,
  Reconciler,
  type ReconcilerOptions,
  type RecoveryReport,
  type RollbackResult,
} from "./reconciler.js";
export { type PlanStatus, planStatus, readPlanInForce, type WalEntry } from "./status.js";
export { dropPlan, loadPlan, planFile as storedPlanFile, storePlan, tableHash, tableOf } from "./store.js";
export { postconditions, runVerifiers, type Verifier, type VerifyContext } from "./verify.js";
