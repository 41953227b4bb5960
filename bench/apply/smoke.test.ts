import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// A small run of bench/apply/run.mjs (needs the built fabric): every apply commits, and the rows are all there.
describe("bench/apply smoke", () => {
  it("applies signed one-route changes on 10- and 1,000-route tables beside the fdatasync'd write", () => {
    const script = fileURLToPath(new URL("./run.mjs", import.meta.url));
    const r = spawnSync(process.execPath, [script, "--n", "5", "--json"], { encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.n).toBe(5);
    expect(out.rows.map((x: { routes: number }) => x.routes)).toEqual([10, 10, 1000, 1000]);
    for (const row of out.rows) {
      expect(row.p50_ms).toBeGreaterThan(0);
      expect(row.p99_ms).toBeGreaterThanOrEqual(row.p50_ms);
    }
    expect(out.rows[3].plan_bytes).toBeGreaterThan(100_000);
    expect(out.rows[3].prepare_p50_ms).toBeGreaterThan(0);
  });
});
