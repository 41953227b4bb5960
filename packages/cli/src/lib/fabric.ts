/**
 * @rtt/fabric is loaded on first use, inside a command's action: importing it costs 0.3–0.5 s (the MCP SDK, schema
 * compilation, native CRC), which `rtt --help`, `rtt validate` and every other command must not pay.
 * Its errors need no wrapper: bin/rtt.ts exits with a FabricError's own code (lib/fabric-error.ts).
 */
export const loadFabric = () => import("@rtt/fabric");

/** The fabric's default paths (fabricPaths() in @rtt/fabric), as option defaults without loading it. */
export const FABRIC_DEFAULTS = {
  root: ".rtt",
  registry: ".rtt/registry",
  wal: ".rtt/wal/fabric.wal",
  keys: ".rtt/keys",
} as const;
