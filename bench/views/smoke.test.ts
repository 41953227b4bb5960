import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

// bench/views/run.mjs on 3 providers × 40 agents: it builds, checks its own determinism (it throws otherwise) and
// reports the numbers RESULTS.md quotes. Needs the built @rtt/fabric (npm run build), as the bench does.
const dir = mkdtempSync(join(tmpdir(), "rtt-views-bench-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const script = fileURLToPath(new URL("./run.mjs", import.meta.url));

describe("bench/views smoke", () => {
  it("builds every view twice with the same bytes and rebuilds without writing", () => {
    const out = execFileSync(
      process.execPath,
      [script, "--providers", "3", "--agents", "40", "--durable-views", "1", "--out", dir],
      { encoding: "utf8", timeout: 120_000 },
    );
    const r = JSON.parse(out);
    expect(r).toMatchObject({ providers: 3, agents: 40, files_written: 3 * 41 });
    expect(r.deterministic.view_hashes_equal).toBe(true);
    expect(r.deterministic.outputs_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.build_view_ms.median).toBeGreaterThan(0);
    expect(r.baseline_view_ms.median).toBeGreaterThan(0);
  });
});
