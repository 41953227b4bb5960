import { CRASH_ENV } from "../reconcile/crash.js";

/**
 * The cluster's own fault points, named through the reconciler's variable (RTT_FABRIC_CRASH_AT): the process
 * SIGKILLs itself there (tests only; off unless set). The reconciler's points (`after-votes`, …) work in a node too.
 */
export const CLUSTER_CRASH_POINTS = [
  /** A node published its yes vote and has not seen the decision. */
  "cluster-after-vote",
  /** The coordinator moved the head (the plan is out) and has not decided. */
  "cluster-after-head",
] as const;
export type ClusterCrashPoint = (typeof CLUSTER_CRASH_POINTS)[number];

export function clusterCrashPoint(point: ClusterCrashPoint): void {
  if (process.env[CRASH_ENV] === point) process.kill(process.pid, "SIGKILL");
}
