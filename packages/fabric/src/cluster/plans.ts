import { FabricError } from "../errors.js";
import type { Plan } from "../planner/types.js";
import type { ClusterConn } from "./connect.js";
import { planHex } from "./names.js";
import { isWrongLastSequence } from "./twopc.js";

/** The value of the `head` key of the plans bucket: the plan the cluster moves to (or is in). */
export interface PlanHead {
  plan_id: string | null;
  base: string | null;
  /** The nodes that vote on this plan (2PC participants). */
  members: string[];
  coordinator: string;
  /** Set when the head was put back after `aborted` was refused. */
  aborted?: string;
  at: string;
}

export interface HeadEntry {
  head: PlanHead | null;
  /** The KV revision of `head` (0: never written). */
  revision: number;
}

const HEAD = "head";
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

export async function readHead(conn: ClusterConn): Promise<HeadEntry> {
  const e = await conn.plans.get(HEAD);
  if (e?.operation !== "PUT") return { head: null, revision: e?.revision ?? 0 };
  return { head: e.json<PlanHead>(), revision: e.revision };
}

/** Stores a signed plan's body under `plan.<hex>` (before the head names it, so watchers can always fetch it). */
export async function putPlanBody(conn: ClusterConn, plan: Plan): Promise<void> {
  const key = `plan.${planHex(plan.plan_id)}`;
  const have = await conn.plans.get(key);
  if (have?.operation === "PUT") return;
  await conn.plans.put(key, enc(plan));
}

export async function getPlanBody(conn: ClusterConn, planId: string): Promise<unknown> {
  const e = await conn.plans.get(`plan.${planHex(planId)}`);
  if (e?.operation !== "PUT")
    throw new FabricError("RTT_FABRIC_NOT_FOUND", "the plans bucket has no body for this plan", planId);
  return e.json<unknown>();
}

/**
 * Moves `head` from `revision` to `head`: `kv.update` with the revision the caller read (create when 0), so a
 * writer that read an older head is refused by the server (RTT_FABRIC_STALE) — two coordinators cannot both move it.
 * Returns the new revision.
 */
export async function moveHead(conn: ClusterConn, head: PlanHead, revision: number): Promise<number> {
  try {
    return revision === 0
      ? await conn.plans.create(HEAD, enc(head))
      : await conn.plans.update(HEAD, enc(head), revision);
  } catch (e) {
    if (!isWrongLastSequence(e) && !/exists/i.test(String(e))) throw e;
    const now = await readHead(conn).catch(() => ({ revision: -1, head: null }));
    throw new FabricError(
      "RTT_FABRIC_STALE",
      `plan head revision ${revision} is stale: the head is at revision ${now.revision} (${now.head?.plan_id ?? "no plan"}); read it again and rebuild the plan`,
      head.plan_id ?? "head",
    );
  }
}
