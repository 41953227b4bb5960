import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FabricError, hashOf, ingestMcp, listServerTools, Registry, schemaProblems } from "@rtt/fabric";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { descendantPids, running } from "../../src/mcp/client.js";

// Real MCP servers over stdio: the two from npm (devDependencies) and fixtures written with the official SDK.
const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const MEMORY = [process.execPath, bin("mcp-server-memory")];
const EVERYTHING = [process.execPath, bin("mcp-server-everything")];

const dir = mkdtempSync(join(tmpdir(), "rtt-fabric-mcp-stdio-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// No test may leave a server (or anything it started) behind.
afterEach(() => {
  expect(descendantPids(process.pid)).toEqual([]);
});

async function mcpError(p: Promise<unknown>): Promise<FabricError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(FabricError);
    expect((e as FabricError).code).toBe("RTT_FABRIC_MCP");
    return e as FabricError;
  }
  throw new Error("expected RTT_FABRIC_MCP");
}

describe("npm's server-memory and server-everything", () => {
  const root = join(dir, "npm");

  it("ingests server-memory: one CAS object per tool, the manifest under its serverInfo name", async () => {
    const r = await ingestMcp({ command: MEMORY, root });
    expect(r.server).toBe("memory-server");
    expect(r.manifestPath).toBe(join(root, "manifests", "mcp.memory-server.json"));
    const m = JSON.parse(readFileSync(r.manifestPath, "utf8"));
    expect(schemaProblems("manifest", m)).toEqual([]);
    expect(m.source).toMatchObject({ kind: "mcp", server: "memory-server", command: MEMORY });
    expect(m.source.server_info.name).toBe("memory-server");
    expect(m.version).toBe(m.source.server_info.version);
    const names = m.symbols.map((s: { symbol: string }) => s.symbol);
    expect(names).toContain("rtt://mcp/memory-server/create_entities");
    expect(names).toEqual([...names].sort());
    expect(r.objects.created).toBe(m.symbols.length);
    const registry = new Registry(join(root, "registry"));
    const create = m.symbols.find((s: { symbol: string }) => s.symbol.endsWith("/create_entities"));
    const stored = registry.get(create.object) as { name: string; inputSchema: unknown; title?: string };
    expect(stored.name).toBe("create_entities");
    expect(stored.title).toBe("Create Entities"); // a member beyond name/description/schemas survives
    expect(create.input_schema).toEqual(stored.inputSchema);
    expect(r.listing?.pages).toBe(1);
  });

  it("re-ingesting the same server changes nothing on disk", async () => {
    const path = join(root, "manifests", "mcp.memory-server.json");
    const before = statSync(path);
    const r = await ingestMcp({ command: MEMORY, root });
    expect(r.written).toBe(false);
    expect([r.added, r.removed, r.changed]).toEqual([[], [], []]);
    expect(r.objects.created).toBe(0);
    expect(statSync(path).mtimeMs).toBe(before.mtimeMs);
  });

  it("ingests server-everything (annotations, output schemas) with its '/' name normalised", async () => {
    const r = await ingestMcp({ command: EVERYTHING, root });
    expect(r.server).toBe("mcp-servers-everything");
    const echo = r.manifest.symbols.find((s) => s.symbol === "rtt://mcp/mcp-servers-everything/echo");
    expect(echo).toBeDefined();
    const stored = new Registry(join(root, "registry")).get(echo?.object ?? "") as { annotations?: unknown };
    expect(stored.annotations).toBeDefined();
    expect(r.manifest.symbols.some((s) => s.output_schema !== undefined)).toBe(true);
  });

  it("keeps tools of the same name apart per server (two manifests, two symbols)", async () => {
    const a = await ingestMcp({ command: MEMORY, name: "left", root });
    const b = await ingestMcp({ command: MEMORY, name: "right", root });
    expect(a.manifestPath).not.toBe(b.manifestPath);
    const sa = a.manifest.symbols.find((s) => s.symbol.endsWith("/read_graph"));
    const sb = b.manifest.symbols.find((s) => s.symbol.endsWith("/read_graph"));
    expect(sa?.symbol).toBe("rtt://mcp/left/read_graph");
    expect(sb?.symbol).toBe("rtt://mcp/right/read_graph");
    // Same tool object, stored once: identity is content, the namespace is the symbol.
    expect(sa?.object).toBe(sb?.object);
    expect(b.objects.created).toBe(0);
  });
});

describe("a paginating server (fixture on the official SDK)", () => {
  const root = join(dir, "paged");
  const toolsFile = join(dir, "paged-tools.json");
  const tool = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    description: `tool ${name}`,
    inputSchema: { type: "object", properties: { q: { type: "string" } } },
    ...extra,
  });
  const command = [process.execPath, fixture("paged-server.mjs"), toolsFile, "2"];

  it("follows nextCursor through every page", async () => {
    const tools = ["t1", "t2", "t3", "t4", "t5", "get weather", "ünï"].map((n) => tool(n));
    writeFileSync(toolsFile, JSON.stringify(tools));
    const listing = await listServerTools(command);
    expect(listing.pages).toBe(4);
    expect(listing.tools).toEqual(tools);
    expect(listing.serverInfo).toEqual({ name: "Paged Fixture", version: "1.2.3" });
  });

  it("on re-ingest reports added/removed/changed tools and leaves unchanged tools' hashes alone", async () => {
    const first = await ingestMcp({ command, root });
    expect(first.server).toBe("paged-fixture");
    expect(first.manifest.version).toBe("1.2.3");
    expect(first.manifest.symbols.map((s) => s.symbol)).toContain("rtt://mcp/paged-fixture/get%20weather");
    const before = new Map(first.manifest.symbols.map((s) => [s.symbol, s]));

    // description-only change to t1 (patch), t2 removed (major), t6 added (minor).
    const next = ["t1", "t3", "t4", "t5", "get weather", "ünï", "t6"].map((n) =>
      n === "t1" ? tool(n, { description: "now better described" }) : tool(n),
    );
    writeFileSync(toolsFile, JSON.stringify(next));
    const second = await ingestMcp({ command, root });
    expect(second.added).toEqual(["t6"]);
    expect(second.removed).toEqual(["t2"]);
    expect(second.changed).toEqual(["t1"]);
    expect(second.written).toBe(true);
    expect(second.previousVersion).toBe("1.2.3");
    expect(second.manifest.version).toBe("2.0.0");
    for (const s of second.manifest.symbols) {
      const old = before.get(s.symbol);
      const name = decodeURIComponent(s.symbol.split("/").pop() ?? "");
      expect(s.object).toBe(hashOf(next.find((t) => t.name === name)));
      if (name === "t1" || name === "t6") {
        expect(s.version).toBe("2.0.0");
        expect(s.object).not.toBe(old?.object);
      } else {
        expect(s.object).toBe(old?.object);
        expect(s.version).toBe("1.2.3");
      }
    }
    const m = JSON.parse(readFileSync(second.manifestPath, "utf8"));
    expect(schemaProblems("manifest", m)).toEqual([]);
    // The previous objects stay in the CAS (immutable); only the manifest moved on.
    const t2 = before.get("rtt://mcp/paged-fixture/t2");
    expect(new Registry(join(root, "registry")).has(t2?.object ?? "")).toBe(true);
  });

  it("a description-only change is a patch", async () => {
    const tools = JSON.parse(readFileSync(toolsFile, "utf8"));
    tools[0].description = "described once more";
    writeFileSync(toolsFile, JSON.stringify(tools));
    const r = await ingestMcp({ command, root });
    expect(r.changed).toEqual(["t1"]);
    expect(r.manifest.version).toBe("2.0.1");
  });
});

describe("servers that misbehave", () => {
  const root = join(dir, "bad");

  it("a server that hangs in initialize: RTT_FABRIC_MCP after --timeout, the server and its child killed", async () => {
    const pidFile = join(dir, "hang-pids.json");
    const t0 = performance.now();
    const e = await mcpError(
      ingestMcp({ command: [process.execPath, fixture("hang-server.mjs"), pidFile], root, timeoutMs: 800 }),
    );
    const ms = performance.now() - t0;
    expect(e.message).toContain("hang-server.mjs");
    expect(e.message).toContain("(initialize)");
    expect(e.message).toContain("800 ms");
    // Bounded: the timeout, the SIGTERM grace and the SIGKILL, not the SDK's 60 s request timeout.
    expect(ms).toBeLessThan(5000);
    const pids = JSON.parse(readFileSync(pidFile, "utf8")) as { pid: number; grandchild: number };
    expect(running(pids.pid)).toBe(false);
    expect(running(pids.grandchild)).toBe(false);
    expect(() => statSync(join(root, "manifests"))).toThrow();
  });

  it("a server that exits at start-up: its exit code and the tail of its stderr", async () => {
    const e = await mcpError(ingestMcp({ command: [process.execPath, fixture("exit-server.mjs")], root }));
    expect(e.message).toContain("exited with code 3 during initialize");
    expect(e.message).toContain("fatal: MEMORY_FILE_PATH is not writable");
    expect(e.message).toContain("exit-server.mjs");
  });

  it("a command that does not exist", async () => {
    const e = await mcpError(ingestMcp({ command: [join(dir, "no-such-server")], root }));
    expect(e.message).toContain("ENOENT");
  });

  it("a server that is not an MCP server (prints and waits): a timeout, not a hang", async () => {
    const e = await mcpError(
      ingestMcp({
        command: [process.execPath, "-e", "console.log('hello'); setInterval(() => {}, 1000)"],
        root,
        timeoutMs: 500,
      }),
    );
    expect(e.message).toContain("no answer to initialize within 500 ms");
  });
});
