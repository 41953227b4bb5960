import type { McpIngestResult } from "@rtt/fabric";
import type { Command } from "commander";
import { CliExit, EXIT_USAGE } from "../lib/exit.js";
import { FABRIC_DEFAULTS, loadFabric } from "../lib/fabric.js";
import { registerServe } from "./mcp-serve.js";

interface IngestFlags {
  name?: string;
  root: string;
  registry?: string;
  from?: string;
  timeout: string;
  json?: boolean;
}

function report(r: McpIngestResult): string {
  const lines: string[] = [];
  const version = r.previousVersion && r.previousVersion !== r.manifest.version ? `${r.previousVersion} → ` : "";
  lines.push(
    `${r.manifest.manifest} ${version}${r.manifest.version}: ${r.manifest.symbols.length} tools → ${r.manifestPath} (${r.written ? "written" : "unchanged"})`,
  );
  for (const t of r.added) lines.push(`+ ${t}`);
  for (const t of r.removed) lines.push(`- ${t}`);
  for (const t of r.changed) lines.push(`~ ${t}`);
  lines.push(
    `${r.added.length} added, ${r.removed.length} removed, ${r.changed.length} changed; objects: ${r.objects.created} new, ${r.objects.existing} already stored`,
  );
  if (r.listing) {
    const t = r.listing.timings;
    lines.push(
      `listed ${r.listing.pages} page(s): start + initialize ${t.initializeMs.toFixed(0)} ms, list ${t.listMs.toFixed(0)} ms, close ${t.closeMs.toFixed(0)} ms`,
    );
  }
  return `${lines.join("\n")}\n`;
}

export function register(program: Command): void {
  const mcp = program
    .command("mcp")
    .description("MCP servers in the fabric (seed 004 MCP Integration; spec/fabric/mcp.md)");
  registerServe(mcp);

  mcp
    .command("ingest")
    .description(
      "Start an MCP server over stdio, list its tools (every page) and store one CAS object per tool plus the manifest <root>/manifests/mcp.<server>.json (symbols rtt://mcp/<server>/<tool>)",
    )
    .argument("[command...]", "the server command and its arguments, after --")
    .option("--name <server>", "server name (default: the server's serverInfo.name, or the --from file's name)")
    .option("--root <dir>", "fabric root", FABRIC_DEFAULTS.root)
    .option("--registry <dir>", "registry directory (default: <root>/registry)")
    .option("--from <file>", "ingest a saved tools/list result ({tools:[…]} or an array) instead of starting a server")
    .option("--timeout <ms>", "limit for each phase: start + initialize, then listing all pages", "10000")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      `
Examples:
  rtt mcp ingest -- npx -y @modelcontextprotocol/server-memory
  rtt mcp ingest -- node_modules/.bin/mcp-server-memory        # an installed server's bin
  rtt mcp ingest --name files -- npx -y @modelcontextprotocol/server-filesystem /tmp
  rtt mcp ingest --from memory.tools.json                       # server name "memory", nothing started

The diff to the previous manifest goes to stdout: + added, - removed, ~ changed tools.
npx may download the package on first use: raise --timeout if that takes longer than 10 s.
Exit codes: 0 ingested, 1 usage or unreadable file, 2 the server failed (hung, exited) or its list is invalid.`,
    )
    .action(async (command: string[], flags: IngestFlags) => {
      const timeoutMs = Number(flags.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
        throw new CliExit(EXIT_USAGE, `--timeout must be a positive number of milliseconds, not ${flags.timeout}`);
      if (command.length > 0 && flags.from !== undefined)
        throw new CliExit(EXIT_USAGE, "give either --from FILE or a server command after --, not both");
      if (command.length === 0 && flags.from === undefined)
        throw new CliExit(EXIT_USAGE, "no server: rtt mcp ingest -- COMMAND ARGS…, or --from tools.json");
      // Loaded here so `rtt --help` and the other commands never pay for the fabric and the MCP SDK. Its errors carry
      // their exit code (1 usage/unreadable, 2 refused): bin/rtt.ts prints them and exits with it.
      const { ingestMcp } = await loadFabric();
      const result = await ingestMcp({
        command: command.length > 0 ? command : undefined,
        from: flags.from,
        name: flags.name,
        root: flags.root,
        registry: flags.registry,
        timeoutMs,
      });
      for (const w of result.warnings) process.stderr.write(`rtt mcp: warning: ${w}\n`);
      if (flags.json) {
        const { manifest, ...rest } = result;
        process.stdout.write(
          `${JSON.stringify({ ...rest, manifest: manifest.manifest, version: manifest.version })}\n`,
        );
      } else process.stdout.write(report(result));
    });
}
