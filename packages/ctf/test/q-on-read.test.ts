import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CTFEvent,
  computeMissingQ,
  createCorridor,
  loadTrace,
  loadTraceText,
  MemorySink,
  type QEvent,
  type StatusEvent,
  summarize,
} from "@rtt/ctf";
import { afterAll, describe, expect, it } from "vitest";
import { fakeClock, lines, SPEC } from "./helpers.js";

/** A run by the real runtime with a rewind and a fork; `all` has its q/status, `bare` is what the seed's minimal writer keeps. */
function run() {
  const sink = new MemorySink();
  const c = createCorridor({ taskId: "bare", spec: SPEC, writer: sink, task: "quantum turbulence", now: fakeClock() });
  c.step({ action: "search('quantum turbulence')", observation: "3 papers", tool: "search", latencyMs: 100 }); // 0
  c.step({ action: "open('paper 1')", observation: "turbulence in pipes", tool: "browser", latencyMs: 300 }); // 1
  c.step({ action: "shell('rm -rf')", observation: "denied", tool: "shell", latencyMs: 900 }); // 2
  c.rewind(1);
  c.step({ action: "search('quantum turbulence')", observation: "3 papers", tool: "search", latencyMs: 120 }); // 3, a retry
  c.step({
    action: "open('paper 2')",
    observation: "quantum vortices",
    tool: "browser",
    latencyMs: 150,
    parentStepId: 0,
  }); // 4, a fork
  c.end();
  const all = sink.events;
  const bare = all.filter((e) => e.type !== "q" && e.type !== "status");
  return { all, bare };
}

/** Each step's last q / status in the runtime's own output (a rewind's recomputation overwrites the first). */
function lastDescriptions(events: CTFEvent[]) {
  const q = new Map<number, Omit<QEvent, "type" | "step_id">>();
  const status = new Map<number, StatusEvent["corridor_status"]>();
  for (const e of events) {
    if (e.type === "q") {
      const { type: _t, step_id, ...m } = e;
      q.set(step_id, m);
    } else if (e.type === "status") status.set(e.step_id, e.corridor_status);
  }
  return { q, status };
}

const dir = mkdtempSync(join(tmpdir(), "rtt-ctf-qread-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("Q-metrics computed on read for traces without q events (q_metrics.md, 'Computed on read')", () => {
  it("gives every step the q and status the runtime wrote for it, rewinds and forks included", () => {
    const { all, bare } = run();
    const want = lastDescriptions(all);
    const t = loadTraceText(lines(...bare));
    expect(t.issues).toEqual([]);
    expect(t.qComputed).toBe(5);
    expect(t.statusComputed).toBe(true);
    for (const n of t.steps) {
      expect(n.q, `step ${n.id}`).toEqual(want.q.get(n.id));
      expect(n.status, `step ${n.id}`).toBe(want.status.get(n.id));
    }
    // The same as reading the complete trace.
    const full = loadTraceText(lines(...all));
    expect(full.qComputed).toBe(0);
    const s = summarize(t);
    const f = summarize(full);
    expect(s.metrics).toEqual(f.metrics);
    expect(s.metrics.tool_entropy.last).toBeGreaterThan(0);
    expect(s.violations).toEqual(f.violations);
    expect(s.status_timeline.map((c) => [c.step_id, c.to])).toEqual(f.status_timeline.map((c) => [c.step_id, c.to]));
  });

  it("from a file too (rtt ctf summary's loader), and keeps the q a file does carry", async () => {
    const { all, bare } = run();
    const path = join(dir, "bare.ctf");
    writeFileSync(path, lines(...bare));
    const t = await loadTrace(path);
    expect(t.lineage.at(-1)?.q).toEqual(lastDescriptions(all).q.get(4));

    // One q in the file, with numbers of its own: it stays; the other steps are computed.
    const mixed: CTFEvent[] = [...bare];
    const mine = {
      type: "q",
      step_id: 0,
      semantic_drift: 0.5,
      tool_entropy: 0,
      latency_drift: 0,
      branching_pressure: 0,
      retry_ratio: 0,
    } as const;
    mixed.splice(2, 0, mine);
    const m = loadTraceText(lines(...mixed));
    expect(m.steps[0]?.q).toEqual(mine);
    expect(m.qComputed).toBe(4);
  });

  it("computes nothing for a trace whose header names an embedder the reader does not have", () => {
    const { bare } = run();
    const foreign = bare.map((e) => (e.type === "header" ? { ...e, embedder: "ada-002" } : e));
    const t = loadTraceText(lines(...foreign));
    expect(t.qComputed).toBe(0);
    expect(t.steps.every((n) => n.q === undefined)).toBe(true);
    expect(computeMissingQ(t)).toBe(0);
  });
});
