import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CTFReader, CTFWriter, createCorridor, loadDiffSide, readCTFFile, validateCTFFile } from "@rtt/ctf";
import { afterAll, describe, expect, it } from "vitest";
import { fakeClock, SPEC } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "rtt-ctf-writer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("CTFWriter", () => {
  it("writes one line per event as it goes, and close() writes the footer with the last status", async () => {
    const path = join(dir, "w.ctf");
    const w = new CTFWriter(path, { fsync: true, now: () => 1736280100 });
    const c = createCorridor({ taskId: "w", spec: { ...SPEC, max_latency_drift: 0.1 }, writer: w, now: fakeClock() });
    c.step({ action: "search('x')", observation: "", tool: "search", latencyMs: 100 });
    // Flushed per event: the file already holds header, step, q, status before anything is closed.
    expect(
      readFileSync(path, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).type),
    ).toEqual(["header", "step", "q", "status"]);
    c.step({ action: "search('y')", observation: "", tool: "search", latencyMs: 500 }); // latency drift 4 > 0.1
    w.close(); // an agent that crashed before end(): the writer still closes the trace properly
    const lines = readFileSync(path, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.at(-1)).toEqual({ type: "footer", timestamp: 1736280100, final_status: "warning" });
    expect((await validateCTFFile(path)).issues).toEqual([]);
    expect(() => w.write(lines[0])).toThrow(/after close/);
  });

  it("CTFReader iterates lines with numbers; readCTFFile counts blank lines", async () => {
    const path = join(dir, "r.ctf");
    writeFileSync(path, '{"type":"header"}\n\n{"type":"footer"}\r\n');
    const seen: Array<[number, unknown]> = [];
    for await (const l of new CTFReader(path)) seen.push([l.line, (l.value as { type: string }).type]);
    expect(seen).toEqual([
      [1, "header"],
      [3, "footer"],
    ]);
    expect(await readCTFFile(path, () => {})).toBe(3);
  });

  it("the diff loader takes the final status of an open trace from its last status line", async () => {
    const path = join(dir, "open.ctf");
    const w = new CTFWriter(path);
    const c = createCorridor({ taskId: "o", spec: { ...SPEC, max_latency_drift: 0.1 }, writer: w, now: fakeClock() });
    c.step({ action: "a", observation: "", tool: "t", latencyMs: 100 });
    c.step({ action: "b", observation: "", tool: "t", latencyMs: 900 });
    // no end(): the trace stays open
    const side = await loadDiffSide(path);
    const statuses = readFileSync(path, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((e) => e.type === "status");
    expect(statuses.map((s) => s.corridor_status)).toEqual(["warning", "critical"]); // drift 1 (no terms), then + latency
    expect(side.facts).toMatchObject({ final_status: "critical", steps: 2, lineage_length: 2 });
    expect(side.issues).toEqual([]);
  });
});
