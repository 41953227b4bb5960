import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  encodeToolName,
  hashOf,
  ingestMcp,
  manifestVersion,
  normalizeServerName,
  Registry,
  schemaProblems,
  toolOfSymbol,
  toolSymbol,
  toolsFromList,
} from "@rtt/fabric";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { gc } from "../../src/registry/gc.js";
import { verifyRegistry } from "../../src/registry/verify.js";
import { rejectsFabricError } from "../fabric-error.js";

const dir = mkdtempSync(join(tmpdir(), "rtt-fabric-mcp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SYMBOL_RE = /^rtt:\/\/[a-z0-9][a-z0-9._-]*(\/[A-Za-z0-9._~%-]+)+$/;
const ID_RE = /^[a-z0-9][a-z0-9._-]*$/;

describe("server names", () => {
  it("normalises to the manifest id pattern", () => {
    expect(normalizeServerName("memory-server")).toBe("memory-server");
    expect(normalizeServerName("mcp-servers/everything")).toBe("mcp-servers-everything");
    expect(normalizeServerName("  Café Server!! ")).toBe("cafe-server");
    expect(normalizeServerName("__Weird..Name__")).toBe("weird..name__");
    expect(normalizeServerName("x".repeat(100))).toHaveLength(64);
  });

  it("refuses a name with nothing usable in it", async () => {
    await rejectsFabricError(() => normalizeServerName("!!!"), "RTT_FABRIC_USAGE", "--name");
  });

  it("always gives an id (property)", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (raw) => {
        let name: string;
        try {
          name = normalizeServerName(raw);
        } catch {
          return;
        }
        expect(name).toMatch(ID_RE);
        expect(normalizeServerName(name)).toBe(name);
      }),
    );
  });
});

describe("tool symbols", () => {
  it("percent-encodes what the symbol pattern does not allow, and dot-segments", () => {
    expect(toolSymbol("memory", "create_entities")).toBe("rtt://mcp/memory/create_entities");
    expect(encodeToolName("get weather")).toBe("get%20weather");
    expect(encodeToolName("a/b%c")).toBe("a%2Fb%25c");
    expect(encodeToolName("ü")).toBe("%C3%BC");
    expect(encodeToolName("..")).toBe("%2E%2E");
    expect(encodeToolName("a.b")).toBe("a.b");
  });

  it("round-trips every name and matches the symbol pattern (property)", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 128, unit: "grapheme" }), (name) => {
        const symbol = toolSymbol("srv", name);
        expect(symbol).toMatch(SYMBOL_RE);
        expect(symbol.length).toBeLessThanOrEqual(512);
        expect(toolOfSymbol(symbol)).toBe(name);
      }),
    );
  });
});

describe("manifest version", () => {
  it("starts at the server's semver, else 0.0.0", () => {
    expect(manifestVersion(undefined, undefined, "0.6.3")).toBe("0.6.3");
    expect(manifestVersion(undefined, undefined, "v1")).toBe("0.0.0");
    expect(manifestVersion(undefined, undefined)).toBe("0.0.0");
  });

  it("steps by the diff and never goes down", () => {
    expect(manifestVersion("1.2.3", undefined, "1.2.3")).toBe("1.2.3");
    expect(manifestVersion("1.2.3", "patch")).toBe("1.2.4");
    expect(manifestVersion("1.2.3", "minor")).toBe("1.3.0");
    expect(manifestVersion("1.2.3", "major", "1.2.3")).toBe("2.0.0");
    expect(manifestVersion("1.2.3", undefined, "1.0.0")).toBe("1.2.3");
    expect(manifestVersion("1.2.3", "patch", "3.0.0")).toBe("3.0.0");
  });
});

describe("tool lists", () => {
  const tool = { name: "t", inputSchema: { type: "object" } };

  it("accepts a bare array, a tools/list result and a JSON-RPC response", () => {
    expect(toolsFromList([tool], "f").tools).toEqual([tool]);
    expect(toolsFromList({ tools: [tool], nextCursor: "c" }, "f")).toEqual({ tools: [tool], nextCursor: "c" });
    expect(toolsFromList({ jsonrpc: "2.0", id: 1, result: { tools: [tool] } }, "f").tools).toEqual([tool]);
  });

  it("refuses what is not a tool list, naming the tool", async () => {
    await rejectsFabricError(() => toolsFromList({ tool: [] }, "f.json"), "RTT_FABRIC_INVALID", "f.json");
    await rejectsFabricError(() => toolsFromList([tool, { name: "" }], "f"), "RTT_FABRIC_INVALID", "tools[1]");
    await rejectsFabricError(() => toolsFromList([tool, tool], "f"), "RTT_FABRIC_INVALID", "listed twice");
    await rejectsFabricError(
      () => toolsFromList([{ name: "x", inputSchema: "object" }], "f"),
      "RTT_FABRIC_INVALID",
      "JSON Schema",
    );
  });
});

describe("--from tools.json", () => {
  const tools = [
    {
      name: "search",
      description: "Find things",
      inputSchema: { type: "object" },
      annotations: { readOnlyHint: true },
    },
    { name: "get weather", inputSchema: { type: "object", properties: { city: { type: "string" } } } },
    { name: "add", inputSchema: { type: "object" }, outputSchema: { type: "object" }, _meta: { "x/y": 1 } },
  ];
  const file = join(dir, "demo.tools.json");
  writeFileSync(file, JSON.stringify({ tools }));
  const root = join(dir, "rtt");

  it("stores one object per tool, as given, and a valid manifest sorted by symbol", async () => {
    const r = await ingestMcp({ from: file, root });
    expect(r.server).toBe("demo");
    expect(r.manifestPath).toBe(join(root, "manifests", "mcp.demo.json"));
    const onDisk = JSON.parse(readFileSync(r.manifestPath, "utf8"));
    expect(onDisk).toEqual(r.manifest);
    expect(schemaProblems("manifest", onDisk)).toEqual([]);
    expect(onDisk.version).toBe("0.0.0");
    expect(onDisk.source).toEqual({ kind: "mcp", server: "demo", from: file });
    expect(onDisk.symbols.map((s: { symbol: string }) => s.symbol)).toEqual([
      "rtt://mcp/demo/add",
      "rtt://mcp/demo/get%20weather",
      "rtt://mcp/demo/search",
    ]);
    const registry = new Registry(join(root, "registry"));
    for (const t of tools) {
      const sym = onDisk.symbols.find((s: { symbol: string }) => s.symbol === toolSymbol("demo", t.name));
      expect(sym.object).toBe(hashOf(t));
      expect(registry.get(sym.object)).toEqual(t);
      expect(sym.input_schema).toEqual(t.inputSchema);
    }
    expect(r.added.sort()).toEqual(["add", "get weather", "search"]);
    expect(r.objects).toEqual({ created: 3, existing: 0 });
  });

  it("leaves the manifest file alone when nothing changed", async () => {
    const before = statSync(join(root, "manifests", "mcp.demo.json"));
    const bytes = readFileSync(join(root, "manifests", "mcp.demo.json"));
    const r = await ingestMcp({ from: file, root });
    expect(r.written).toBe(false);
    expect(r.objects).toEqual({ created: 0, existing: 3 });
    expect([r.added, r.removed, r.changed]).toEqual([[], [], []]);
    expect(statSync(join(root, "manifests", "mcp.demo.json")).ino).toBe(before.ino);
    expect(readFileSync(join(root, "manifests", "mcp.demo.json"))).toEqual(bytes);
  });

  it("gives the same bytes in another root with the tools in another order and key order", async () => {
    const other = join(dir, "other.json");
    writeFileSync(
      other,
      JSON.stringify([...tools].reverse().map((t) => Object.fromEntries(Object.entries(t).reverse()))),
    );
    const r = await ingestMcp({ from: other, name: "demo", root: join(dir, "rtt2") });
    const a = JSON.parse(readFileSync(join(root, "manifests", "mcp.demo.json"), "utf8"));
    const b = JSON.parse(readFileSync(r.manifestPath, "utf8"));
    expect({ ...b, source: a.source }).toEqual(a);
  });

  it("needs --name when the file name names no server", async () => {
    const bare = join(dir, "tools.json");
    writeFileSync(bare, JSON.stringify(tools));
    await rejectsFabricError(ingestMcp({ from: bare, root }), "RTT_FABRIC_USAGE", "--name");
    expect((await ingestMcp({ from: bare, name: "Other Server", root })).server).toBe("other-server");
  });

  it("names the manifest in the registry's index.json and its symbols in symbols.json", async () => {
    const own = join(dir, "rtt-index");
    await ingestMcp({ from: file, root: own });
    const registry = new Registry(join(own, "registry"));
    const manifest = JSON.parse(readFileSync(join(own, "manifests", "mcp.demo.json"), "utf8"));
    const hash = hashOf(manifest);
    expect(registry.index()["mcp.demo@0.0.0"]).toBe(hash);
    expect(registry.get(hash)).toEqual(manifest);
    for (const s of manifest.symbols) expect(registry.symbols()[s.symbol]).toEqual([hash]);

    // A new version is a new entry beside the old; a dropped tool's symbol stays with the version that had it.
    const changed = join(dir, "demo2.json");
    writeFileSync(changed, JSON.stringify({ tools: tools.slice(1) }));
    const r = await ingestMcp({ from: changed, name: "demo", root: own });
    expect(r.removed).toEqual(["search"]);
    expect(r.indexKey).toBe("mcp.demo@1.0.0");
    const index = registry.index();
    expect(index["mcp.demo@0.0.0"]).toBe(hash);
    expect(index["mcp.demo@1.0.0"]).toBe(r.manifestHash);
    expect(registry.symbols()["rtt://mcp/demo/search"]).toEqual([hash]);
    expect(registry.symbols()["rtt://mcp/demo/add"]).toEqual([hash, r.manifestHash].sort());
    // What the ingest wrote is a registry `rtt registry verify` passes and gc keeps whole (all reachable).
    expect(verifyRegistry(registry).ok).toBe(true);
    expect(gc(registry, { graceMs: 0 }).loose).toMatchObject({ kept: 5, removed: 0 });
  });

  it("refuses guarded JSON (a __proto__ key) and writes nothing", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, '{"tools":[{"name":"x","inputSchema":{"__proto__":{}}}]}');
    await rejectsFabricError(ingestMcp({ from: bad, root }), "RTT_FABRIC_NOT_JSON", "__proto__");
    expect(() => statSync(join(root, "manifests", "mcp.bad.json"))).toThrow();
  });

  it("warns when the saved list is one page of several", async () => {
    const page = join(dir, "paged.json");
    writeFileSync(page, JSON.stringify({ tools, nextCursor: "2" }));
    const r = await ingestMcp({ from: page, root });
    expect(r.warnings.join()).toContain("later tools are missing");
  });
});
