import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type ChromeTraceEvent,
  type CTFEvent,
  createCorridor,
  diffTraces,
  formatDiff,
  formatSummary,
  loadEventsText,
  loadTraceText,
  MemorySink,
  type OtlpSpan,
  observationSnippets,
  sparkline,
  summarize,
  toChromeTrace,
  toOtlp,
  toUnixNano,
  validateCTFText,
} from "@rtt/ctf";
import { describe, expect, it } from "vitest";
// The example agent is plain ESM JavaScript so `node examples/agent/run.mjs` needs no TypeScript loader.
import { runAgent } from "../../../examples/agent/agent.mjs";
import { fakeClock, SPEC } from "./helpers.js";

const TRACES = join(import.meta.dirname, "../../../examples/agent/traces");
const agentText = (scenario: string) => {
  const sink = new MemorySink();
  runAgent({ writer: sink, scenario });
  return sink.text();
};

type Act = [action: string, tool: string, latency: number, observation?: string];
function run(acts: Array<Act | { rewind: number }>): string {
  const sink = new MemorySink();
  const c = createCorridor({
    taskId: "t",
    spec: SPEC,
    writer: sink,
    task: "quantum turbulence survey",
    now: fakeClock(),
  });
  for (const a of acts) {
    if ("rewind" in a) c.rewind(a.rewind);
    else c.step({ action: a[0], tool: a[1], latencyMs: a[2], observation: a[3] ?? "ok" });
  }
  c.end();
  return sink.text();
}

describe("example agent", () => {
  it("is deterministic and matches the committed demo traces", () => {
    for (const s of ["steady", "flaky"]) {
      expect(agentText(s)).toBe(readFileSync(join(TRACES, `boiling-point-${s}.ctf`), "utf8"));
    }
  });

  it("writes valid CTF with honest metrics, tools, drift, retries and a rewind", () => {
    for (const s of ["steady", "flaky"]) {
      const text = agentText(s);
      expect(validateCTFText(text).issues).toEqual([]); // recomputation agrees with every q and status
      const t = loadTraceText(text);
      expect(t.rewinds.length).toBe(1);
      expect(new Set(t.steps.map((n) => n.event.tool)).size).toBeGreaterThanOrEqual(3);
      expect(t.violationCounts.semantic_drift).toBeGreaterThan(0); // the detour was noticed
    }
    const flaky = loadTraceText(agentText("flaky"));
    expect(flaky.steps.filter((n) => n.event.observation.startsWith("error")).length).toBe(2);
    expect(flaky.violationCounts.retry_ratio).toBeGreaterThan(0);
  });
});

describe("diff", () => {
  const base: Act[] = [
    ["search('quantum turbulence')", "search", 100],
    ["browser('arxiv')", "browser", 120],
    ["summarise()", "llm", 100],
  ];
  it("identical runs are the same", () => {
    const d = diffTraces(loadTraceText(run(base)), loadTraceText(run(base)));
    expect(d.same).toBe(true);
    expect(d.divergence).toBeNull();
    expect(d.common_prefix).toBe(3);
    expect(formatDiff(d)).toMatch(/^same/);
  });

  it("finds the divergence point, metric deltas and steps only in A / B", () => {
    const b: Act[] = [
      base[0],
      ["search('cake recipes')", "search", 300],
      ["bake()", "oven", 100],
      ["eat()", "fork", 50],
    ];
    const d = diffTraces(loadTraceText(run(base)), loadTraceText(run(b)));
    expect(d.same).toBe(false);
    expect(d.divergence).toMatchObject({
      index: 1,
      a: { step_id: 1, action: "browser('arxiv')" },
      b: { step_id: 1, action: "search('cake recipes')" },
    });
    expect(d.only_in_a.count).toBe(2);
    expect(d.only_in_b.count).toBe(3);
    expect(d.only_in_b.steps.map((s) => s.action)).toEqual(["search('cake recipes')", "bake()", "eat()"]);
    expect(d.metrics.semantic_drift.max_abs_delta).toBe(0); // the common prefix is identical
    expect(d.metrics.tool_entropy.final_a).toBeCloseTo(Math.log2(3), 6);
    expect(d.metrics.tool_entropy.final_b).toBe(1.5); // search×2, oven, fork
    expect(d.metrics.tool_entropy.final_delta).toBeCloseTo(1.5 - Math.log2(3), 6);
  });

  it("a divergence in observation only is named and printed with both observations", () => {
    const seen: Act[] = [base[0], ["browser('arxiv')", "browser", 120, "404 not found"], base[2]];
    const d = diffTraces(loadTraceText(run(base)), loadTraceText(run(seen)));
    expect(d.divergence).toMatchObject({
      index: 1,
      differs: ["observation"],
      a: { action: "browser('arxiv')", observation: "ok" },
      b: { action: "browser('arxiv')", observation: "404 not found" },
    });
    const text = formatDiff(d);
    expect(text).toContain("differs in observation");
    const lines = text.split("\n");
    const at = lines.findIndex((l) => l.startsWith("divergence at lineage index 1"));
    // Same step line on both sides, then each side's observation: the two sides no longer print alike.
    expect(lines.slice(at + 1, at + 5)).toEqual([
      "  A: step 1 [browser] browser('arxiv')",
      '      observation: "ok"',
      "  B: step 1 [browser] browser('arxiv')",
      '      observation: "404 not found"',
    ]);
    // A long observation is cut around where the two first differ.
    const long = `${"x".repeat(500)}A${"y".repeat(500)}`;
    const [sa, sb] = observationSnippets(long, long.replace("A", "B"));
    expect(sa).toMatch(/^…"x+Ay+"…$/);
    expect(sb).toMatch(/^…"x+By+"…$/);
    expect(sa.length).toBeLessThan(110);
  });

  it("names a tool or action difference, and none where one lineage only goes on", () => {
    const other: Act[] = [base[0], ["fetch('arxiv')", "browser", 120], base[2]];
    expect(diffTraces(loadTraceText(run(base)), loadTraceText(run(other))).divergence?.differs).toEqual(["action"]);
    const longer = diffTraces(loadTraceText(run(base)), loadTraceText(run([...base, ["more()", "llm", 100]])));
    expect(longer.divergence).toMatchObject({ index: 3, a: null, b: { action: "more()" }, differs: [] });
    expect(formatDiff(longer)).toContain("(lineage ended)");
  });

  it("the same kept lineage reached through a rewind differs only in metrics", () => {
    const viaRewind = run([base[0], ["detour()", "x", 100], { rewind: 0 }, base[1], base[2]]);
    const d = diffTraces(loadTraceText(run(base)), loadTraceText(viaRewind));
    expect(d.divergence).toBeNull();
    expect(d.same).toBe(false);
    expect(d.metrics.branching_pressure).toMatchObject({ max_abs_delta: 1, at_index: 0, final_delta: 1 });
  });
});

describe("summary", () => {
  it("reports steps, tools, rewinds, status changes and a sparkline per metric", () => {
    const s = summarize(loadTraceText(agentText("flaky")));
    expect(s).toMatchObject({
      task_id: "boiling-point-flaky",
      rewinds: [{ from_step: 4, to_step: 3 }],
      complete: true,
    });
    expect(s.tools.search).toBe(4);
    expect(s.status_timeline[0]).toMatchObject({ from: null, to: "stable" });
    const text = formatSummary(s);
    for (const m of ["semantic_drift", "tool_entropy", "latency_drift", "branching_pressure", "retry_ratio"])
      expect(text).toContain(m);
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 7)).toBe("▁▂▃▄▅▆▇█");
    expect(sparkline([0, 8, 0, 0], 8, 2)).toBe("█▁"); // buckets keep their maximum
  });
});

describe("Chrome Trace Event Format export", () => {
  const doc = toChromeTrace([
    { name: "steady", events: loadEventsText(agentText("steady")).events },
    { name: "flaky", events: loadEventsText(agentText("flaky")).events },
  ]);
  const ev = doc.traceEvents;

  it("follows the format's field rules", () => {
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    for (const e of ev) {
      expect(["M", "X", "C", "i", "s", "f"]).toContain(e.ph);
      expect(typeof e.name).toBe("string");
      expect(Number.isInteger(e.pid)).toBe(true);
      if (e.ph !== "M") expect(e.ts).toBeGreaterThanOrEqual(0);
      if (e.ph === "X") {
        expect(e.dur).toBeGreaterThan(0);
        expect(Number.isInteger(e.tid)).toBe(true);
      }
      if (e.ph === "C") expect(Object.values(e.args ?? {}).every((v) => typeof v === "number")).toBe(true);
      if (e.ph === "i") expect(["g", "p", "t"]).toContain(e.s);
    }
  });

  it("two runs become two named processes, each step an X slice with dur = latency", () => {
    const names = ev.filter((e) => e.ph === "M" && e.name === "process_name");
    expect(names.map((e) => [e.pid, (e.args as { name: string }).name])).toEqual([
      [1, "boiling-point-steady — steady"],
      [2, "boiling-point-flaky — flaky"],
    ]);
    const steps = loadEventsText(agentText("steady")).events.filter((e) => e.type === "step");
    const xs = ev.filter((e) => e.ph === "X" && e.pid === 1);
    expect(xs.map((x) => x.dur)).toEqual(steps.map((s) => (s.type === "step" ? s.latency_ms : 0)));
    expect(xs.filter((x) => x.tid === 2).length).toBe(1); // the rewound detour sits on its own thread
  });

  it("has a counter track per Q-metric, instants for status and rewind, and paired lineage flows", () => {
    const counters = new Set(ev.filter((e) => e.ph === "C" && e.pid === 1).map((e) => e.name));
    expect([...counters].sort()).toEqual([
      "branching_pressure",
      "latency_drift",
      "retry_ratio",
      "semantic_drift",
      "tool_entropy",
    ]);
    expect(ev.some((e) => e.ph === "i" && e.name.startsWith("rewind"))).toBe(true);
    expect(ev.some((e) => e.ph === "i" && e.name.startsWith("status: "))).toBe(true);
    const starts = ev.filter((e) => e.ph === "s");
    const ends = ev.filter((e) => e.ph === "f");
    expect(starts.length).toBeGreaterThan(0);
    expect(new Set(starts.map((e) => e.id))).toEqual(new Set(ends.map((e) => e.id)));
    expect(new Set(starts.map((e) => e.id)).size).toBe(starts.length); // unique across both processes
    const byId = new Map<number | undefined, ChromeTraceEvent>(starts.map((s) => [s.id, s]));
    for (const f of ends) {
      expect(f.bp).toBe("e");
      expect(f.ts).toBeGreaterThanOrEqual(byId.get(f.id)!.ts!);
    }
  });

  it("is deterministic", () => {
    const again = toChromeTrace([
      { name: "steady", events: loadEventsText(agentText("steady")).events },
      { name: "flaky", events: loadEventsText(agentText("flaky")).events },
    ]);
    expect(JSON.stringify(again)).toBe(JSON.stringify(doc));
  });
});

describe("OTLP/JSON export", () => {
  const events = loadEventsText(agentText("steady")).events;
  const doc = toOtlp([{ name: "steady", events }]) as {
    resourceSpans: Array<{ resource: unknown; scopeSpans: Array<{ scope: { name: string }; spans: OtlpSpan[] }> }>;
  };
  const spans = doc.resourceSpans[0].scopeSpans[0].spans;
  const attr = (s: OtlpSpan, k: string) => s.attributes.find((a) => a.key === k)?.value;

  it("has valid ids, decimal nanosecond times and integer span kinds", () => {
    const ids = new Set(spans.map((s) => s.spanId));
    expect(ids.size).toBe(spans.length);
    for (const s of spans) {
      expect(s.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(s.startTimeUnixNano).toMatch(/^\d+$/);
      expect(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano)).toBe(true);
      expect(s.kind).toBe(1);
      if (s.parentSpanId) expect(ids.has(s.parentSpanId)).toBe(true);
      for (const a of s.attributes) {
        const v = a.value as Record<string, unknown>;
        if ("intValue" in v) expect(v.intValue).toMatch(/^-?\d+$/);
      }
    }
    expect(toUnixNano(1736280002.551)).toBe("1736280002551000000");
  });

  it("one invoke_agent root, a step span per step, execute_tool children, Q-metrics as corridor.* attributes", () => {
    const roots = spans.filter((s) => !s.parentSpanId);
    expect(roots.map((r) => r.name)).toEqual(["invoke_agent"]);
    const steps = spans.filter((s) => s.parentSpanId === roots[0].spanId);
    expect(steps).toHaveLength(events.filter((e) => e.type === "step").length);
    expect(steps.map((s) => attr(s, "corridor.step.index"))).toEqual(steps.map((_, i) => ({ intValue: String(i) })));
    expect(attr(steps[0], "corridor.semantic_drift")).toHaveProperty("doubleValue");
    const tools = spans.filter((s) => s.name.startsWith("execute_tool "));
    const withTool = events.filter((e): e is Extract<CTFEvent, { type: "step" }> => e.type === "step" && !!e.tool);
    expect(tools.map((t) => t.name)).toEqual(withTool.map((e) => `execute_tool ${e.tool}`));
    for (const t of tools) {
      expect(attr(t, "gen_ai.operation.name")).toEqual({ stringValue: "execute_tool" });
      expect(attr(t, "gen_ai.tool.name")).toHaveProperty("stringValue");
      expect(attr(t, "gen_ai.tool.call.id")).toHaveProperty("stringValue");
    }
  });

  it("a rewind is a span event on the rewound step plus a link to the step it returns to", () => {
    const rewound = spans.filter((s) => s.events?.some((e) => e.name === "corridor.rewind"));
    expect(rewound).toHaveLength(1);
    const link = rewound[0].links![0];
    const target = spans.find((s) => s.spanId === link.spanId)!;
    const rw = events.find((e) => e.type === "rewind");
    expect(attr(target, "corridor.step.index")).toEqual({ intValue: String(rw?.type === "rewind" ? rw.to_step : -1) });
    expect(attr(rewound[0], "corridor.step.rewound")).toEqual({ boolValue: true });
  });
});

describe("diff loading", () => {
  it("the fast diff loader (status lines skipped) gives the same sides as the full loader", async () => {
    const { diffSide, loadDiffSide, loadTrace } = await import("@rtt/ctf");
    for (const s of ["steady", "flaky"]) {
      const path = join(TRACES, `boiling-point-${s}.ctf`);
      const fast = await loadDiffSide(path);
      const full = diffSide(await loadTrace(path));
      expect({ ...fast, issues: [] }).toEqual({ ...full, issues: [] });
      expect(fast.issues).toEqual([]);
    }
  });
});
