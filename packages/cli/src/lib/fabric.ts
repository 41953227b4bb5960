import { isFabricError } from "./fabric-error.js";

/**
 * @rtt/fabric is loaded on first use, inside a command's action: importing it costs 0.3–0.5 s (the MCP SDK, schema
 * compilation, native CRC), which `rtt --help`, `rtt validate` and every other command must not pay.
 * Its errors need no wrapper: bin/rtt.ts exits with a FabricError's own code (lib/fabric-error.ts).
 */
export const loadFabric = () => import("@rtt/fabric");

/** The loaded module, for helpers that take it from an action. */
export type Fabric = Awaited<ReturnType<typeof loadFabric>>;

/**
 * The fabric's default paths (fabricPaths() and DEFAULT_KEYS_DIR/DEFAULT_KEY_NAME in @rtt/fabric), relative to the
 * working directory, as option defaults without loading it. test/fabric-defaults.test.ts keeps them equal.
 */
export const FABRIC_DEFAULTS = {
  root: ".rtt",
  registry: ".rtt/registry",
  wal: ".rtt/wal/fabric.wal",
  keys: ".rtt/keys",
  keyName: "default",
  key: ".rtt/keys/default.key",
} as const;

/**
 * Runs a fabric action whose FabricErrors are reported as `<prefix>: <message>` (rather than bin/rtt.ts's `rtt:`)
 * and end the command with their exit code; anything else propagates as a bug. Only for commands whose messages
 * carry their own prefix; the others let FabricErrors propagate.
 */
export async function reportFabricErrors(prefix: string, action: () => unknown): Promise<void> {
  try {
    await action();
  } catch (e) {
    if (!isFabricError(e)) throw e;
    process.stderr.write(`${prefix}: ${e.message}\n`);
    process.exitCode = e.exitCode;
  }
}
