import { createPatch, type Operation } from "rfc6902";
import type { OverlayLayer } from "./layout.js";
import { type PlanOptions, planView } from "./plan.js";

export interface OverlayDiff {
  layer: OverlayLayer;
  path: string;
  hash: string;
  /** RFC 6902 operations turning the agent before this overlay into the agent after it. */
  ops: Operation[];
}

export interface AgentDiff {
  agent: string;
  base: { path: string; hash: string };
  output: { path: string; hash: string };
  overlays: OverlayDiff[];
}

export interface ViewDiff {
  provider: string;
  env: string;
  agents: AgentDiff[];
}

/** What each overlay changes, per agent, in the order they apply. Reads only; a bad input throws as in a build. */
export function diffView(opts: Omit<PlanOptions, "steps">): ViewDiff {
  const plan = planView({ ...opts, steps: true });
  return {
    provider: plan.layout.provider,
    env: plan.layout.env,
    agents: plan.agents.map((a) => {
      const steps = a.steps ?? [];
      return {
        agent: a.name,
        base: { path: a.base.rel, hash: a.base.hash },
        output: { path: a.output.path, hash: a.output.hash },
        overlays: a.overlays.map((o, i) => ({
          layer: o.layer,
          path: o.rel,
          hash: o.hash,
          ops: createPatch(steps[i], steps[i + 1]),
        })),
      };
    }),
  };
}

/** The text form of `rtt view diff`: one block per agent, one indented block per overlay, one line per operation. */
export function formatViewDiff(d: ViewDiff): string {
  const lines: string[] = [];
  for (const a of d.agents) {
    lines.push(`${a.agent}  ${a.base.path} → ${a.output.path}`);
    if (a.overlays.length === 0) lines.push("  (no overlays)");
    for (const o of a.overlays) {
      lines.push(`  ${o.layer}  ${o.path}  ${o.hash.slice(0, 12)}`);
      if (o.ops.length === 0) lines.push("    (no change)");
      for (const op of o.ops) {
        const arg = "value" in op ? ` ${JSON.stringify(op.value)}` : "from" in op ? ` from ${op.from}` : "";
        lines.push(`    ${op.op} ${op.path || '""'}${arg}`);
      }
    }
  }
  return lines.length ? `${lines.join("\n")}\n` : "";
}
