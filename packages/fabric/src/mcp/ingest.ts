import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic.js";
import { hashOf } from "../canonical.js";
import { FabricError } from "../errors.js";
import { parseJsonText, prettyJson, readJsonFile } from "../json-file.js";
import { fabricPaths } from "../paths.js";
import { indexKey, readIndex, readSymbols, writeIndex, writeSymbols } from "../registry/index-json.js";
import { Registry } from "../registry/registry.js";
import { assertSchema } from "../schemas.js";
import { listServerTools, type ServerListing } from "./client.js";
import { buildManifest, type McpManifest, type McpSource, normalizeServerName, toolSymbols } from "./manifest.js";
import { readToolsFile, serverNameOfFile, type ToolList, toolsFromList } from "./tools-file.js";

export interface McpIngestOptions {
  /** The server to start (argv), or… */
  command?: readonly string[];
  /** …a saved tools/list result to read instead. Exactly one of the two. */
  from?: string;
  /** Overrides the server name (normalised like serverInfo.name). */
  name?: string;
  /** The fabric root (default .rtt); manifests go to <root>/manifests. */
  root?: string;
  /** The registry directory (default <root>/registry). */
  registry?: string;
  timeoutMs?: number;
  /** Working directory of the server process. */
  cwd?: string;
}

export interface McpIngestResult {
  server: string;
  manifestPath: string;
  manifest: McpManifest;
  /** False when the manifest on disk already had these bytes (the file was left alone). */
  written: boolean;
  /** The manifest's own CAS hash and its registry index.json key (`mcp.<server>@<version>`). */
  manifestHash: string;
  indexKey: string;
  previousVersion?: string;
  added: string[];
  removed: string[];
  changed: string[];
  objects: { created: number; existing: number };
  listing?: Pick<ServerListing, "pages" | "timings" | "serverInfo">;
  warnings: string[];
}

/**
 * Names the manifest in the registry's index.json (ID@version → hash) and its symbols in symbols.json, as
 * `rtt registry ingest` does for a scanned manifest: symbols.json first, then index.json (each file names only what
 * the one before made durable), under the registry's writer lock. A replaced ID@version takes its symbols with it.
 */
function recordInIndex(registry: Registry, manifest: McpManifest, hash: string): string {
  const key = indexKey(manifest.manifest, manifest.version);
  registry.writing(() => {
    const L = registry.layout;
    const index = readIndex(L.index);
    const symbols = readSymbols(L.symbols);
    if (index[key] === hash && manifest.symbols.every((s) => symbols[s.symbol]?.includes(hash))) return;
    index[key] = hash;
    for (const s of manifest.symbols) symbols[s.symbol] = [...new Set([...(symbols[s.symbol] ?? []), hash])];
    const live = new Set(Object.values(index));
    for (const [sym, hashes] of Object.entries(symbols)) {
      const kept = hashes.filter((h) => live.has(h)).sort();
      if (kept.length > 0) symbols[sym] = kept;
      else delete symbols[sym];
    }
    writeSymbols(L.symbols, symbols);
    writeIndex(L.index, index);
  });
  return key;
}

function previousManifest(path: string): McpManifest | undefined {
  if (!existsSync(path)) return undefined;
  const prev = readJsonFile(path);
  assertSchema("manifest", prev, path);
  if ((prev as McpManifest).source?.kind !== "mcp")
    throw new FabricError("RTT_FABRIC_INVALID", "exists and is not an MCP manifest: not overwriting it", path);
  return prev as McpManifest;
}

/**
 * MCP ingest (seed 004, "MCP Integration"; spec/fabric/mcp.md): one CAS object per tool and the manifest
 * <root>/manifests/mcp.<server>.json. Everything is checked before anything is written; objects go in before the
 * manifest that points at them, so a crash leaves at most unreferenced objects.
 */
export async function ingestMcp(opts: McpIngestOptions): Promise<McpIngestResult> {
  const hasCommand = opts.command !== undefined && opts.command.length > 0;
  if (hasCommand === (opts.from !== undefined))
    throw new FabricError("RTT_FABRIC_USAGE", "give either a server command (after --) or --from FILE");
  const warnings: string[] = [];
  let list: ToolList;
  let rawName: string | undefined = opts.name;
  let listing: ServerListing | undefined;
  let source: McpSource;
  if (opts.from !== undefined) {
    list = readToolsFile(opts.from);
    rawName ??= serverNameOfFile(opts.from);
    source = { kind: "mcp", server: "", from: opts.from };
  } else {
    const argv = opts.command ?? [];
    listing = await listServerTools(argv, { timeoutMs: opts.timeoutMs, cwd: opts.cwd });
    const where = `${argv.join(" ")}: tools/list`;
    // Through the same guard as a file (depth, repeated and __proto__ keys): what is stored must read back.
    list = toolsFromList(parseJsonText(JSON.stringify({ tools: listing.tools }), where), where);
    rawName ??= listing.serverInfo?.name;
    if (rawName === undefined)
      throw new FabricError("RTT_FABRIC_USAGE", "the server sent no serverInfo.name: pass --name", argv.join(" "));
    source = { kind: "mcp", server: "", command: [...argv] };
    if (listing.serverInfo) source.server_info = listing.serverInfo;
    if (listing.noToolsCapability) warnings.push("the server declares no tools capability: no tools listed");
  }
  if (list.nextCursor !== undefined)
    warnings.push(`the list is one page (nextCursor ${JSON.stringify(list.nextCursor)}): later tools are missing`);
  const server = normalizeServerName(rawName);
  source.server = server;

  const paths = fabricPaths(opts.root, opts.registry ? { registry: opts.registry } : {});
  const manifestPath = join(paths.manifests, `mcp.${server}.json`);
  const prev = previousManifest(manifestPath);
  const hashed = list.tools.map((tool) => ({ tool, hash: hashOf(tool) }));
  const { manifest, changes } = buildManifest(
    server,
    source,
    toolSymbols(server, hashed),
    prev,
    listing?.serverInfo?.version,
  );
  assertSchema("manifest", manifest, manifestPath);

  const registry = new Registry(paths.registry);
  const objects = { created: 0, existing: 0 };
  // Durable puts (fsync each): Registry.sync() fsyncs only the directory, not the objects' bytes, and tool lists are
  // short. Objects before the manifest that names them.
  for (const { tool } of hashed) objects[registry.put(tool).created ? "created" : "existing"]++;
  const manifestHash = registry.put(manifest).hash;
  const text = prettyJson(manifest);
  const written = !existsSync(manifestPath) || readFileSync(manifestPath, "utf8") !== text;
  if (written) writeFileAtomic(manifestPath, text);
  const key = recordInIndex(registry, manifest, manifestHash);

  const result: McpIngestResult = {
    server,
    manifestPath,
    manifest,
    written,
    manifestHash,
    indexKey: key,
    added: changes.added,
    removed: changes.removed,
    changed: changes.changed,
    objects,
    warnings,
  };
  if (prev) result.previousVersion = prev.version;
  if (listing) result.listing = { pages: listing.pages, timings: listing.timings, serverInfo: listing.serverInfo };
  return result;
}
