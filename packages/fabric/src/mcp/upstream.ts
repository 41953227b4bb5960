import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { FabricError } from "../errors.js";
import { Backoff } from "../sandbox/backoff.js";
import { commandLabel } from "./client.js";
import type { McpManifest } from "./manifest.js";

/** `rtt://mcp/<server>/<tool>` → its parts (the tool decoded), or undefined for any other symbol. */
export function parseMcpSymbol(symbol: string): { server: string; tool: string } | undefined {
  const m = /^rtt:\/\/mcp\/([^/]+)\/([^/]+)$/.exec(symbol);
  if (!m) return undefined;
  try {
    return { server: m[1] as string, tool: decodeURIComponent(m[2] as string) };
  } catch {
    return undefined;
  }
}

/** The ingested manifest of `server` (`<root>/manifests/mcp.<server>.json`, spec/fabric/mcp.md). */
export function readMcpManifest(root: string, server: string): McpManifest {
  const file = join(root, "manifests", `mcp.${server}.json`);
  if (!existsSync(file))
    throw new FabricError("RTT_FABRIC_NOT_FOUND", `no ingested MCP server ${server} (rtt mcp ingest)`, file);
  return JSON.parse(readFileSync(file, "utf8")) as McpManifest;
}

export interface UpstreamOptions {
  /** Bound on start + initialize + tools/list (default 10 s). */
  startupMs?: number;
  /** Reconnect back-off (default 100 ms doubling to 5 s). */
  backoff?: { initialMs?: number; maxMs?: number };
  cwd?: string;
  log?: (line: string) => void;
}

type Conn = { client: Client; transport: StdioClientTransport; tools: Set<string> };

/**
 * One supervised MCP server (official SDK, stdio): started from its manifest's `source.command`, initialized and
 * listed within `startupMs`; when it exits or the connection breaks, calls in flight fail and it is started again
 * with back-off. Calls made while it (re)connects wait for the connection, bounded by their own timeout.
 */
export class McpUpstream {
  private conn: Conn | undefined;
  private connecting: Promise<Conn> | undefined;
  private closed = false;
  private failures = 0;
  private readonly backoff: Backoff;
  private retry: NodeJS.Timeout | undefined;
  reconnects = 0;
  lastError: string | null = null;
  listMs: number | null = null;
  users = 0;

  constructor(
    readonly server: string,
    readonly command: readonly string[],
    private readonly o: UpstreamOptions = {},
  ) {
    this.backoff = new Backoff({ initialMs: 100, maxMs: 5000, jitter: 0.2, ...o.backoff });
    void this.ensure().catch(() => {});
  }

  get connected(): boolean {
    return this.conn !== undefined;
  }

  get pid(): number | null {
    return this.conn?.transport.pid ?? null;
  }

  /** The connection, (re)starting the server if needed. */
  ensure(): Promise<Conn> {
    if (this.conn) return Promise.resolve(this.conn);
    if (this.closed) return Promise.reject(new FabricError("RTT_FABRIC_DRIVER", `MCP server ${this.server} stopped`));
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<Conn> {
    const [{ Client }, { StdioClientTransport, getDefaultEnvironment }] = await Promise.all([
      import("@modelcontextprotocol/sdk/client/index.js"),
      import("@modelcontextprotocol/sdk/client/stdio.js"),
    ]);
    const [command, ...args] = this.command;
    const startupMs = this.o.startupMs ?? 10_000;
    const transport = new StdioClientTransport({
      command: command as string,
      args,
      env: { ...getDefaultEnvironment(), ...(process.env as Record<string, string>) },
      stderr: "pipe",
      ...(this.o.cwd ? { cwd: this.o.cwd } : {}),
    });
    transport.stderr?.on("data", () => {}); // drained, not shown
    const client = new Client({ name: "rtt-fabric", version: "0.1.0" });
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const tools = await Promise.race([
        (async () => {
          await client.connect(transport, { timeout: startupMs });
          const names = new Set<string>();
          let cursor: string | undefined;
          for (let page = 0; page < 1000; page++) {
            const r = await client.listTools(cursor ? { cursor } : {}, { timeout: startupMs });
            for (const t of r.tools) names.add(t.name);
            cursor = r.nextCursor;
            if (!cursor) break;
          }
          return names;
        })(),
        new Promise<never>((_, rej) => {
          timer = setTimeout(
            () => rej(new FabricError("RTT_FABRIC_MCP", `no initialize + tools/list in ${startupMs} ms`)),
            startupMs,
          );
        }),
      ]);
      this.listMs = Math.round(performance.now() - t0);
      const conn: Conn = { client, transport, tools };
      transport.onclose = () => this.lost(conn, "the server exited");
      this.conn = conn;
      this.failures = 0;
      this.lastError = null;
      this.o.log?.(
        `fabric: MCP ${this.server} up (pid ${transport.pid}, ${tools.size} tools in ${this.listMs} ms; unsandboxed: ${commandLabel(this.command)})`,
      );
      return conn;
    } catch (e) {
      await client.close().catch(() => {});
      const msg = `MCP server ${this.server} (${commandLabel(this.command)}): ${(e as Error).message}`;
      this.lastError = msg;
      this.schedule();
      throw new FabricError("RTT_FABRIC_MCP", msg);
    } finally {
      clearTimeout(timer);
    }
  }

  private lost(conn: Conn, why: string): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    if (this.closed) return;
    this.lastError = `MCP server ${this.server}: ${why}`;
    this.o.log?.(`fabric: ${this.lastError}; reconnecting`);
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.retry) return;
    this.failures++;
    const delay = this.backoff.delay(this.failures);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.closed || this.conn || this.connecting) return;
      this.reconnects++;
      void this.ensure().catch(() => {});
    }, delay);
    this.retry.unref();
  }

  /** tools/call: the CallToolResult as sent (isError results are answers, not failures). */
  async call(tool: string, args: unknown, timeoutMs: number): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    let conn = this.conn;
    if (!conn) {
      // Backing off after a failure: fail fast (the route is unhealthy), do not hammer the server.
      if (this.retry)
        throw new FabricError("RTT_FABRIC_DRIVER", `MCP server ${this.server} not connected: ${this.lastError}`);
      // Starting (or first use): wait for this connection attempt, itself bounded by startupMs.
      try {
        conn = await this.ensure();
      } catch (e) {
        throw new FabricError("RTT_FABRIC_DRIVER", (e as Error).message);
      }
    }
    if (!conn.tools.has(tool))
      throw new FabricError("RTT_FABRIC_NO_ROUTE", `MCP server ${this.server} has no tool ${JSON.stringify(tool)}`);
    const left = Math.max(1, deadline - Date.now());
    try {
      return await conn.client.callTool({ name: tool, arguments: (args ?? {}) as Record<string, unknown> }, undefined, {
        timeout: left,
      });
    } catch (e) {
      const m = (e as Error).message;
      throw new FabricError(/timed? ?out/i.test(m) ? "RTT_FABRIC_TIMEOUT" : "RTT_FABRIC_DRIVER", `${tool}: ${m}`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const c = this.conn ?? (await this.connecting?.catch(() => undefined));
    this.conn = undefined;
    await c?.client.close().catch(() => {});
  }
}

/** The daemon's MCP servers, one per server name, shared by the endpoints of its tools (refcounted). */
export class McpPool {
  private readonly ups = new Map<string, McpUpstream>();

  constructor(
    private readonly root: string,
    private readonly o: UpstreamOptions = {},
  ) {}

  acquire(server: string): McpUpstream {
    let u = this.ups.get(server);
    if (!u) {
      const m = readMcpManifest(this.root, server);
      const cmd = m.source?.command;
      if (!Array.isArray(cmd) || cmd.length === 0)
        throw new FabricError(
          "RTT_FABRIC_DRIVER",
          `manifest mcp.${server} has no source.command (ingested --from a file): nothing to start`,
        );
      u = new McpUpstream(server, cmd, this.o);
      this.ups.set(server, u);
    }
    u.users++;
    return u;
  }

  async release(u: McpUpstream): Promise<void> {
    u.users--;
    if (u.users > 0) return;
    if (this.ups.get(u.server) === u) this.ups.delete(u.server);
    await u.close();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.ups.values()].map((u) => u.close()));
    this.ups.clear();
  }
}
