import { existsSync } from "node:fs";
import type { Plan } from "../planner/types.js";
import { PlanLog } from "../wal/plan-log.js";
import { type LockInfo, readLock } from "./lock.js";
import { LocalParticipant, type Participant, sameTable } from "./participant.js";
import { type ReconcilePaths, reconcilePaths } from "./paths.js";
import { loadPlan } from "./store.js";

export interface WalEntry {
  seq: number;
  type: "prepare" | "commit" | "abort" | "rollback" | "checkpoint";
  plan_id?: string;
  base?: string | null;
  to?: string | null;
  reason?: string;
  tree_size?: number;
}

export interface PlanStatus {
  wal: string;
  /** The plan in force (null: none). */
  current: string | null;
  /** Routes in its table (null when its stored plan cannot be read: see `problems`). */
  routes: number | null;
  records: number;
  commits: number;
  /** A plan prepared and not decided: an apply running now (lock held) or killed (the next open recovers it). */
  pending: { plan_id: string; seq: number; base: string | null } | null;
  lock: LockInfo | null;
  participants: Array<{ name: string; plan_id: string | null; routes: number; in_sync: boolean; problem?: string }>;
  /** The last WAL records, newest last. */
  recent: WalEntry[];
  torn_tail_bytes: number;
  problems: string[];
}

/**
 * `rtt plan status`: what the WAL says is in force, what participants serve, and the last transitions. Read-only: it
 * takes no lock and repairs nothing (a torn tail is only counted), so it is safe while an apply runs.
 */
export async function planStatus(
  opts: { paths?: ReconcilePaths; participants?: Participant[]; recent?: number } = {},
): Promise<PlanStatus> {
  const paths = opts.paths ?? reconcilePaths();
  const participants = opts.participants ?? [new LocalParticipant(paths.table)];
  const status: PlanStatus = {
    wal: paths.wal,
    current: null,
    routes: 0,
    records: 0,
    commits: 0,
    pending: null,
    lock: readLock(paths.lock),
    participants: [],
    recent: [],
    torn_tail_bytes: 0,
    problems: [],
  };
  let plan: Plan | null = null;
  if (existsSync(paths.wal)) {
    const log = PlanLog.open(paths.wal, { readOnly: true });
    try {
      const s = log.state;
      status.current = s.current;
      status.commits = s.commits.length;
      status.pending = s.pending ? { ...s.pending } : null;
      status.records = log.wal.size;
      status.torn_tail_bytes = log.wal.repairedBytes;
      const n = opts.recent ?? 10;
      for (let i = Math.max(0, log.wal.size - n); i < log.wal.size; i++) {
        const r = log.wal.record(i);
        const { plan_id, base, to, reason, tree_size } = r.payload as Record<string, never>;
        status.recent.push({
          seq: r.seq,
          type: r.type,
          ...(plan_id !== undefined ? { plan_id } : {}),
          ...(base !== undefined ? { base } : {}),
          ...(to !== undefined ? { to } : {}),
          ...(reason !== undefined ? { reason } : {}),
          ...(tree_size !== undefined ? { tree_size } : {}),
        });
      }
    } finally {
      log.close();
    }
  }
  if (status.current !== null) {
    try {
      plan = loadPlan(paths.plans, status.current);
      status.routes = plan.routes.length;
    } catch (e) {
      status.routes = null;
      status.problems.push((e as Error).message);
    }
  }
  const routes = plan?.routes ?? [];
  for (const p of participants) {
    const s = await p.state();
    const in_sync = plan !== null || status.current === null ? sameTable(s, status.current, routes) : false;
    status.participants.push({
      name: p.name,
      plan_id: s?.plan_id ?? null,
      routes: s?.routes.length ?? 0,
      in_sync,
      ...(s?.problem ? { problem: s.problem } : {}),
    });
  }
  return status;
}

/** The plan in force and its stored body (null, null before the first commit): for the planner's churn minimisation. */
export function readPlanInForce(paths: ReconcilePaths = reconcilePaths()): {
  plan_id: string | null;
  plan: Plan | null;
} {
  const current = PlanLog.inForce(paths.wal);
  return { plan_id: current, plan: current === null ? null : loadPlan(paths.plans, current) };
}
