import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli, ROOT } from "./run-cli.js";

// `rtt mcp ingest` end to end: the built CLI against real MCP servers over stdio (npm's server-memory and the
// fabric's SDK fixtures).
const dir = mkdtempSync(join(tmpdir(), "rtt-cli-mcp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MEMORY_BIN = join(ROOT, "node_modules", ".bin", "mcp-server-memory");
const fixture = (name: string) => join(ROOT, "packages", "fabric", "test", "mcp", "fixtures", name);

const running = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
};

describe("rtt mcp ingest", () => {
  it("--help shows the npx and the local-bin forms", () => {
    const r = cli("rtt", ["mcp", "ingest", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("rtt mcp ingest -- npx -y @modelcontextprotocol/server-memory");
    expect(r.stdout).toContain("rtt mcp ingest -- node_modules/.bin/mcp-server-memory");
    expect(r.stdout).toContain("--timeout");
  });

  it("ingests server-memory from its bin, then finds nothing changed", () => {
    const root = join(dir, "memory");
    const first = cli("rtt", ["mcp", "ingest", "--root", root, "--", MEMORY_BIN]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^mcp\.memory-server \d+\.\d+\.\d+: 9 tools → .*mcp\.memory-server\.json \(written\)/);
    expect(first.stdout).toContain("+ create_entities");
    const manifest = JSON.parse(readFileSync(join(root, "manifests", "mcp.memory-server.json"), "utf8"));
    expect(manifest.symbols).toHaveLength(9);
    for (const s of manifest.symbols)
      expect(existsSync(join(root, "registry", "cas", "sha256", `${s.object}.json`))).toBe(true);

    const again = cli("rtt", ["mcp", "ingest", "--root", root, "--json", "--", MEMORY_BIN]);
    expect(again.code).toBe(0);
    const out = JSON.parse(again.stdout);
    expect(out).toMatchObject({ server: "memory-server", written: false, added: [], removed: [], changed: [] });
    expect(out.objects).toEqual({ created: 0, existing: 9 });
  });

  it("prints the diff of a changed tool list: + added, - removed, ~ changed", () => {
    const root = join(dir, "paged");
    const tools = join(dir, "tools-list.json");
    const tool = (name: string, description = name) => ({ name, description, inputSchema: { type: "object" } });
    writeFileSync(tools, JSON.stringify([tool("a"), tool("b"), tool("c")]));
    const command = ["--", process.execPath, fixture("paged-server.mjs"), tools, "2", "Paged CLI"];
    expect(cli("rtt", ["mcp", "ingest", "--root", root, ...command]).code).toBe(0);
    writeFileSync(tools, JSON.stringify([tool("a", "changed"), tool("c"), tool("d")]));
    const r = cli("rtt", ["mcp", "ingest", "--root", root, ...command]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("mcp.paged-cli 1.2.3 → 2.0.0: 3 tools");
    expect(r.stdout.split("\n")).toEqual(expect.arrayContaining(["+ d", "- b", "~ a"]));
    expect(r.stdout).toContain("1 added, 1 removed, 1 changed; objects: 2 new, 1 already stored");
    expect(r.stdout).toMatch(/listed 2 page\(s\)/);
  });

  it("--from a saved list, named by the file or by --name", () => {
    const root = join(dir, "from");
    const saved = join(dir, "weather.tools.json");
    writeFileSync(saved, JSON.stringify({ tools: [{ name: "get forecast", inputSchema: { type: "object" } }] }));
    const r = cli("rtt", ["mcp", "ingest", "--root", root, "--from", saved]);
    expect(r.code).toBe(0);
    const m = JSON.parse(readFileSync(join(root, "manifests", "mcp.weather.json"), "utf8"));
    expect(m.symbols[0].symbol).toBe("rtt://mcp/weather/get%20forecast");

    const bare = join(dir, "tools.json");
    writeFileSync(bare, "[]");
    const unnamed = cli("rtt", ["mcp", "ingest", "--root", root, "--from", bare]);
    expect(unnamed.code).toBe(1);
    expect(unnamed.stderr).toContain("--name");
    expect(cli("rtt", ["mcp", "ingest", "--root", root, "--from", bare, "--name", "empty"]).code).toBe(0);
  });

  it("a server that hangs: exit 2 after --timeout naming command and phase, nothing left running", () => {
    const pids = join(dir, "hang.pids");
    const r = cli("rtt", [
      "mcp",
      "ingest",
      "--root",
      join(dir, "hang"),
      "--timeout",
      "700",
      "--",
      process.execPath,
      fixture("hang-server.mjs"),
      pids,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("hang-server.mjs");
    expect(r.stderr).toContain("no answer to initialize within 700 ms");
    const { pid, grandchild } = JSON.parse(readFileSync(pids, "utf8"));
    expect(running(pid)).toBe(false);
    expect(running(grandchild)).toBe(false);
    expect(existsSync(join(dir, "hang"))).toBe(false);
  });

  it("a server that exits: exit 2 with its exit code and stderr", () => {
    const r = cli("rtt", [
      "mcp",
      "ingest",
      "--root",
      join(dir, "exit"),
      "--",
      process.execPath,
      fixture("exit-server.mjs"),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("exited with code 3 during initialize");
    expect(r.stderr).toContain("MEMORY_FILE_PATH is not writable");
  });

  it("usage errors exit 1", () => {
    expect(cli("rtt", ["mcp", "ingest"]).code).toBe(1);
    expect(cli("rtt", ["mcp", "ingest", "--timeout", "soon", "--", MEMORY_BIN]).code).toBe(1);
    expect(cli("rtt", ["mcp", "ingest", "--from", "x.json", "--", MEMORY_BIN]).code).toBe(1);
  });
});
