import type { Command } from "commander";

/** One module per command group; each exports `register(program)`. Keep this list the only shared edit point. */
export type Register = (program: Command) => void;

type CommandModule = {
  /** The top-level commands the module registers (a test checks this against what it does register). */
  names: readonly string[];
  load: () => Promise<{ register: Register }>;
};

export const COMMAND_MODULES: readonly CommandModule[] = [
  { names: ["validate"], load: () => import("./validate.js") },
  { names: ["run"], load: () => import("./run.js") },
  { names: ["upgrade"], load: () => import("./upgrade.js") },
  { names: ["scenarios", "mastery", "curriculum"], load: () => import("./sim.js") },
  { names: ["serve"], load: () => import("./serve.js") },
  { names: ["ctf"], load: () => import("./ctf.js") },
  { names: ["conformance", "badge"], load: () => import("./conformance.js") },
  { names: ["view"], load: () => import("./view.js") },
  { names: ["keys", "sign", "verify"], load: () => import("./keys.js") },
  { names: ["wal"], load: () => import("./wal.js") },
  { names: ["mcp"], load: () => import("./mcp.js") },
  { names: ["plan"], load: () => import("./plan.js") },
  { names: ["registry"], load: () => import("./registry.js") },
  { names: ["token"], load: () => import("./token.js") },
  { names: ["fabric", "call"], load: () => import("./fabric.js") },
  { names: ["cluster"], load: () => import("./cluster.js") },
  { names: ["tap"], load: () => import("./tap.js") },
  { names: ["autotune"], load: () => import("./autotune.js") },
];

/**
 * Registers the command groups `args` (the arguments after `rtt`) can reach: only the named command's module when
 * the first word names one, so a command does not pay for loading every other (all of them cost ~80 ms, more than
 * node's own start-up); every module for help, --version, `help …` and words that name no command, so help lists
 * them all and a typo gets its suggestion.
 */
export async function registerAll(program: Command, args: readonly string[] = []): Promise<void> {
  const word = args.find((a) => !a.startsWith("-"));
  const named = COMMAND_MODULES.filter((m) => word !== undefined && m.names.includes(word));
  for (const m of named.length ? named : COMMAND_MODULES) (await m.load()).register(program);
}
