import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

// bench/registry/run.mjs at a tiny size: both parts run, their answers check out, the table and results.json appear.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "rtt-registry-bench-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("bench/registry smoke", () => {
  it("measures lookups through index.lut beside a Map, and ingest beside SHA-256", () => {
    const dist = join(ROOT, "packages/fabric/dist/index.js");
    if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`npm run build\` first`);
    const r = spawnSync(
      process.execPath,
      [join(ROOT, "bench/registry/run.mjs"), "--n", "3000", "--symbols", "300", "--runs", "1", "--out", out],
      { encoding: "utf8", timeout: 120_000 },
    );
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\| index\.lut, 3,000 objects/);
    const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    expect(res.lookup).toMatchObject({ objects: 3000 });
    expect(res.lookup.index_bytes).toBeGreaterThan(3000 * 20);
    expect(res.lookup.index_bytes).toBeLessThan(res.lookup.map_heap_mib * 1048576);
    expect(res.ingest).toMatchObject({ symbols: 300, files: 300, commits: 1 });
  }, 180_000);
});
