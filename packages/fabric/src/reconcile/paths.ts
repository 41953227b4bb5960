import { join } from "node:path";
import { fabricPaths } from "../paths.js";

/** Where the reconciler keeps its files, under one fabric root (`.rtt`); spec/fabric/reconcile.md. */
export interface ReconcilePaths {
  root: string;
  /** The plan WAL (`.rtt/wal/fabric.wal`): the only record of which plan is in force. */
  wal: string;
  /** Trust store for plan signatures. */
  registry: string;
  /** `.rtt/policy.json` (`strict`). */
  policy: string;
  /** Every plan ever prepared, by content: `.rtt/plans/<hex of plan_id>.json`. */
  plans: string;
  /** One transition at a time: `.rtt/fabric.lock` holding the owner's pid. */
  lock: string;
  /** The local participant's materialised routing table. */
  table: string;
}

export function reconcilePaths(root = ".rtt", overrides: Partial<ReconcilePaths> = {}): ReconcilePaths {
  const f = fabricPaths(root);
  return {
    root: f.root,
    wal: f.wal,
    registry: f.registry,
    policy: f.policy,
    plans: join(f.root, "plans"),
    lock: join(f.root, "fabric.lock"),
    table: join(f.root, "fabric", "routes.json"),
    ...overrides,
  };
}
