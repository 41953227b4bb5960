import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { diffSides, loadDiffSides, validateCTFFile } from "@rtt/ctf";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM helper shared with bench/ctf/run.mjs
import { generateTrace } from "./gen.mjs";

// A tiny version of bench/ctf/run.mjs: the generated traces are valid and the diff finds the planted divergence.
const dir = mkdtempSync(join(tmpdir(), "rtt-ctf-bench-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bench/ctf smoke", () => {
  it("generates clean traces whose metrics recompute exactly, and diffs them", async () => {
    const a = join(dir, "a.ctf");
    const b = join(dir, "b.ctf");
    const n = generateTrace(a, { events: 3000 });
    generateTrace(b, { events: 3000, divergeAtStep: 500 });
    const report = await validateCTFFile(a);
    expect(report.issues).toEqual([]);
    expect(report.events).toBe(n);
    const d = diffSides(...(await loadDiffSides(a, b)));
    expect(d.same).toBe(false);
    expect(d.divergence).not.toBeNull();
    expect(d.common_prefix).toBeGreaterThan(100);
  });
});
