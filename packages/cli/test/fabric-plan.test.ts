import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli } from "./run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "rtt-cli-plan-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const rtt = (...args: string[]) => cli("rtt", args, undefined, dir);
const rtx = join(dir, ".rtt");
const A = "rtt://ui/hook/refresh";
const B = "rtt://core/api/metrics";
const C = "rtt://core/api/health";

function fixture() {
  mkdirSync(join(rtx, "manifests"), { recursive: true });
  writeFileSync(
    join(rtx, "topology.json"),
    JSON.stringify({
      nodes: [
        { id: "node0", cpu: 4, memory_mb: 4096, numa: 0 },
        { id: "node1", cpu: 4, memory_mb: 4096, numa: 1 },
      ],
      numa_distance: [
        [10, 21],
        [21, 10],
      ],
    }),
  );
  writeFileSync(
    join(rtx, "manifests", "ui.json"),
    JSON.stringify({
      manifest: "ui",
      version: "1.0.0",
      symbols: [{ symbol: A, role: "consumes", requires: "^1.0.0 || ^2.0.0", output_type: "Q", qos: { cpu: 1 } }],
    }),
  );
  writeFileSync(
    join(rtx, "manifests", "core.json"),
    JSON.stringify({
      manifest: "core",
      version: "2.3.0",
      symbols: [
        { symbol: B, version: "2.3.0", input_type: "Q", qos: { cpu: 2, latency_p99_ms: 0.5 } },
        { symbol: C, version: "2.3.0", qos: { cpu: 2 } },
      ],
    }),
  );
  writeFileSync(
    join(rtx, "routes.json"),
    JSON.stringify({
      routes: [
        { from: A, to: B, priority: 2 },
        { from: A, to: C, control: true },
        { from: A, to: "rtt://core/api/none" },
      ],
    }),
  );
}

describe("rtt plan", () => {
  fixture();

  it("build twice in two processes gives the same bytes; explain and diff; FabricErrors exit with their code", () => {
    const one = rtt("plan", "build", "--out", "one.json");
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).toMatch(/sha256:[0-9a-f]{64} -> one\.json: 2 routes \(\+2 -0\), 1 rejected; base none/);
    expect(one.stderr).toContain("rejected RTT_PLAN_UNKNOWN_SYMBOL");
    const two = rtt("plan", "build");
    expect(two.code).toBe(0);
    expect(two.stdout).toBe(readFileSync(join(dir, "one.json"), "utf8"));
    const plan = JSON.parse(two.stdout);
    expect(plan.routes.map((r: { lane: string }) => r.lane).sort()).toEqual(["shm", "tcp"]);

    const ex = rtt("plan", "explain", `${A}->${B}`);
    expect(ex.code, ex.stderr).toBe(0);
    expect(ex.stdout).toContain("admitted, lane shm");
    expect(ex.stdout).toMatch(/ok {3}RTT_PLAN_SEMVER +.*meet >=2\.0\.0/);
    const bad = rtt("plan", "explain", `${A}->rtt://core/api/none`, "--json");
    expect(JSON.parse(bad.stdout).code).toBe("RTT_PLAN_UNKNOWN_SYMBOL");
    expect(rtt("plan", "explain", "99").code).toBe(2);

    // a later plan against the first as base: only the change shows
    writeFileSync(join(rtx, "routes.json"), JSON.stringify({ routes: [{ from: A, to: B, priority: 2 }] }));
    const next = rtt("plan", "build", "--base", "one.json", "--out", "two.json");
    expect(next.code, next.stderr).toBe(0);
    const d = rtt("plan", "diff", "one.json", "two.json");
    expect(d.stdout).toContain(`- route 1 ${A} -> ${C} [tcp]`);
    expect(d.stdout).toContain(`> ${C}: node1 -> (unplaced)`);
    expect(JSON.parse(readFileSync(join(dir, "two.json"), "utf8")).routes[0].route_id).toBe(2); // kept: ids go in (from, to) order, health before metrics

    writeFileSync(join(rtx, "topology.json"), "{ nope");
    const notJson = rtt("plan", "build");
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain("topology.json");
    fixture();
  });

  it("signs with --sign; strict refuses unsigned manifests until they are signed by a trusted key", () => {
    expect(rtt("keys", "gen", "--name", "ci", "--trust").code).toBe(0);
    const key = join(".rtt", "keys", "ci.key");
    const signed = rtt("plan", "build", "--sign", key, "--out", "signed.json");
    expect(signed.code, signed.stderr).toBe(0);
    expect(rtt("verify", "signed.json").code).toBe(0);
    const strict = rtt("plan", "build", "--strict");
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain("strict mode");
    for (const m of ["ui", "core"])
      expect(rtt("sign", join(".rtt", "manifests", `${m}.json`), "--key", key, "--in-place").code).toBe(0);
    const ok = rtt("plan", "build", "--strict", "--sign", key);
    expect(ok.code, ok.stderr).toBe(0);
  });
});
