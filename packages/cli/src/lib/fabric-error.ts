/**
 * Recognises an @rtt/fabric FabricError without importing the fabric (its MCP and schema code would slow every
 * `rtt` start): by name and its numeric exit code, which `rtt` then exits with.
 */
export function isFabricError(err: unknown): err is Error & { exitCode: number } {
  return (
    err instanceof Error && err.name === "FabricError" && typeof (err as { exitCode?: unknown }).exitCode === "number"
  );
}
