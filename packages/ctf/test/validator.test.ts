import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CTFIssue, createCorridor, MemorySink, validateCTFFile, validateCTFText } from "@rtt/ctf";
import { describe, expect, it, onTestFinished } from "vitest";
import { fakeClock, lines, SPEC } from "./helpers.js";

const header = { type: "header", task_id: "task-9af3", timestamp: 100, corridor_spec: SPEC };
const step = (id: number, parent: number | null, t: number, extra: object = {}) => ({
  type: "step",
  step_id: id,
  parent_step_id: parent,
  timestamp: t,
  action: `act ${id}`,
  observation: "ok",
  tool: "search",
  latency_ms: 10,
  ...extra,
});
const q = (id: number) => ({
  type: "q",
  step_id: id,
  semantic_drift: 0.1,
  tool_entropy: 0,
  latency_drift: 0,
  branching_pressure: 0,
  retry_ratio: 0,
});
const status = (id: number, s = "stable") => ({ type: "status", step_id: id, corridor_status: s, violations: [] });
const rewind = (from: number, to: number, t: number) => ({
  type: "rewind",
  from_step: from,
  to_step: to,
  timestamp: t,
});
const footer = (s = "stable", t = 200) => ({ type: "footer", timestamp: t, final_status: s });

/** Validates with recomputation off: these tests are about the structural rules. */
const check = (...events: object[]) => validateCTFText(lines(...events), { recompute: false }).issues;
const codes = (issues: CTFIssue[]) => issues.map((i) => `${i.line}:${i.field}:${i.code}`);

const good = [header, step(0, null, 101), q(0), status(0), step(1, 0, 102), q(1), status(1), footer()];

describe("CTF validator rules (each with a positive and a negative trace)", () => {
  it("accepts a well-formed trace", () => {
    expect(check(...good)).toEqual([]);
  });

  it("schema: names the line and the field", () => {
    expect(codes(check(header, { ...step(0, null, 101), latency_ms: "slow" }, footer()))).toEqual([
      "2:/latency_ms:schema",
    ]);
    const missing = check(header, { type: "q", step_id: 0 }, footer());
    expect(missing.map((i) => i.field)).toContain("/semantic_drift");
    expect(codes(check(header, { type: "banana" }, footer()))).toEqual(["2:/type:unknown_type"]);
    expect(codes(check(header, [1, 2], footer()))).toEqual(["2::not_object"]);
    expect(codes(check(header, { ...status(0), corridor_status: "wobbly" }, footer()))[0]).toBe(
      "2:/corridor_status:schema",
    );
  });

  it("header first and only once", () => {
    expect(codes(check(step(0, null, 101), header, footer()))).toEqual([
      "1:/type:header_first",
      "2:/type:header_first",
    ]);
    expect(codes(check(header, header, footer()))).toEqual(["2:/type:duplicate_header"]);
  });

  it("footer last and present", () => {
    expect(codes(check(header, footer(), step(0, null, 300)))).toContain("3:/type:after_footer");
    expect(codes(check(header, step(0, null, 101)))).toEqual(["2::missing_footer"]);
    expect(validateCTFText(lines(header, step(0, null, 101)), { requireFooter: false }).issues).toEqual([]);
    expect(codes(check())).toEqual(["1::empty"]);
  });

  it("chronological timestamps", () => {
    expect(codes(check(header, step(0, null, 99), footer()))).toEqual(["2:/timestamp:time_order"]);
    expect(check(header, step(0, null, 100), footer(undefined, 100))).toEqual([]); // equal is fine
  });

  it("step_id increases, except after a rewind where it must exceed to_step", () => {
    expect(codes(check(header, step(5, null, 101), step(3, 5, 102), footer()))).toEqual(["3:/step_id:step_order"]);
    expect(
      codes(
        check(
          header,
          step(0, null, 101),
          step(1, 0, 102),
          step(2, 1, 103),
          rewind(2, 0, 104),
          step(1, 0, 105),
          footer(),
        ),
      ),
    ).toEqual([]); // reusing a rewound id is allowed
    expect(
      codes(
        check(
          header,
          step(0, null, 101),
          step(1, 0, 102),
          step(2, 1, 103),
          rewind(2, 1, 104),
          step(1, 0, 105),
          footer(),
        ),
      ),
    ).toEqual(["6:/step_id:duplicate_step_id"]);
    expect(
      codes(check(header, step(0, null, 101), step(4, 0, 102), rewind(4, 0, 103), step(0, null, 104), footer())),
    ).toContain("5:/step_id:duplicate_step_id");
  });

  it("parents exist, are valid, and only the first step is a root", () => {
    expect(codes(check(header, step(0, null, 101), step(1, 7, 102), footer()))).toEqual([
      "3:/parent_step_id:unknown_step",
    ]);
    expect(codes(check(header, step(0, null, 101), step(1, null, 102), footer()))).toEqual([
      "3:/parent_step_id:second_root",
    ]);
    expect(
      codes(check(header, step(0, null, 101), step(1, 0, 102), rewind(1, 0, 103), step(2, 1, 104), footer())),
    ).toEqual(["5:/parent_step_id:step_rewound"]);
    expect(check(header, step(0, null, 101), step(1, 0, 102), step(2, 0, 103), footer())).toEqual([]); // a fork
  });

  it("q and status refer to existing, valid steps", () => {
    expect(codes(check(header, q(0), footer()))).toEqual(["2:/step_id:unknown_step"]);
    expect(codes(check(header, step(0, null, 101), status(3), footer()))).toEqual(["3:/step_id:unknown_step"]);
    expect(codes(check(header, step(0, null, 101), step(1, 0, 102), rewind(1, 0, 103), q(1), footer()))).toEqual([
      "5:/step_id:step_rewound",
    ]);
  });

  it("rewind goes from the head to an ancestor on the current lineage", () => {
    const base = [header, step(0, null, 101), step(1, 0, 102), step(2, 1, 103)];
    expect(check(...base, rewind(2, 0, 104), footer())).toEqual([]);
    expect(codes(check(...base, rewind(1, 0, 104), footer()))).toEqual(["5:/from_step:rewind_from"]);
    expect(codes(check(...base, rewind(2, 2, 104), footer()))).toEqual(["5:/to_step:rewind_target"]);
    expect(codes(check(...base, rewind(2, 9, 104), footer()))).toEqual(["5:/to_step:rewind_target"]);
    // After a fork, the old branch is not on the current lineage.
    expect(codes(check(...base, step(3, 0, 104), rewind(3, 2, 105), footer()))).toEqual(["6:/to_step:rewind_target"]);
  });

  it("footer.final_status is the last status", () => {
    expect(check(header, step(0, null, 101), status(0, "warning"), footer("warning"))).toEqual([]);
    expect(codes(check(header, step(0, null, 101), status(0, "warning"), footer("stable")))).toEqual([
      "4:/final_status:final_status",
    ]);
  });

  it("invalid JSON in the middle is an error on its line; later lines are still checked", () => {
    const text = `${lines(header, step(0, null, 101))}{"type":\n${lines(step(1, 7, 102), footer())}`;
    expect(codes(validateCTFText(text, { recompute: false }).issues)).toEqual([
      "3::invalid_json",
      "4:/parent_step_id:unknown_step",
    ]);
  });

  it("a truncated last line is reported as truncated; earlier events stay readable", async () => {
    const path = join(tmpdir(), `ctf-trunc-${process.pid}.ctf`);
    onTestFinished(() => rmSync(path, { force: true }));
    const whole = lines(...good.slice(0, -1));
    writeFileSync(path, `${whole}{"type":"step","step_id":2,"par`);
    const events: string[] = [];
    const rep = await validateCTFFile(path, { recompute: false, onEvent: (e) => events.push(e.type) });
    expect(rep.truncated).toBe(true);
    expect(codes(rep.issues)).toEqual(["8::truncated", "8::missing_footer"]);
    expect(events).toEqual(["header", "step", "q", "status", "step", "q", "status"]);
    // A complete last line without a newline is fine.
    writeFileSync(path, lines(...good).trimEnd());
    expect((await validateCTFFile(path, { recompute: false })).issues).toEqual([]);
  });
});

describe("recomputation warnings", () => {
  const produce = () => {
    const sink = new MemorySink();
    const c = createCorridor({ taskId: "t", spec: SPEC, writer: sink, task: "quantum turbulence", now: fakeClock() });
    c.step({ action: "search('quantum turbulence')", observation: "", tool: "search", latencyMs: 100 });
    c.step({ action: "calc(2)", observation: "", tool: "calc", latencyMs: 300 });
    c.end();
    return sink.events.map((e): Record<string, unknown> => ({ ...e }));
  };

  it("runtime output recomputes exactly", () => {
    expect(validateCTFText(lines(...produce())).issues).toEqual([]);
  });

  it("a doctored q or status is flagged as a warning with line and field", () => {
    const ev = produce();
    ev[5] = { ...ev[5], tool_entropy: 0.5 }; // q of step 1
    ev[6] = { ...ev[6], corridor_status: "stable", violations: [] }; // status of step 1 (latency drift 2 > 1)
    ev[7] = { ...ev[7], final_status: "stable" };
    const rep = validateCTFText(lines(...ev));
    expect(rep.errors).toBe(0);
    expect(codes(rep.issues)).toEqual(["6:/tool_entropy:q_mismatch", "7:/corridor_status:status_mismatch"]);
  });
});
