import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_JSON_DEPTH } from "@rtt/core";
import { type CTFLine, loadDiffSide, loadTraceText, parseCTFText, readCTFFile, validateCTFText } from "@rtt/ctf";
import { afterAll, describe, expect, it } from "vitest";
import { lines, SPEC } from "./helpers.js";

const header = { type: "header", task_id: "t-1", timestamp: 100, corridor_spec: SPEC };
const step = {
  type: "step",
  step_id: 0,
  parent_step_id: null,
  timestamp: 101,
  action: "a",
  observation: "o",
  tool: "search",
  latency_ms: 10,
};
/** A step whose extra field nests `levels` objects deep. */
const deepStep = (levels: number) =>
  `{"type":"step","step_id":1,"parent_step_id":0,"timestamp":102,"action":"a","observation":"o","tool":"search","latency_ms":10,"x":${'{"a":'.repeat(levels)}1${"}".repeat(levels)}}`;

const dir = mkdtempSync(join(tmpdir(), "rtt-ctf-reader-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const collect = (text: string) => {
  const out: CTFLine[] = [];
  parseCTFText(text, (l) => out.push(l));
  return out;
};

describe("line parser guards", () => {
  it("refuses a line nested deeper than MAX_JSON_DEPTH with a located issue, and keeps the others", () => {
    const text = `${lines(header, step)}${deepStep(20_000)}\n${lines({ ...step, step_id: 2, parent_step_id: 0, timestamp: 103 })}`;
    const out = collect(text);
    expect(out.map((l) => l.line)).toEqual([1, 2, 3, 4]);
    expect(out[2].value).toBeUndefined();
    expect(out[2].issue).toMatchObject({ line: 3, code: "too_deep", severity: "error" });
    expect(out[2].issue?.message).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
    expect(out[3].value).toMatchObject({ step_id: 2 });
    // The limit itself is allowed: the line's own object is level 1, so 62 more fit under "x".
    expect(collect(`${deepStep(MAX_JSON_DEPTH - 1)}\n`)[0].issue).toBeUndefined();
    expect(collect(`${deepStep(MAX_JSON_DEPTH)}\n`)[0].issue?.code).toBe("too_deep");
  });

  it("refuses duplicate keys with the key and its JSON pointer", () => {
    const dup = '{"type":"step","step_id":0,"parent_step_id":null,"timestamp":101,"step_id":5}';
    const [l] = collect(`${dup}\n`);
    expect(l.issue).toMatchObject({ line: 1, field: "/step_id", code: "duplicate_key", severity: "error" });
    expect(l.issue?.message).toBe('duplicate key "step_id" at /step_id');
    const nested = '{"type":"q","meta":{"list":[1,{"k":1,"\\u006b":2}]}}';
    expect(collect(`\n${nested}\n`)[0].issue).toMatchObject({ line: 2, field: "/meta/list/1/k" });
    // Colons and look-alike keys inside strings are not members.
    const tricky = '{"type":"step","observation":"a:b:\\"c\\":d","o":{"observation":1},"x":"http://h:1"}';
    expect(collect(`${tricky}\n`)[0].issue).toBeUndefined();
  });

  it("reads a leading UTF-8 byte order mark as nothing (as POST /sessions does)", () => {
    const text = `\uFEFF${lines(header, step)}`;
    expect(collect(text).map((l) => l.issue)).toEqual([undefined, undefined]);
    expect(validateCTFText(text, { requireFooter: false }).errors).toBe(0);
    // Only at the start of the text: a mark inside is not whitespace in JSON.
    expect(collect(`${lines(header)}\uFEFF${lines(step)}`)[1].issue?.code).toBe("invalid_json");
  });

  it("guards files too: readCTFFile, loadTraceText and the diff loader", async () => {
    const file = join(dir, "deep.ctf");
    const text = `\uFEFF${lines(header, step)}${deepStep(20_000)}\n`;
    writeFileSync(file, text);
    const issues: string[] = [];
    await readCTFFile(file, (l) => l.issue && issues.push(`${l.line}:${l.issue.code}`));
    expect(issues).toEqual(["3:too_deep"]);
    expect(loadTraceText(text).issues.map((i) => `${i.line}:${i.code}`)).toEqual(["3:too_deep", "3:missing_footer"]);
    const side = await loadDiffSide(file);
    expect(side.issues.map((i) => `${i.line}:${i.code}`)).toContain("3:too_deep");
  });
});
