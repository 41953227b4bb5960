import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli } from "./run-cli.js";

// `rtt view` as a user runs it, on the seed's example (packages/fabric/test/views covers the rules themselves).
const root = mkdtempSync(join(tmpdir(), "rtt-cli-view-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const put = (rel: string, text: string) => {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
};
const OUT = join(root, "providers/claude/.claude/agents/summarize.agent.json");

describe("rtt view", () => {
  put(
    "agents/common/summarize.agent.json",
    JSON.stringify({ id: "common/summarize", version: "1.2.0", model: "default", tools: [{ name: "read" }] }),
  );
  put(
    "overlays/provider/claude/summarize.patch.json",
    JSON.stringify({ model: "claude-sonnet", tools: [{ name: "bash" }] }),
  );
  put("overlays/env/prod/_global.patch.json", JSON.stringify({ temperature: 0 }));

  it("build writes the seed's path, and a second build writes nothing", () => {
    const first = cli("rtt", ["view", "build", "--provider", "claude", "--env", "prod", "--root", root, "--json"]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ agents: 1, written: expect.arrayContaining([".view.json"]) });
    expect(JSON.parse(readFileSync(OUT, "utf8"))).toEqual({
      id: "common/summarize",
      version: "1.2.0",
      model: "claude-sonnet",
      temperature: 0,
      tools: [{ name: "read" }, { name: "bash" }],
    });
    const mtime = statSync(OUT).mtimeMs;
    const second = cli("rtt", ["view", "build", "--provider", "claude", "--env", "prod", "--root", root]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("0 files written, 2 unchanged");
    expect(statSync(OUT).mtimeMs).toBe(mtime);
  });

  it("diff prints each overlay's RFC 6902 operations, as text or JSON", () => {
    const text = cli("rtt", ["view", "diff", "--provider", "claude", "--env", "prod", "--root", root, "summarize"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('replace /model "claude-sonnet"');
    expect(text.stdout).toContain("add /temperature 0");
    const d = JSON.parse(
      cli("rtt", ["view", "diff", "--provider", "claude", "--env", "prod", "--root", root, "--json"]).stdout,
    );
    expect(d.agents[0].overlays[1]).toMatchObject({
      layer: "env",
      path: "overlays/env/prod/_global.patch.json",
      ops: [{ op: "add", path: "/temperature", value: 0 }],
    });
  });

  it("verify and ls read the built view; --strict refuses it unsigned", () => {
    expect(cli("rtt", ["view", "verify", "--provider", "claude", "--root", root]).stdout).toContain("1 files match");
    const strict = cli("rtt", ["view", "verify", "--provider", "claude", "--root", root, "--strict"]);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain(".view.json: unsigned (strict mode)");
    expect(cli("rtt", ["view", "ls", "--root", root]).stdout).toMatch(/^claude\tprod\t1 agents\t[0-9a-f]{16}\n$/);
  });

  it("a bad overlay: exit 2, the file named, the view left as it was", () => {
    const before = readFileSync(OUT);
    put("overlays/env/prod/_global.patch.json", '{"temperature": ');
    const r = cli("rtt", ["view", "build", "--provider", "claude", "--env", "prod", "--root", root]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^rtt view: .*overlays\/env\/prod\/_global\.patch\.json: invalid JSON/);
    expect(readFileSync(OUT)).toEqual(before);
    put("overlays/env/prod/_global.patch.json", JSON.stringify({ temperature: 0 }));
  });

  it("--help shows the layout and an example", () => {
    const r = cli("rtt", ["view", "build", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("rtt view build --provider claude --env prod");
    expect(r.stdout).toContain("providers/claude/.claude/agents/summarize.agent.json");
  });
});
