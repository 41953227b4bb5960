import { createCorridor, MemorySink, validateCTFText } from "@rtt/ctf";
import { describe, expect, it } from "vitest";
import { fakeClock, SPEC } from "./helpers.js";

const H = (p: number[]) => -p.reduce((s, x) => s + x * Math.log2(x), 0);

describe("Q-metrics (hand-computed, q_metrics.md example)", () => {
  it("tool_entropy, latency_drift, retry_ratio, branching_pressure along one lineage", () => {
    const sink = new MemorySink();
    const c = createCorridor({
      taskId: "t",
      spec: SPEC,
      writer: sink,
      task: "find quantum turbulence papers",
      now: fakeClock(),
    });
    const s0 = c.step({
      action: "search('quantum turbulence')",
      observation: "3 hits",
      tool: "search",
      latencyMs: 100,
    });
    expect(s0.q).toMatchObject({ tool_entropy: 0, latency_drift: 0, retry_ratio: 0, branching_pressure: 0 });
    const s1 = c.step({
      action: "search('quantum  turbulence') ",
      observation: "3 hits",
      tool: "search",
      latencyMs: 300,
    });
    expect(s1.q.latency_drift).toBe(2); // |300-100|/100
    expect(s1.q.retry_ratio).toBe(0.5); // whitespace-normalised repeat
    expect(s1.q.tool_entropy).toBe(0);
    const s2 = c.step({ action: "open('paper 1')", observation: "pdf", tool: "browser", latencyMs: 200 });
    expect(s2.q.tool_entropy).toBeCloseTo(H([2 / 3, 1 / 3]), 6);
    expect(s2.q.tool_entropy).toBe(0.918296);
    expect(s2.q.latency_drift).toBe(0); // baseline (100+300)/2 = 200
    expect(s2.q.retry_ratio).toBe(0.333333);
    expect(s2.q.branching_pressure).toBe(0);
  });

  it("semantic_drift is 1 - TF-IDF cosine with the task (hand-computed)", () => {
    const sink = new MemorySink();
    const c = createCorridor({ taskId: "t", spec: SPEC, writer: sink, task: "quantum turbulence", now: fakeClock() });
    // Corpus = {task, action}: N=2. Both share "quantum" (df=2, idf=ln(3/3)+1=1); "turbulence" only in task
    // (df=1, idf=ln(3/2)+1), "weather" only in the action (same idf).
    const r = c.step({ action: "quantum weather", observation: "", tool: "search", latencyMs: 10 });
    const w = Math.log(3 / 2) + 1;
    const cos = 1 / Math.sqrt((1 + w * w) * (1 + w * w));
    expect(r.q.semantic_drift).toBeCloseTo(1 - cos, 6);
    const same = c.step({ action: "Quantum turbulence!", observation: "", tool: "search", latencyMs: 10 });
    expect(same.q.semantic_drift).toBe(0);
    const off = c.step({ action: "bake a cake", observation: "", tool: "search", latencyMs: 10 });
    expect(off.q.semantic_drift).toBe(1);
  });

  it("without a task the first action is the reference", () => {
    const c = createCorridor({ taskId: "t", spec: SPEC, writer: new MemorySink(), now: fakeClock() });
    expect(c.step({ action: "plan the trip", observation: "", latencyMs: 1 }).q.semantic_drift).toBe(0);
    expect(c.step({ action: "order pizza", observation: "", latencyMs: 1 }).q.semantic_drift).toBe(1);
  });

  it("a pluggable embedder replaces TF-IDF and is named in the header", () => {
    const sink = new MemorySink();
    const embedder = { name: "len2", embed: (t: string) => [t.trim().length, 1] };
    const c = createCorridor({ taskId: "t", spec: SPEC, writer: sink, task: "abcd", embedder, now: fakeClock() });
    const r = c.step({ action: "abcd", observation: "", latencyMs: 1 });
    expect(r.q.semantic_drift).toBe(0);
    expect(sink.events[0]).toMatchObject({ type: "header", embedder: "len2" });
    // The validator cannot reproduce a foreign embedder's drift, so it does not flag it.
    const rep = validateCTFText(`${sink.text()}{"type":"footer","timestamp":1736281000,"final_status":"stable"}\n`);
    expect(rep.issues).toEqual([]);
  });
});

describe("rewind recomputation", () => {
  it("drops the abandoned branch from lineage metrics and counts it as an open branch", () => {
    const sink = new MemorySink();
    const c = createCorridor({ taskId: "t", spec: SPEC, writer: sink, task: "quantum turbulence", now: fakeClock() });
    const first = c.step({ action: "search('quantum turbulence')", observation: "", tool: "search", latencyMs: 100 }); // 0
    c.step({ action: "calc(1+1)", observation: "", tool: "calc", latencyMs: 100 }); // 1
    const before = c.step({ action: "shell('ls')", observation: "", tool: "shell", latencyMs: 900 }); // 2
    expect(before.q.tool_entropy).toBeCloseTo(Math.log2(3), 6);
    const r = c.rewind(0);
    expect(r.stepId).toBe(0);
    // Same lineage as right after step 0, plus the abandoned branch now hanging off it.
    expect(r.q).toEqual({ ...first.q, branching_pressure: 1 });
    expect(first.q.semantic_drift).toBe(0.290703); // "search" is the only term not in the task
    const next = c.step({ action: "calc(1+1)", observation: "", tool: "calc", latencyMs: 100 }); // 3, repeats step 1
    expect(next.stepId).toBe(3);
    expect(next.q.tool_entropy).toBe(1);
    expect(next.q.retry_ratio).toBe(0.5); // a retry of the rewound step 1
    expect(next.q.branching_pressure).toBe(1);
    // A fork from step 0 leaves step 3 hanging as a second open branch.
    const fork = c.step({
      action: "search('turbulence')",
      observation: "",
      tool: "search",
      latencyMs: 100,
      parentStepId: 0,
    });
    expect(fork.q.branching_pressure).toBe(2);
    const types = sink.events.map((e) => e.type);
    expect(types.slice(10, 13)).toEqual(["rewind", "q", "status"]);
    c.end();
    expect(validateCTFText(sink.text()).issues).toEqual([]);
  });
});

describe("status escalation", () => {
  const spec = { ...SPEC, max_latency_drift: 0.5, max_retry_ratio: 0.4, max_steps: 6 };
  const flat = { name: "flat", embed: () => [1, 0] }; // drift always 0, isolates the other metrics
  it("stable -> warning -> critical (two metrics) -> stable -> halted at max_steps", () => {
    const c = createCorridor({ taskId: "t", spec, writer: new MemorySink(), embedder: flat, now: fakeClock() });
    const step = (action: string, latencyMs: number) => c.step({ action, observation: "", tool: "x", latencyMs });
    expect(step("a1", 100)).toMatchObject({ corridor_status: "stable", violations: [] });
    expect(step("a2", 200)).toMatchObject({ corridor_status: "warning", violations: ["latency_drift"] });
    expect(step("a2", 150)).toMatchObject({ corridor_status: "stable", violations: [] }); // retry 1/3 <= 0.4
    expect(step("a2", 600)).toMatchObject({
      corridor_status: "critical",
      violations: ["latency_drift", "retry_ratio"],
    });
    expect(step("a3", 150)).toMatchObject({ corridor_status: "stable" }); // retry 2/5 = 0.4 is not over
    expect(step("a4", 150)).toMatchObject({ corridor_status: "halted", violations: ["max_steps"] });
    expect(() => step("a5", 150)).toThrow(/halted/);
    expect(c.end()).toBe("halted");
  });

  it("one metric over threshold for 3 consecutive lineage steps escalates to critical", () => {
    const c = createCorridor({ taskId: "t", spec, writer: new MemorySink(), embedder: flat, now: fakeClock() });
    const step = (latencyMs: number) => c.step({ action: `a${latencyMs}`, observation: "", tool: "x", latencyMs });
    step(100);
    expect(step(200).corridor_status).toBe("warning");
    expect(step(400).corridor_status).toBe("warning");
    expect(step(800)).toMatchObject({ corridor_status: "critical", violations: ["latency_drift"] });
  });
});

describe("semantic_drift reads the step's action and observation (q_metrics.md)", () => {
  const w = Math.log(3 / 2) + 1;
  it("hand-computed: the observation's terms count, as the spec's example says", () => {
    const c = createCorridor({ taskId: "t", spec: SPEC, writer: new MemorySink(), task: "quantum turbulence" });
    // Text "search quantum turbulence" against the task: quantum, turbulence idf 1; search idf w.
    const r = c.step({ action: "search quantum", observation: "turbulence", tool: "search", latencyMs: 10 });
    expect(r.q.semantic_drift).toBeCloseTo(1 - 2 / (Math.sqrt(2) * Math.sqrt(2 + w * w)), 6);
    expect(r.q.semantic_drift).toBe(0.290703);
    // The action alone would be 1 − 1/(1 + w²): the spec's other number, which the runtime must not give.
    expect(r.q.semantic_drift).not.toBeCloseTo(1 - 1 / (1 + w * w), 3);
  });

  it("two steps with the same action drift apart when what they observed does", () => {
    const run = (observation: string) => {
      const c = createCorridor({ taskId: "t", spec: SPEC, writer: new MemorySink(), task: "boil water for tea" });
      return c.step({ action: "heat('kettle')", observation, tool: "stove", latencyMs: 100 }).q.semantic_drift;
    };
    const onTask = run("water is boiling, tea ready");
    const offTask = run("smoke alarm, kitchen on fire");
    expect(onTask).toBeLessThan(offTask);
    expect(offTask).toBe(1); // no term shared with the task
  });

  it("without a task the root step's action and observation are the reference; the validator agrees", () => {
    const sink = new MemorySink();
    const c = createCorridor({ taskId: "t", spec: SPEC, writer: sink, now: fakeClock() });
    expect(c.step({ action: "plan", observation: "trip to lisbon", latencyMs: 1 }).q.semantic_drift).toBe(0);
    // Shares only the root's observation terms: an action-only reference ("plan") would make this 1.
    expect(c.step({ action: "book", observation: "flight to lisbon", latencyMs: 1 }).q.semantic_drift).toBeLessThan(1);
    c.end();
    expect(validateCTFText(sink.text()).issues).toEqual([]);
  });

  it("a pluggable embedder is given the same text", () => {
    const seen: string[] = [];
    const embedder = {
      name: "spy",
      embed: (t: string) => {
        seen.push(t);
        return [1, 0];
      },
    };
    const c = createCorridor({ taskId: "t", spec: SPEC, writer: new MemorySink(), task: "tea", embedder });
    c.step({ action: "heat", observation: "warm", latencyMs: 1 });
    expect(seen).toEqual(["tea", "heat warm"]);
  });
});
