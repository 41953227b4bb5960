import { readJsonFile } from "../json-file.js";
import { verifyPlan } from "../planner/verify.js";
import { isStrict, type VerifyResult } from "../trust/sign.js";
import { loadTrustStore } from "../trust/store.js";
import { reconcilePaths } from "./paths.js";
import {
  type ApplyOptions,
  type ApplyResult,
  Reconciler,
  type ReconcilerOptions,
  type RecoveryReport,
} from "./reconciler.js";

export interface ApplyFileOptions extends ReconcilerOptions, ApplyOptions {
  /** `--strict`: refuse unsigned or untrusted plans (also on when policy.json says `strict: true`). */
  strict?: boolean;
}

/** Reads, verifies (schema, plan_id, signature, strict mode) and applies a plan file: `rtt plan apply PLAN`. */
export async function applyPlanFile(
  file: string,
  opts: ApplyFileOptions = {},
): Promise<ApplyResult & { signature: VerifyResult; recovery: RecoveryReport }> {
  const paths = opts.paths ?? reconcilePaths();
  const strict = isStrict({ flag: opts.strict, policyPath: paths.policy });
  const { plan, signature } = verifyPlan(readJsonFile(file), {
    strict,
    store: loadTrustStore(paths.registry),
    where: file,
  });
  const r = await Reconciler.open({ ...opts, paths });
  try {
    const result = await r.apply(plan, opts);
    return { ...result, signature, recovery: r.recovery };
  } finally {
    r.close();
  }
}
