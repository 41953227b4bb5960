import semver from "semver";
import { canonicalText } from "../canonical.js";
import { FabricError } from "../errors.js";
import type { McpTool } from "./tools-file.js";

/** Server names longer than this are cut: the symbol (≤ 512 chars) must still hold a 128-char tool name encoded. */
export const SERVER_NAME_MAX = 64;

/**
 * The manifest id segment for an MCP server (spec/fabric/mcp.md, "Server name"): accents dropped (NFKD), lowercase,
 * every run of characters outside [a-z0-9._-] becomes one '-', leading '.', '_', '-' and trailing '-' are trimmed,
 * cut to 64 characters. `mcp-servers/everything` → `mcp-servers-everything`, `Memory Server` → `memory-server`.
 */
export function normalizeServerName(raw: string): string {
  const name = raw
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[._-]+/, "")
    .slice(0, SERVER_NAME_MAX)
    .replace(/-+$/, "");
  if (name === "")
    throw new FabricError("RTT_FABRIC_USAGE", "no usable server name in it: pass --name", JSON.stringify(raw));
  return name;
}

const UNRESERVED = /^[A-Za-z0-9._~-]$/;

/**
 * A tool name as one symbol path segment: UTF-8 bytes outside RFC 3986's unreserved set are percent-encoded
 * (uppercase hex), '%' included so decoding is unambiguous; a name that is only dots is encoded whole, since "." and
 * ".." are dot-segments to every URI resolver. decodeURIComponent gives the name back.
 */
export function encodeToolName(name: string): string {
  const pct = (b: number) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  if (/^\.+$/.test(name)) return [...Buffer.from(name, "utf8")].map(pct).join("");
  let out = "";
  for (const ch of name) out += UNRESERVED.test(ch) ? ch : [...Buffer.from(ch, "utf8")].map(pct).join("");
  return out;
}

export const toolSymbol = (server: string, tool: string) => `rtt://mcp/${server}/${encodeToolName(tool)}`;

/** The tool name a symbol of this ingest stands for (the inverse of toolSymbol's last segment). */
export const toolOfSymbol = (symbol: string) => decodeURIComponent(symbol.slice(symbol.lastIndexOf("/") + 1));

export interface McpSymbol {
  symbol: string;
  version: string;
  description?: string;
  input_schema?: unknown;
  output_schema?: unknown;
  object: string;
}

export interface McpSource {
  kind: "mcp";
  server: string;
  command?: string[];
  from?: string;
  /** What the server called itself in initialize (serverInfo), before normalisation. */
  server_info?: { name: string; version?: string };
}

export interface McpManifest {
  manifest: string;
  version: string;
  source: McpSource;
  symbols: McpSymbol[];
}

export interface ToolChanges {
  added: string[];
  removed: string[];
  changed: string[];
  /** The semver step the changes call for; undefined when nothing changed. */
  bump?: "major" | "minor" | "patch";
}

const sameJson = (a: unknown, b: unknown) =>
  a === undefined || b === undefined ? a === b : canonicalText(a) === canonicalText(b);

/**
 * What changed between the previous manifest and the new tool list, by symbol. A removed tool or a changed input or
 * output schema breaks callers (major); a new tool is a feature (minor); any other change (description, annotations,
 * title) is a patch. Schema changes count as breaking even when only additive: telling them apart is not attempted.
 */
export function diffTools(prev: McpManifest | undefined, next: readonly McpSymbol[]): ToolChanges {
  const before = new Map((prev?.symbols ?? []).map((s) => [s.symbol, s]));
  const changes: ToolChanges = { added: [], removed: [], changed: [] };
  let level = 0;
  for (const s of next) {
    const old = before.get(s.symbol);
    before.delete(s.symbol);
    if (!old) {
      changes.added.push(toolOfSymbol(s.symbol));
      level = Math.max(level, 2);
    } else if (old.object !== s.object) {
      changes.changed.push(toolOfSymbol(s.symbol));
      const breaking = !sameJson(old.input_schema, s.input_schema) || !sameJson(old.output_schema, s.output_schema);
      level = Math.max(level, breaking ? 3 : 1);
    }
  }
  for (const s of before.values()) {
    changes.removed.push(toolOfSymbol(s.symbol));
    level = 3;
  }
  if (prev) changes.bump = ([undefined, "patch", "minor", "major"] as const)[level];
  return changes;
}

const SEMVER_RE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** A version the manifest schema accepts (the pattern in defs.schema.json), or undefined. */
export const strictSemver = (v: string | undefined): string | undefined =>
  v !== undefined && v.length <= 256 && SEMVER_RE.test(v) ? v : undefined;

/**
 * The manifest version (spec/fabric/mcp.md, "Versioning"): the first ingest takes the server's serverInfo.version when
 * it is strict semver, else 0.0.0; later ingests step the previous version by the diff's bump (none → unchanged).
 * Either way a higher version the server reports wins, so the version never goes down and same input → same version.
 */
export function manifestVersion(prev: string | undefined, bump: ToolChanges["bump"], reported?: string): string {
  const base = prev === undefined ? "0.0.0" : bump ? (semver.inc(prev, bump) ?? prev) : prev;
  const server = strictSemver(reported);
  return server && semver.gt(server, base) ? server : base;
}

/** One symbol per tool, sorted by symbol (code-unit order, locale-independent); `object` is the tool's CAS hash. */
export function toolSymbols(server: string, tools: ReadonlyArray<{ tool: McpTool; hash: string }>): McpSymbol[] {
  const symbols = tools.map(({ tool, hash }) => {
    const s: McpSymbol = { symbol: toolSymbol(server, tool.name), version: "0.0.0", object: hash };
    if (typeof tool.description === "string") s.description = tool.description;
    if (tool.inputSchema !== undefined) s.input_schema = tool.inputSchema;
    if (tool.outputSchema !== undefined) s.output_schema = tool.outputSchema;
    return s;
  });
  return symbols.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
}

/**
 * The manifest for a new tool list, given the previous one: unchanged tools keep their symbol version, added and
 * changed ones take the new manifest version. Key order is fixed here, so the same inputs give the same bytes.
 */
export function buildManifest(
  server: string,
  source: McpSource,
  symbols: McpSymbol[],
  prev: McpManifest | undefined,
  reportedVersion?: string,
): { manifest: McpManifest; changes: ToolChanges } {
  const changes = diffTools(prev, symbols);
  const version = manifestVersion(prev?.version, changes.bump, reportedVersion);
  const before = new Map((prev?.symbols ?? []).map((s) => [s.symbol, s]));
  for (const s of symbols) {
    const old = before.get(s.symbol);
    s.version = old && old.object === s.object ? old.version : version;
  }
  // Rebuild each symbol so `version` sits after `symbol` whatever order the fields were set in.
  const ordered = symbols.map(({ symbol, version: v, description, input_schema, output_schema, object }) => {
    const s = { symbol, version: v } as McpSymbol;
    if (description !== undefined) s.description = description;
    if (input_schema !== undefined) s.input_schema = input_schema;
    if (output_schema !== undefined) s.output_schema = output_schema;
    s.object = object;
    return s;
  });
  return { manifest: { manifest: `mcp.${server}`, version, source, symbols: ordered }, changes };
}
