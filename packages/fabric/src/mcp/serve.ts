import type { KeyObject } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { issueToken } from "../caps/token.js";
import { FabricClient } from "../daemon/client.js";
import { jsonBytes } from "../daemon/protocol.js";
import { FabricError } from "../errors.js";
import type { McpManifest } from "./manifest.js";
import { parseMcpSymbol, readMcpManifest } from "./upstream.js";

/** One tool `rtt mcp serve` exposes: a namespaced name for a fabric symbol. */
export interface ServedTool {
  name: string;
  symbol: string;
  description?: string;
  inputSchema: Record<string, unknown>;
}

const SEP = "__";

/** MCP tool names allow `[A-Za-z0-9_.-]`: anything else in the server or tool becomes `_`. */
const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, "_");

/** `<server>__<tool>`: unique across servers, so many servers are one. */
export const servedName = (server: string, tool: string) => safe(`${server}${SEP}${tool}`).slice(0, 128);

const objectSchema = (s: unknown): Record<string, unknown> =>
  typeof s === "object" && s !== null && !Array.isArray(s) && (s as { type?: unknown }).type === "object"
    ? (s as Record<string, unknown>)
    : { type: "object" };

/** The tools of an ingested MCP manifest (file), namespaced by its server. */
export function toolsOfManifest(m: McpManifest): ServedTool[] {
  const server = m.source?.server ?? m.manifest.replace(/^mcp\./, "");
  return m.symbols.map((s) => {
    const p = parseMcpSymbol(s.symbol);
    return {
      name: servedName(server, p?.tool ?? s.symbol),
      symbol: s.symbol,
      ...(s.description !== undefined ? { description: s.description } : {}),
      inputSchema: objectSchema(s.input_schema),
    };
  });
}

/**
 * The tools of a provider view (`rtt view build`: `<root>/providers/<P>/.<P>/agents/*.agent.json`, or a folder of
 * agent files): every symbol its agents declare. MCP symbols take their description and schema from the ingested
 * manifest; others from the agent's declaration. Namespaced `<server>__<tool>` (MCP) or `<domain>__<path>`.
 */
export function toolsOfView(root: string, view: string): ServedTool[] {
  const dir = existsSync(view) ? view : join(root, "providers", view, `.${view}`, "agents");
  if (!existsSync(dir)) throw new FabricError("RTT_FABRIC_NOT_FOUND", `no view ${view} (rtt view build)`, dir);
  const out = new Map<string, ServedTool>();
  const manifests = new Map<string, McpManifest | null>();
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith(".agent.json")) continue;
    const agent = JSON.parse(readFileSync(join(dir, f), "utf8")) as {
      symbols?: Array<{ symbol?: string; description?: string; input_schema?: unknown }>;
    };
    for (const d of agent.symbols ?? []) {
      if (typeof d.symbol !== "string" || out.has(d.symbol)) continue;
      const p = parseMcpSymbol(d.symbol);
      let description = d.description;
      let schema = d.input_schema;
      if (p) {
        if (!manifests.has(p.server)) {
          try {
            manifests.set(p.server, readMcpManifest(root, p.server));
          } catch {
            manifests.set(p.server, null);
          }
        }
        const decl = manifests.get(p.server)?.symbols.find((s) => s.symbol === d.symbol);
        description ??= decl?.description;
        schema ??= decl?.input_schema;
      }
      const name = p
        ? servedName(p.server, p.tool)
        : safe(d.symbol.replace(/^rtt:\/\//, "").replace(/\//g, SEP)).slice(0, 128);
      out.set(d.symbol, {
        name,
        symbol: d.symbol,
        ...(description !== undefined ? { description } : {}),
        inputSchema: objectSchema(schema),
      });
    }
  }
  return [...out.values()];
}

export interface ServeOptions {
  /** The daemon's control socket. */
  socket: string;
  /** Issue an `open` token per symbol with this trusted key (the daemon's default auth); none: `--no-auth` daemons. */
  key?: KeyObject;
  scopes?: string[];
  /** Per call (default 60 s). */
  timeoutMs?: number;
  name?: string;
  log?: (line: string) => void;
}

/**
 * `rtt mcp serve`: one MCP server over stdio (official SDK) whose tools are `tools`; each tools/call goes through
 * the fabric daemon — one UDS connection, each route opened once (an `open` token per symbol), then frames — and
 * its answer (a CallToolResult for MCP routes, else the bytes as text) comes back. Resolves when stdin closes.
 */
export async function serveMcp(tools: readonly ServedTool[], o: ServeOptions): Promise<void> {
  const [{ Server }, { StdioServerTransport }, { CallToolRequestSchema, ListToolsRequestSchema }] = await Promise.all([
    import("@modelcontextprotocol/sdk/server/index.js"),
    import("@modelcontextprotocol/sdk/server/stdio.js"),
    import("@modelcontextprotocol/sdk/types.js"),
  ]);
  const byName = new Map(tools.map((t) => [t.name, t]));
  const server = new Server(
    { name: o.name ?? "rtt-fabric", version: "0.1.0" },
    { capabilities: { tools: { listChanged: false } } },
  );
  let client: FabricClient | undefined;
  const routes = new Map<string, number>();
  const connection = async () => {
    if (client && !client.closedWhy) return client;
    client = await FabricClient.uds(o.socket);
    routes.clear();
    return client;
  };
  const route = async (c: FabricClient, symbol: string) => {
    const known = routes.get(symbol);
    if (known !== undefined) return known;
    const token = o.key
      ? issueToken({ saddr: symbol, verb: "open", scopes: o.scopes ?? [], ttlMs: 60_000 }, o.key)
      : undefined;
    const r = await c.grant("open", symbol, token);
    routes.set(symbol, r.route_id);
    return r.route_id;
  };

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: tools.map((t) => ({
      name: t.name,
      ...(t.description !== undefined ? { description: t.description } : {}),
      inputSchema: t.inputSchema as { type: "object" },
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    const t = byName.get(req.params.name);
    if (!t) return { content: [{ type: "text", text: `no tool ${req.params.name}` }], isError: true };
    try {
      const c = await connection();
      const id = await route(c, t.symbol);
      const answer = await c.call(id, jsonBytes(req.params.arguments ?? {}), { timeoutMs: o.timeoutMs ?? 60_000 });
      const text = Buffer.from(answer).toString("utf8");
      if (parseMcpSymbol(t.symbol)) return JSON.parse(text);
      return { content: [{ type: "text", text }] };
    } catch (e) {
      o.log?.(`rtt mcp serve: ${t.name}: ${(e as Error).message}`);
      return { content: [{ type: "text", text: (e as Error).message }], isError: true };
    }
  });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((r) => {
    transport.onclose = () => r();
    process.stdin.once("end", () => r());
  });
  await server.connect(transport);
  o.log?.(`rtt mcp serve: ${tools.length} tools through ${o.socket}`);
  await closed;
  client?.close();
  await server.close().catch(() => {});
}
