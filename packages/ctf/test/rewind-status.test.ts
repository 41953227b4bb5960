import {
  type CTFEvent,
  createCorridor,
  formatIssue,
  loadTraceText,
  MemorySink,
  summarize,
  validateCTFText,
} from "@rtt/ctf";
import { describe, expect, it } from "vitest";
import { fakeClock, lines, SPEC } from "./helpers.js";

/**
 * The seed's sequence (seed 003, §2 and §6): a step goes off-task, its status is `warning`, the writer rewinds and
 * ends with `final_status: "stable"`. The seed's writer emits only the rewind — no q or status after it — so the
 * status the footer states is the surviving lineage's, which the reader has to recompute.
 */
function seedSequence(finalStatus: string): { text: string; events: CTFEvent[] } {
  const sink = new MemorySink();
  // The seed's corridor_spec (max_semantic_drift 0.35); no task: the root step is the reference.
  const c = createCorridor({ taskId: "task-9af3", spec: SPEC, writer: sink, now: fakeClock() });
  c.step({ action: "search('quantum turbulence')", observation: "Executed search", tool: "search", latencyMs: 400 });
  c.step({
    action: "search('quantum turbulence papers')",
    observation: "Executed search",
    tool: "search",
    latencyMs: 410,
  });
  const off = c.step({ action: "order('pizza')", observation: "Pizza ordered", tool: "shop", latencyMs: 412 });
  expect(off).toMatchObject({ corridor_status: "warning", violations: ["semantic_drift"] });
  c.rewind(0);
  const events = sink.events.slice(0, -2); // the seed's writer: the rewind, without RTT's q + status after it
  expect(events.at(-1)?.type).toBe("rewind");
  expect(events.at(-2)).toMatchObject({ type: "status", corridor_status: "warning" });
  events.push({ type: "footer", timestamp: 1736280100, final_status: finalStatus as "stable" });
  return { text: lines(...events), events };
}

describe("final_status after a rewind is the surviving lineage's recomputed status (encoding_rules.md §6)", () => {
  it("accepts the seed's sequence: warning, rewind, footer stable", () => {
    const { text } = seedSequence("stable");
    const r = validateCTFText(text);
    expect(r.issues.filter((i) => i.severity === "error").map(formatIssue)).toEqual([]);
    expect(r.errors).toBe(0);
    // The readers agree.
    const t = loadTraceText(text);
    expect(t.issues).toEqual([]);
    expect(summarize(t).final_status).toBe("stable");
  });

  it("refuses a footer that states the abandoned branch's status, naming the recomputation", () => {
    const { text, events } = seedSequence("warning");
    const r = validateCTFText(text);
    const err = r.issues.find((i) => i.code === "final_status");
    expect(err).toMatchObject({ line: events.length, field: "/final_status", severity: "error" });
    expect(err?.message).toMatch(
      /final_status is warning but the surviving lineage's status, recomputed after the rewind to step 0 on line \d+, is stable/,
    );
  });

  it("a status written after the rewind (RTT's runtime) is what counts, as before", () => {
    const sink = new MemorySink();
    const c = createCorridor({ taskId: "t", spec: SPEC, writer: sink, now: fakeClock() });
    c.step({ action: "boil water", observation: "kettle on", tool: "t", latencyMs: 10 });
    c.step({ action: "order pizza", observation: "ordered", tool: "t", latencyMs: 10 });
    expect(c.status).toBe("warning");
    c.rewind(0);
    expect(c.end()).toBe("stable");
    expect(validateCTFText(sink.text()).issues).toEqual([]);
  });

  it("without recomputation a final status only a recomputation could give is not judged", () => {
    for (const s of ["stable", "warning"]) {
      const r = validateCTFText(seedSequence(s).text, { recompute: false });
      expect(r.issues.filter((i) => i.code === "final_status")).toEqual([]);
    }
  });
});
