/**
 * Fault injection for the kill tests (spec/fabric/reconcile.md, "Crash points"): when the environment variable
 * RTT_FABRIC_CRASH_AT names a point, the process SIGKILLs itself there — no `finally`, no exit handlers, exactly what
 * a power cut or an OOM kill leaves. Off unless set; reading one variable per phase boundary costs nothing next to
 * the fsyncs around it.
 */
export const CRASH_POINTS = [
  /** Lock taken and recovery done, nothing of the plan written yet. */
  "prepare",
  /** The plan is in `.rtt/plans/`, no WAL record yet. */
  "after-plan-stored",
  /** The prepare record is durable, no participant asked yet. */
  "after-prepare-record",
  /** Every participant voted yes (the local one has staged its table), no decision yet. */
  "after-votes",
  /** The commit record is durable (the commit point), no participant has applied. */
  "after-commit-record",
  /** Inside the local participant's commit: the new table renamed into place, its directory not yet fsynced. */
  "mid-participant",
  /** Every participant applied, verification not started. */
  "before-verify",
  /** Verification failed (or a rollback was asked for) and participants staged the old table; no rollback record. */
  "before-rollback-record",
  /** The rollback record is durable, participants not yet reverted. */
  "after-rollback-record",
  /** Everything done, the lock not yet released. */
  "before-unlock",
  /** Recovery wrote the abort record of an undecided plan and has not yet cleaned up participants. */
  "recovery-after-abort",
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export const CRASH_ENV = "RTT_FABRIC_CRASH_AT";

export function crashPoint(point: CrashPoint): void {
  if (process.env[CRASH_ENV] === point) process.kill(process.pid, "SIGKILL");
}
