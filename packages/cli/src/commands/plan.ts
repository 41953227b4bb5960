import type { Plan } from "@rtt/fabric";
import type { Command } from "commander";
import { FABRIC_DEFAULTS, loadFabric } from "../lib/fabric.js";
import { registerApply } from "./plan-apply.js";

/**
 * `rtt plan …`: the constraint planner (build, explain, diff: fabric/planner) and, added by the reconciler to the same
 * group, apply/status/rollback. The fabric loads inside each action so `rtt --help` stays fast.
 */

async function readPlanFile(file: string) {
  const f = await loadFabric();
  return f.readJsonFile(file) as Plan;
}

interface InputOpts {
  root: string;
  registry?: string;
  strict?: boolean;
  base: string;
  lp: boolean;
}

/** Loads the inputs and the base, and plans (shared by build and explain). */
async function planFromInputs(opts: InputOpts) {
  const f = await loadFabric();
  const paths = f.fabricPaths(opts.root);
  const registry = opts.registry ?? paths.registry;
  const strict = f.isStrict({ flag: opts.strict, policyPath: paths.policy });
  const inputs = f.loadInputs(paths, { strict, store: () => f.loadTrustStore(registry) });
  for (const w of inputs.warnings) process.stderr.write(`rtt plan: warning: ${w}\n`);
  let base: Plan | null = null;
  let baseId: string | null = null;
  if (opts.base === "auto") {
    const inForce = f.planInForce(paths);
    base = inForce.plan;
    baseId = inForce.plan_id;
  } else if (opts.base !== "none") {
    base = f.readPlan(opts.base);
    baseId = base.plan_id;
  }
  const res = await f.buildPlan(inputs, {
    base,
    baseId,
    paths: { routes: paths.routes, manifests: paths.manifests, policy: paths.policy, topology: paths.topology },
    lp: opts.lp ? "auto" : "never",
  });
  return { f, res, strict };
}

const inputOptions = (c: Command) =>
  c
    .option(
      "--root <dir>",
      "the fabric root holding routes.json, manifests/, policy.json, topology.json",
      FABRIC_DEFAULTS.root,
    )
    .option("--registry <dir>", "registry whose trust store checks manifest signatures (default <root>/registry)")
    .option("--strict", "refuse unsigned or untrusted manifests (policy.json strict: true does the same)")
    .option(
      "--base <plan>",
      "the plan in force: auto (the WAL's current plan, read from <root>/plans/), none, or a plan file",
      "auto",
    )
    .option("--no-lp", "skip the LP bound (HiGHS) in stats");

export function register(program: Command): void {
  const plan = program
    .command("plan")
    .description(
      "Routing plans: build from .rtt inputs, explain a route's constraints, diff two plans (spec/fabric/planner.md)",
    )
    .addHelpText(
      "after",
      `
Examples:
  rtt plan build --out plan.json                      # from .rtt/{routes,policy,topology}.json + .rtt/manifests/
  rtt plan build --sign .rtt/keys/release.key --out plan.json --strict
  rtt plan build --base none                          # ignore the plan in force (no churn minimisation)
  rtt plan explain 'rtt://ui/hook/refresh->rtt://core/api/metrics'
  rtt plan explain 7 --json                           # by route_id
  rtt plan diff old.json new.json                     # + added, - removed, ~ changed routes, > moved placements`,
    );

  inputOptions(
    plan
      .command("build")
      .description("Plan routes from the fabric's inputs; write the plan (spec/fabric/plan.schema.json)")
      .option("--out <file>", "write the plan here (default: stdout)")
      .option("--sign <key>", "sign the plan with this Ed25519 private key (PKCS#8 PEM)")
      .option("--json-summary", "print the summary on stderr as JSON"),
  ).action(async (opts: InputOpts & { out?: string; sign?: string; jsonSummary?: boolean }) => {
    const { f, res, strict } = await planFromInputs(opts);
    let out: object = res.plan;
    if (opts.sign) out = f.signDocument(res.plan, f.readPrivateKeyFile(opts.sign));
    const text = f.prettyJson(out);
    if (opts.out) f.writeFileAtomic(opts.out, text);
    else process.stdout.write(text);
    const p = res.plan;
    const rejected = p.rejected ?? [];
    const summary = {
      plan_id: p.plan_id,
      base: p.inputs.base,
      routes: p.routes.length,
      added: p.routes_add.length,
      removed: p.routes_remove.length,
      rejected: rejected.length,
      signed: opts.sign !== undefined,
    };
    if (opts.jsonSummary) process.stderr.write(f.prettyJson(summary));
    else {
      process.stderr.write(
        `rtt plan build: ${p.plan_id}${opts.out ? ` -> ${opts.out}` : ""}: ${summary.routes} routes (+${summary.added} -${summary.removed}), ${summary.rejected} rejected; base ${p.inputs.base ?? "none"}\n`,
      );
      for (const r of rejected.slice(0, 20))
        process.stderr.write(`  rejected ${r.code} ${r.from} -> ${r.to}: ${r.reason}\n`);
      if (rejected.length > 20)
        process.stderr.write(`  … and ${rejected.length - 20} more (the plan's \`rejected\` lists them all)\n`);
    }
    if (strict && !opts.sign)
      process.stderr.write(
        "rtt plan build: warning: strict mode and the plan is unsigned: `rtt sign` it before apply\n",
      );
  });

  inputOptions(
    plan
      .command("explain")
      .description("Every constraint check, the admission rank and the node options of one route")
      .argument("<route>", "FROM->TO (symbols) or a route_id")
      .option("--json", "print the explanation as JSON"),
  ).action(async (route: string, opts: InputOpts & { json?: boolean }) => {
    const { f, res } = await planFromInputs(opts);
    const e = f.explainRoute(res, route);
    process.stdout.write(opts.json ? f.prettyJson(e) : f.formatExplanation(e));
  });

  plan
    .command("diff")
    .description("Routes added, removed and changed and placements moved from plan A to plan B")
    .argument("<a>", "the earlier plan file")
    .argument("<b>", "the later plan file")
    .option("--json", "print the diff as JSON")
    .action(async (a: string, b: string, opts: { json?: boolean }) => {
      const f = await loadFabric();
      const d = f.diffPlans(await readPlanFile(a), await readPlanFile(b));
      process.stdout.write(opts.json ? f.prettyJson(d) : f.formatDiff(d));
    });

  registerApply(plan);
}
