import type { Plan } from "../planner/types.js";
import { type Participant, sameTable, type Transition } from "./participant.js";

export interface VerifyContext {
  /** The plan just committed (absent when verifying a rollback). */
  plan?: Plan;
  transition: Transition;
  participants: readonly Participant[];
}

/**
 * A check run in VERIFY, after every participant applied the committed plan. It returns why the plan must be rolled
 * back, or undefined when it passes (a throw counts as a failure with its message). Part 4 plugs in SLO gates
 * (per-route p99 against the QoS budget, breaker states) through this interface.
 */
export interface Verifier {
  readonly name: string;
  check(ctx: VerifyContext): Promise<string | undefined> | string | undefined;
}

/** The post-condition every transition must meet: each participant serves exactly the committed table. */
export const postconditions: Verifier = {
  name: "postconditions",
  async check({ transition: t, participants }) {
    for (const p of participants) {
      const s = await p.state();
      if (!sameTable(s, t.plan_id, t.routes))
        return `participant ${p.name} serves ${s?.problem ?? `plan ${s?.plan_id ?? "none"} with ${s?.routes.length ?? 0} routes`}, not plan ${t.plan_id ?? "none"} with ${t.routes.length} routes`;
    }
    return undefined;
  },
};

/** Runs verifiers in order; the first failure, as "<name>: <reason>", or undefined. */
export async function runVerifiers(verifiers: readonly Verifier[], ctx: VerifyContext): Promise<string | undefined> {
  for (const v of verifiers) {
    let why: string | undefined;
    try {
      why = await v.check(ctx);
    } catch (e) {
      why = (e as Error).message;
    }
    if (why !== undefined) return `${v.name}: ${why}`;
  }
  return undefined;
}
