import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// A small run of bench/planner/run.mjs (needs the built fabric): plans, an LP bound at or above greedy, the ILP.
describe("bench/planner smoke", () => {
  it("plans a generated instance and reports the LP bound and the small ILP", () => {
    const script = fileURLToPath(new URL("./run.mjs", import.meta.url));
    const r = spawnSync(process.execPath, [script, "--routes", "400", "--nodes", "4", "--runs", "1", "--json"], {
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const [big, small] = out.cases;
    expect(big.routes).toBe(400);
    expect(big.admitted + big.rejected).toBe(400);
    expect(big.lp.status).toBe("Optimal");
    expect(big.lp.bound).toBeGreaterThanOrEqual(big.lp.greedy - 1e-6);
    expect(small.routes).toBe(100);
    expect(out.ilp_small.status).toBe("Optimal");
    expect(out.ilp_small.optimum).toBeGreaterThanOrEqual(out.ilp_small.greedy - 1e-6);
  });
});
