import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli } from "../../../cli/test/run-cli.js";
import { hashOf, sha256Hex } from "../../src/canonical.js";

// `rtt registry …` as a user runs it (the built CLI; `npm run build` first).
const dir = mkdtempSync(join(tmpdir(), "rtt-registry-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const reg = join(dir, "registry");
const src = join(dir, "src");
const rtt = (...args: string[]) => cli("rtt", ["registry", ...args, "--registry", reg]);

const summarize = (version: string) => ({ id: "summarize", version, symbols: [{ symbol: "rtt://agents/summarize" }] });
mkdirSync(join(src, "agents"), { recursive: true });
mkdirSync(join(src, "mcp", "memory"), { recursive: true });
for (const v of ["1.1.0", "1.2.0", "1.4.2", "2.0.0"])
  writeFileSync(join(src, "agents", `summarize-${v}.agent.json`), JSON.stringify(summarize(v), null, 2));
writeFileSync(join(src, "mcp", "memory", "tools.json"), JSON.stringify({ tools: [{ name: "read_graph" }] }));

describe("rtt registry (CLI)", () => {
  it("ingests, lists, resolves semver ranges, cats exact bytes, verifies, collects garbage, rebuilds the index", () => {
    const ing = rtt("ingest", src);
    expect(ing.stderr).toBe("");
    expect(ing.code).toBe(0);
    expect(ing.stdout).toMatch(/ingested 5 files: 6 new objects/);
    expect(rtt("ingest", src).stdout).toMatch(/0 new objects, 6 already stored/);

    const ls = rtt("ls", "--json");
    expect(ls.code).toBe(0);
    const rows = JSON.parse(ls.stdout) as Array<{ id: string; version: string; hash: string }>;
    expect(rows.map((r) => `${r.id}@${r.version}`)).toEqual([
      "mcp.memory@0.0.0",
      "summarize@1.1.0",
      "summarize@1.2.0",
      "summarize@1.4.2",
      "summarize@2.0.0",
    ]);
    expect(rtt("ls").stdout).toMatch(/^summarize\s+1\.4\.2\s+[0-9a-f]{64}$/m);

    const get = rtt("get", "summarize@^1.2");
    expect(get.code).toBe(0);
    expect(JSON.parse(get.stdout)).toEqual(summarize("1.4.2"));
    expect(get.stderr).toContain(`summarize@1.4.2 ${hashOf(summarize("1.4.2"))}`);
    expect(rtt("get", "summarize@~1.1", "--hash").stdout.trim()).toBe(hashOf(summarize("1.1.0")));

    const h = hashOf(summarize("2.0.0"));
    const cat = cli("rtt", ["registry", "cat", h, "--registry", reg]);
    expect(cat.code).toBe(0);
    expect(sha256Hex(cat.stdout)).toBe(h);

    expect(rtt("verify")).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ok: 6 packed/) });
    expect(rtt("gc", "--grace", "0")).toMatchObject({ code: 0, stdout: expect.stringMatching(/6 reachable/) });
    const lut = readFileSync(join(reg, "pack", "index.lut"));
    expect(rtt("index", "--rebuild")).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^index.lut: 6 objects, \d+ pack bytes\n$/),
    });
    expect(readFileSync(join(reg, "pack", "index.lut"))).toEqual(lut);
  });

  it("gives clear errors with rtt's exit codes", () => {
    expect(rtt("get", "summarize@^9")).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/no version of summarize matches \^9/),
    });
    expect(rtt("get", "summarize@not a range!")).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/not a semver range/),
    });
    expect(rtt("cat", "abc")).toMatchObject({ code: 1, stderr: expect.stringMatching(/abc: not a SHA-256 hex hash/) });
    expect(rtt("cat", "0".repeat(64))).toMatchObject({ code: 2, stderr: expect.stringMatching(/not in the registry/) });
    expect(rtt("ingest", join(dir, "nowhere"))).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/nowhere: no such file/),
    });
    const bad = join(dir, "bad");
    mkdirSync(bad);
    writeFileSync(join(bad, "x.agent.json"), "{not json");
    writeFileSync(join(bad, "y.agent.json"), JSON.stringify(summarize("3.0.0")));
    const r = rtt("ingest", bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/x\.agent\.json: .*JSON/);
    expect(r.stdout).toMatch(/1 new objects.*1 files refused/);
    expect(rtt("registry" as string).code).toBe(1);
    expect(cli("rtt", ["registry", "--help"]).stdout).toMatch(/ingest \[options\] <paths\.\.\.>/);
  });

  it("verify names the first corrupt object by hash and offset and exits 2", () => {
    const packPath = join(reg, "pack", "agents.pack");
    const pack = readFileSync(packPath);
    const h = hashOf(summarize("1.2.0"));
    const at = pack.indexOf(Buffer.from(h, "hex"));
    expect(at).toBeGreaterThan(0);
    const offset = at - 4;
    pack[at + 40] = (pack[at + 40] as number) ^ 1;
    writeFileSync(packPath, pack);
    const v = rtt("verify");
    expect(v.code).toBe(2);
    expect(v.stdout).toContain(`CORRUPT`);
    expect(v.stdout).toContain(`object ${h} at offset ${offset}: CRC32C mismatch`);
    expect(rtt("cat", h)).toMatchObject({ code: 2, stderr: expect.stringContaining(h) });
    pack[at + 40] = (pack[at + 40] as number) ^ 1;
    writeFileSync(packPath, pack);
    expect(rtt("verify").code).toBe(0);
  });
});
