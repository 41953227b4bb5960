import type { Command } from "commander";

/** One module per command group; each exports `register(program)`. Keep this list the only shared edit point. */
export type Register = (program: Command) => void;

const modules: Array<() => Promise<{ register: Register }>> = [
  () => import("./validate.js"),
  () => import("./run.js"),
  () => import("./upgrade.js"),
  () => import("./sim.js"),
  () => import("./serve.js"),
  () => import("./ctf.js"),
  () => import("./conformance.js"),
  () => import("./view.js"),
  () => import("./keys.js"),
  () => import("./wal.js"),
  () => import("./mcp.js"),
  () => import("./plan.js"),
  () => import("./registry.js"),
  () => import("./token.js"),
  () => import("./fabric.js"),
  () => import("./cluster.js"),
  () => import("./tap.js"),
  () => import("./autotune.js"),
];

export async function registerAll(program: Command): Promise<void> {
  for (const load of modules) (await load()).register(program);
}
