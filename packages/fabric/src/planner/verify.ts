import { hashOf } from "../canonical.js";
import { FabricError } from "../errors.js";
import { assertSchema } from "../schemas.js";
import { enforceTrust, type VerifyResult } from "../trust/sign.js";
import type { TrustStore } from "../trust/store.js";
import { type Plan, pairKey } from "./types.js";

/** plan_id of a plan: "sha256:" + SHA-256 of its RFC 8785 canonical JSON without `plan_id` and `sign`. */
export function computePlanId(plan: object): string {
  const { plan_id: _id, sign: _sign, ...body } = plan as Record<string, unknown>;
  return `sha256:${hashOf(body)}`;
}

export interface VerifyPlanOptions {
  /** Strict mode: refuse an unsigned plan or one signed by a key outside the trust store. */
  strict: boolean;
  store: TrustStore;
  /** The file or name errors are about (default: the plan's own plan_id). */
  where?: string;
}

export interface VerifiedPlan {
  plan: Plan;
  /** The signature's status (`valid`, or `unsigned`/`unknown_key` outside strict mode: show `reason` as a warning). */
  signature: VerifyResult;
}

/**
 * Everything a plan must pass before anyone applies it, in this order:
 * 1. the schema (spec/fabric/plan.schema.json) — RTT_FABRIC_INVALID;
 * 2. plan_id recomputed from the content (one changed byte of the body changes it) — RTT_FABRIC_CORRUPT;
 * 3. internal consistency: route_ids unique and sorted, one route per (from, to), every routes_add entry in routes,
 *    every route's ends placed — RTT_FABRIC_INVALID;
 * 4. the signature through the trust store (enforceTrust: a bad or revoked signature always refuses, unsigned or an
 *    unknown key only in strict mode) — RTT_FABRIC_UNTRUSTED.
 * Does not check `inputs.base` against the plan in force: that is the applier's stale-plan check.
 */
export function verifyPlan(plan: unknown, opts: VerifyPlanOptions): VerifiedPlan {
  const where0 = opts.where ?? "plan";
  assertSchema("plan", plan, where0);
  const p = plan as Plan;
  const where = opts.where ?? p.plan_id;
  const id = computePlanId(p);
  if (id !== p.plan_id)
    throw new FabricError(
      "RTT_FABRIC_CORRUPT",
      `plan_id ${p.plan_id} does not match the content (recomputed ${id}): the plan was changed after it was built`,
      where,
    );
  const bad = (why: string) => new FabricError("RTT_FABRIC_INVALID", why, where);
  const pairs = new Set<string>();
  let last = 0;
  for (const r of p.routes) {
    if (r.route_id <= last) throw bad(`routes are not sorted by unique route_id (at route_id ${r.route_id})`);
    last = r.route_id;
    const k = pairKey(r.from, r.to);
    if (pairs.has(k)) throw bad(`route ${r.from} -> ${r.to} appears twice`);
    pairs.add(k);
    for (const s of [r.from, r.to])
      if (!Object.hasOwn(p.placement, s)) throw bad(`route ${r.route_id} (${r.from} -> ${r.to}): ${s} is not placed`);
  }
  const ids = new Map(p.routes.map((r) => [r.route_id, r]));
  for (const r of p.routes_add) {
    const inTable = ids.get(r.route_id);
    if (!inTable || inTable.from !== r.from || inTable.to !== r.to || inTable.lane !== r.lane)
      throw bad(`routes_add has route ${r.route_id} (${r.from} -> ${r.to}) that is not in routes`);
  }
  for (const r of p.routes_remove)
    if (pairs.has(pairKey(r.from, r.to)))
      throw bad(`routes_remove has route ${r.route_id} (${r.from} -> ${r.to}) that is still in routes`);
  const signature = enforceTrust(p, where, { strict: opts.strict, store: opts.store });
  return { plan: p, signature };
}
