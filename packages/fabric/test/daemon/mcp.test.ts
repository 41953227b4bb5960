import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueToken } from "../../src/caps/token.js";
import { FabricClient } from "../../src/daemon/client.js";
import type { McpManifest } from "../../src/mcp/manifest.js";
import { generateKeyPair, writeKeyPair } from "../../src/trust/keys.js";
import { trustKey } from "../../src/trust/store.js";
import { type Daemon, type Project, project, RTT, route, startDaemon } from "./harness.js";

// Issue 16 item 5: MCP through the fabric, both ways, with the official SDK and a real server (server-memory):
// a route to rtt://mcp/memory/<tool> calls the tool on a supervised server (reconnected after it dies), and
// `rtt mcp serve` is one MCP server whose calls go client → rtt mcp serve → daemon → MCP server.

const MEMORY = fileURLToPath(new URL("../../../../node_modules/.bin/mcp-server-memory", import.meta.url));
let p: Project;
let d: Daemon;
let manifestFile: string;
let manifest: McpManifest;
let keyFile: string;
const key = generateKeyPair();

beforeAll(async () => {
  p = project([], {});
  process.env.MEMORY_FILE_PATH = join(p.dir, "memory.jsonl"); // the daemon (and so the server) inherits it
  const ing = spawnSync(process.execPath, [RTT, "mcp", "ingest", "--name", "memory", "--root", p.root, "--", MEMORY], {
    cwd: p.dir,
    encoding: "utf8",
    timeout: 60_000,
  });
  if (ing.status !== 0) throw new Error(`ingest: ${ing.stderr}`);
  manifestFile = join(p.root, "manifests", "mcp.memory.json");
  manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as McpManifest;
  const routes = manifest.symbols.map((s, i) => route(i + 1, `rtt://app/m${i + 1}`, s.symbol));
  writeFileSync(join(p.root, "fabric", "routes.json"), JSON.stringify({ plan_id: "sha256:mcp", routes }));
  const w = writeKeyPair(key, join(p.dir, "keys"), "ops");
  keyFile = w.privateKeyFile;
  trustKey(join(p.root, "registry"), w.publicKeyFile);
  // A server that never answers initialize: its routes must fail within the start-up bound, not hang.
  const hangManifest = {
    manifest: "mcp.hang",
    version: "0.0.0",
    source: { kind: "mcp", server: "hang", command: [process.execPath, "-e", "setInterval(() => {}, 1000)"] },
    symbols: [{ symbol: "rtt://mcp/hang/wait", version: "0.0.0", object: "sha256:x" }],
  };
  writeFileSync(join(p.root, "manifests", "mcp.hang.json"), JSON.stringify(hangManifest));
  routes.push(route(routes.length + 1, "rtt://app/hang", "rtt://mcp/hang/wait"));
  writeFileSync(join(p.root, "fabric", "routes.json"), JSON.stringify({ plan_id: "sha256:mcp", routes }));
  d = await startDaemon(p, ["--mcp-startup", "4000"], { auth: true });
}, 90_000);
afterAll(async () => {
  await d?.stop();
  p?.cleanup();
});

const open = async (c: FabricClient, symbol: string) =>
  c.grant("open", symbol, issueToken({ saddr: symbol, verb: "open", scopes: [], ttlMs: 60_000 }, key.privateKey));

const status = async () => {
  const c = await FabricClient.uds(p.socket);
  try {
    return await c.control<any>("status");
  } finally {
    c.close();
  }
};

describe("MCP through the fabric (server-memory, official SDK)", () => {
  it("the ingest produced the server's tools as rtt://mcp/memory/<tool>", () => {
    expect(manifest.source.command).toEqual([MEMORY]);
    expect(manifest.symbols.map((s) => s.symbol)).toContain("rtt://mcp/memory/read_graph");
  });

  it("a route to rtt://mcp/memory/<tool> calls the tool; per-tool latency in status", async () => {
    const c = await FabricClient.uds(p.socket);
    try {
      const create = await open(c, "rtt://mcp/memory/create_entities");
      const r = JSON.parse(
        (
          await c.call(
            create.route_id,
            Buffer.from(
              JSON.stringify({ entities: [{ name: "fabric", entityType: "system", observations: ["routes calls"] }] }),
            ),
            { timeoutMs: 30_000 },
          )
        ).toString(),
      );
      expect(r.isError ?? false).toBe(false);
      const read = await open(c, "rtt://mcp/memory/read_graph");
      const g = JSON.parse((await c.call(read.route_id, Buffer.from("{}"), { timeoutMs: 30_000 })).toString());
      expect(JSON.stringify(g.content)).toContain("routes calls");
    } finally {
      c.close();
    }
    const s = await status();
    const tool = s.drivers.find((x: any) => x.symbol === "rtt://mcp/memory/read_graph");
    expect(tool).toMatchObject({ kind: "mcp", healthy: true, mcp: { server: "memory", tool: "read_graph", calls: 1 } });
    expect(tool.mcp.p50_us).toBeGreaterThan(0);
    expect(tool.mcp.list_ms).toBeGreaterThanOrEqual(0);
    expect(tool.pid).toBeGreaterThan(0);
    const text = spawnSync(process.execPath, [RTT, "fabric", "status", "--root", p.root], { encoding: "utf8" });
    expect(text.stdout).toMatch(/rtt:\/\/mcp\/memory\/read_graph mcp pid \d+ healthy tool calls 1 p50 [\d.]+ µs p99/);
  }, 60_000);

  it("reconnects after the upstream server dies", async () => {
    const before = (await status()).drivers.find((x: any) => x.symbol === "rtt://mcp/memory/read_graph");
    process.kill(before.pid, "SIGKILL");
    await sleep(100);
    const c = await FabricClient.uds(p.socket);
    try {
      const read = await open(c, "rtt://mcp/memory/read_graph");
      let g: any;
      for (let i = 0; i < 50 && !g; i++) {
        g = await c
          .call(read.route_id, Buffer.from("{}"), { timeoutMs: 20_000 })
          .then((b) => JSON.parse(b.toString()))
          .catch(() => undefined);
        if (!g) await sleep(100);
      }
      expect(JSON.stringify(g.content)).toContain("routes calls"); // the server's file survived its restart
    } finally {
      c.close();
    }
    const after = (await status()).drivers.find((x: any) => x.symbol === "rtt://mcp/memory/read_graph");
    expect(after.pid).not.toBe(before.pid);
    expect(after.mcp.reconnects).toBeGreaterThanOrEqual(1);
    expect(after.mcp.connected).toBe(true);
  }, 60_000);

  it("an MCP server that does not initialize in time fails its calls within the bound, reported unhealthy", async () => {
    const c = await FabricClient.uds(p.socket);
    try {
      const r = await open(c, "rtt://mcp/hang/wait");
      const t0 = Date.now();
      await expect(c.call(r.route_id, Buffer.from("{}"), { timeoutMs: 30_000 })).rejects.toThrow(
        /no initialize \+ tools\/list in 4000 ms/,
      );
      expect(Date.now() - t0).toBeLessThan(20_000);
    } finally {
      c.close();
    }
    const s = await status();
    const h = s.drivers.find((x: any) => x.symbol === "rtt://mcp/hang/wait");
    expect(h).toMatchObject({ kind: "mcp", healthy: false, mcp: { connected: false } });
    expect(h.last_error).toMatch(/no initialize/);
  }, 60_000);

  /** `rtt mcp serve <args>` over stdio with the SDK's client, closed after `use`. */
  async function withServeClient(args: string[], use: (client: Client) => Promise<void>): Promise<void> {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [RTT, "mcp", "serve", ...args, "--root", p.root, "--key", keyFile],
      cwd: p.dir,
      stderr: "pipe",
    });
    const client = new Client({ name: "test", version: "1.0.0" });
    await client.connect(transport);
    try {
      await use(client);
    } finally {
      await client.close();
    }
  }

  it("rtt mcp serve --view: a view's MCP symbols, with the manifest's descriptions", async () => {
    const agents = join(p.dir, "view-agents");
    const { mkdirSync, writeFileSync } = await import("node:fs");
    mkdirSync(agents, { recursive: true });
    writeFileSync(
      join(agents, "helper.agent.json"),
      JSON.stringify({ id: "helper", symbols: [{ symbol: "rtt://mcp/memory/read_graph", version: "^0.0.0" }] }),
    );
    await withServeClient(["--view", agents], async (client) => {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(["memory__read_graph"]);
      expect(tools[0]?.description).toBe(manifest.symbols.find((x) => x.symbol.endsWith("/read_graph"))?.description);
      const g = await client.callTool({ name: "memory__read_graph", arguments: {} });
      expect(JSON.stringify(g.content)).toContain("routes calls");
    });
  }, 60_000);

  it("rtt mcp serve --manifest: the SDK's client sees one server; its calls go through the daemon", async () => {
    await withServeClient(["--manifest", manifestFile], async (client) => {
      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name);
      expect(names).toContain("memory__read_graph");
      expect(names).toContain("memory__create_entities");
      expect(tools.find((t) => t.name === "memory__create_entities")?.inputSchema.type).toBe("object");
      const made = await client.callTool({
        name: "memory__create_entities",
        arguments: { entities: [{ name: "serve", entityType: "cli", observations: ["over stdio"] }] },
      });
      expect(made.isError ?? false).toBe(false);
      const g = await client.callTool({ name: "memory__read_graph", arguments: {} });
      expect(JSON.stringify(g.content)).toContain("over stdio");
      const bad = await client.callTool({ name: "memory__nope", arguments: {} });
      expect(bad.isError).toBe(true);
    });
    const s = await status();
    const read = s.routes.find((r: any) => r.to === "rtt://mcp/memory/read_graph");
    expect(read.calls).toBeGreaterThanOrEqual(3);
    expect(s.auth.tokens.accepted).toBeGreaterThanOrEqual(5);
  }, 60_000);
});
