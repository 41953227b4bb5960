import type { Command } from "commander";
import { CliExit, EXIT_USAGE } from "../lib/exit.js";
import { FABRIC_DEFAULTS, loadFabric } from "../lib/fabric.js";

interface ServeFlags {
  view?: string;
  manifest?: string[];
  root: string;
  socket?: string;
  key?: string;
  scope?: string[];
  timeout: string;
}

/**
 * `rtt mcp serve --view VIEW | --manifest FILE…`: the fabric as one MCP server over stdio (spec/fabric/mcp.md,
 * "Through the fabric"). stdout is the protocol: every message of ours goes to stderr.
 */
export function registerServe(mcp: Command): void {
  mcp
    .command("serve")
    .description(
      "Serve a view's (or manifests') tools as one MCP server over stdio, namespaced <server>__<tool>; calls go through the fabric daemon",
    )
    .option(
      "--view <view>",
      "a provider view (rtt view build): <root>/providers/<P>/.<P>/agents, or a folder of agents",
    )
    .option("--manifest <file...>", "ingested MCP manifests (<root>/manifests/mcp.<server>.json)")
    .option("--root <dir>", "fabric root", FABRIC_DEFAULTS.root)
    .option("--socket <path>", "the daemon's control socket (default <root>/fabric.sock)")
    .option("--key <file>", "issue an open token per tool's route with this trusted private key")
    .option("--scope <scope...>", "scopes of those tokens")
    .option("--timeout <ms>", "per call", "60000")
    .action(async (flags: ServeFlags) => {
      if (!flags.view && !flags.manifest?.length)
        throw new CliExit(EXIT_USAGE, "rtt mcp serve: give --view VIEW or --manifest FILE");
      const timeoutMs = Number(flags.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
        throw new CliExit(EXIT_USAGE, `rtt mcp serve: --timeout wants milliseconds, not ${flags.timeout}`);
      const f = await loadFabric();
      const paths = f.fabricPaths(flags.root);
      const tools = [
        ...(flags.view ? f.toolsOfView(paths.root, flags.view) : []),
        ...(flags.manifest ?? []).flatMap((m) => f.toolsOfManifest(f.readJsonFile(m) as never)),
      ];
      await f.serveMcp(tools, {
        socket: flags.socket ?? paths.socket,
        timeoutMs,
        ...(flags.key ? { key: f.readPrivateKeyFile(flags.key) } : {}),
        ...(flags.scope ? { scopes: flags.scope } : {}),
        log: (l) => process.stderr.write(`${l}\n`),
      });
    });
}
