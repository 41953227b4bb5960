import type { Command } from "commander";

/**
 * `rtt plan …`: the constraint planner (build, explain, diff: fabric/planner) and, added by the reconciler to the same
 * group, apply/status/rollback. The fabric loads inside each action so `rtt --help` stays fast.
 */

async function readPlanFile(file: string) {
  const f = await import("@rtt/fabric");
  return f.readJsonFile(file) as import("@rtt/fabric").Plan;
}

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
  rtt plan diff old.json new.json         # + added, - removed, ~ changed routes, > moved placements
  rtt plan diff old.json new.json --json`,
    );

  plan
    .command("diff")
    .description("Routes added, removed and changed and placements moved from plan A to plan B")
    .argument("<a>", "the earlier plan file")
    .argument("<b>", "the later plan file")
    .option("--json", "print the diff as JSON")
    .action(async (a: string, b: string, opts: { json?: boolean }) => {
      const f = await import("@rtt/fabric");
      const d = f.diffPlans(await readPlanFile(a), await readPlanFile(b));
      process.stdout.write(opts.json ? f.prettyJson(d) : f.formatDiff(d));
    });

  // The reconciler's subcommands (apply, status, rollback) register here: registerApply(plan) from "./plan-apply.js".
}
