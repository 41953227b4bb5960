import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  diffSide,
  diffSides,
  diffTraces,
  loadDiffSide,
  loadDiffSides,
  loadDiffSideText,
  loadTrace,
  validateCTFFile,
  validateCTFText,
} from "@rtt/ctf";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM helper shared with bench/ctf/run.mjs
import { generateTrace } from "../../../bench/ctf/gen.mjs";
import { unpackSide } from "../src/diff.js";
import { matchQ, matchStatus, matchStep, Q_VALUES, qEvent, readByteLines } from "../src/fast-lines.js";
import { packSide } from "../src/packed-side.js";

// The byte-level fast paths of validate and diff (fast-lines.ts) against the general paths (JSON.parse, line guards,
// schema), which stay what validateCTFText and loadTrace run: same reports, same diffs, on the bench's generated
// traces and on lines built to miss the templates by one detail.
const dir = mkdtempSync(join(tmpdir(), "rtt-ctf-fast-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const a = join(dir, "a.ctf");
const b = join(dir, "b.ctf");
generateTrace(a, { events: 3000 });
generateTrace(b, { events: 3000, divergeAtStep: 400 });

const plain = (r: object) => ({ ...r, validator: undefined });
const sideJSON = (s: object & { q: Float64Array }) => JSON.stringify({ ...s, q: Array.from(s.q) });

const buf = (s: string) => Buffer.from(s, "utf8");
const step = (rest: string) =>
  `{"type":"step","step_id":1,"parent_step_id":0,"timestamp":1736280000.03,"action":"a","observation":"o"${rest}}`;

describe("fast line templates", () => {
  it("build exactly what JSON.parse builds, and refuse anything else", () => {
    const hits = [
      '{"type":"q","step_id":3,"semantic_drift":0.943878,"tool_entropy":1.584963,"latency_drift":0,"branching_pressure":2,"retry_ratio":1}',
      '{"type":"q","step_id":12345678901234567,"semantic_drift":0.1234567890123456789,"tool_entropy":10.5,"latency_drift":0.000001,"branching_pressure":0,"retry_ratio":0.3}',
    ];
    for (const l of hits) {
      const x = buf(l);
      expect(matchQ(x, 0, x.length)).toBe(true);
      expect(qEvent()).toEqual(JSON.parse(l));
      expect(Q_VALUES[0]).toBe(JSON.parse(l).step_id);
    }
    for (const l of [
      '{"type":"q","step_id":3,"semantic_drift":1.5,"tool_entropy":0,"latency_drift":0,"branching_pressure":0,"retry_ratio":0}',
      '{"type":"q","step_id":3,"semantic_drift":0,"tool_entropy":0,"latency_drift":0,"branching_pressure":0.5,"retry_ratio":0}',
      '{"type":"q","step_id":3,"semantic_drift":0,"tool_entropy":-1,"latency_drift":0,"branching_pressure":0,"retry_ratio":0}',
      '{"type":"q","step_id":3,"semantic_drift":0,"tool_entropy":1e2,"latency_drift":0,"branching_pressure":0,"retry_ratio":0}',
      '{"type":"q","step_id":3.5,"semantic_drift":0,"tool_entropy":0,"latency_drift":0,"branching_pressure":0,"retry_ratio":0}',
      '{"type":"q","step_id":03,"semantic_drift":0,"tool_entropy":0,"latency_drift":0,"branching_pressure":0,"retry_ratio":0}',
      '{"type":"q","step_id":3,"semantic_drift":0,"tool_entropy":0,"latency_drift":0,"branching_pressure":0,"retry_ratio":0,"x":1}',
      '{"type":"q", "step_id":3,"semantic_drift":0,"tool_entropy":0,"latency_drift":0,"branching_pressure":0,"retry_ratio":0}',
    ]) {
      const x = buf(l);
      expect(matchQ(x, 0, x.length), l).toBe(false);
    }
    for (const l of [
      '{"type":"status","step_id":4,"corridor_status":"warning","violations":["semantic_drift"]}',
      '{"type":"status","step_id":4,"corridor_status":"stable","violations":[]}',
      '{"type":"status","step_id":4,"corridor_status":"halted","violations":["retry_ratio","max_steps"]}',
    ]) {
      const x = buf(l);
      expect(matchStatus(x, 0, x.length)).toEqual(JSON.parse(l));
    }
    for (const l of [
      '{"type":"status","step_id":4,"corridor_status":"fine","violations":[]}',
      '{"type":"status","step_id":4,"corridor_status":"warning","violations":["retry_ratio","retry_ratio"]}',
      '{"type":"status","step_id":4,"corridor_status":"warning","violations":["nope"]}',
      '{"type":"status","step_id":4,"corridor_status":"warning","violations":[]} ',
    ]) {
      const x = buf(l);
      expect(matchStatus(x, 0, x.length), l).toBeNull();
    }
    for (const l of [
      step(',"tool":"search","latency_ms":162'),
      step(',"tool":null,"latency_ms":0.5'),
      step(',"latency_ms":7'),
      step(',"tool":"suche \u00fcber \u{1F600}","latency_ms":7'),
      '{"type":"step","step_id":0,"parent_step_id":null,"timestamp":0,"action":"","observation":"","tool":"t","latency_ms":1}',
    ]) {
      const x = buf(l);
      const got = matchStep(x, 0, x.length);
      expect(got).toEqual(JSON.parse(l));
      expect(Object.keys(got ?? {})).toEqual(Object.keys(JSON.parse(l)));
    }
    for (const l of [
      '{"type":"step","step_id":1,"parent_step_id":0,"timestamp":1,"action":"say \\"hi\\"","observation":"o","latency_ms":1}',
      step(',"tool":"search","latency_ms":162,"latency_ms":163'),
      step(',"tool":"search","latency_ms":-1'),
      step(',"tool":5,"latency_ms":1'),
      step(',"latency_ms":1,"tool":"x"'),
    ]) {
      const x = buf(l);
      expect(matchStep(x, 0, x.length), l).toBeNull();
    }
  });

  it("readByteLines splits like the string reader: \\r\\n, a BOM, blank lines, a last line without newline", async () => {
    const file = join(dir, "lines.txt");
    writeFileSync(file, `\uFEFFone\r\n\n  \ntwo \u00e9\nthree`);
    for (const chunk of [1, 2, 3, 64]) {
      const got: string[] = [];
      const n = await readByteLines(
        file,
        (x, s, e, line, terminated) => got.push(`${line}:${x.toString("utf8", s, e)}:${terminated}`),
        chunk,
      );
      expect(n).toBe(5);
      expect(got).toEqual(["1:one:true", "4:two \u00e9:true", "5:three:false"]);
    }
  });

  it("readByteLines reuses its two buffers: lines across chunks stay whole, kept bytes are announced before reuse", async () => {
    const want = readFileSync(b, "utf8")
      .split("\n")
      .filter((l) => l.length > 0);
    for (const chunk of [4096, 100_003]) {
      const got: string[] = [];
      let kept: { buf: Buffer; start: number; end: number } | null = null;
      let keptText = "";
      const reused: Buffer[] = [];
      await readByteLines(
        b,
        (x, s, e) => {
          got.push(x.toString("utf8", s, e));
          if (kept && kept.buf.toString("utf8", kept.start, kept.end) !== keptText)
            throw new Error("kept bytes changed");
          kept = { buf: x, start: s, end: e };
          keptText = x.toString("utf8", s, e);
        },
        chunk,
        (x) => {
          reused.push(x);
          if (kept?.buf === x)
            kept = { buf: Buffer.from(x.subarray(kept.start, kept.end)), start: 0, end: kept.end - kept.start };
        },
      );
      expect(got).toEqual(want);
      expect(new Set(reused).size).toBe(2);
    }
  });
});

describe("validate and diff on the fast paths", () => {
  it("validateCTFFile reports what validateCTFText reports, on a clean and on a damaged trace", async () => {
    const text = readFileSync(b, "utf8");
    expect(plain(await validateCTFFile(b))).toEqual(plain(validateCTFText(text, { keepDescriptions: false })));
    const lines = text.split("\n");
    const damage = (i: number, f: (l: string) => string) => {
      lines[i] = f(lines[i] as string);
    };
    damage(7, (l) => l.replace('"semantic_drift":', '"semantic_drift":2, "semantic_drift":')); // dup key, space
    damage(8, (l) => l.replace('"violations":[', '"violations":["tool_entropy","tool_entropy",')); // not unique
    damage(9, (l) => l.replace(/"action":"/, '"action":"\\u0041')); // an escape: the general path
    damage(13, (l) => l.replace(/"latency_ms":\d+/, '"latency_ms":-3')); // schema
    damage(20, (l) => l.replace(/"step_id":\d+/, '"step_id":99999')); // unknown step
    damage(31, (l) => l.replace(/"tool_entropy":[\d.]+/, '"tool_entropy":1e-3')); // exponent, recomputed mismatch
    damage(40, (l) => l.replace(/"corridor_status":"\w+"/, '"corridor_status":"halted"'));
    const bad = lines.join("\n");
    const file = join(dir, "bad.ctf");
    writeFileSync(file, bad);
    const fromFile = await validateCTFFile(file);
    expect(fromFile.errors).toBeGreaterThan(3);
    expect(plain(fromFile)).toEqual(plain(validateCTFText(bad, { keepDescriptions: false })));
  });

  it("the diff of the bench's generated traces equals the diff of the full loader (and the sides, packed or not)", async () => {
    const full = diffTraces(await loadTrace(a), await loadTrace(b));
    const [sa, sb] = await loadDiffSides(a, b);
    expect(diffSides(sa, sb)).toEqual(full);
    expect(full.same).toBe(false);
    expect(full.common_prefix).toBeGreaterThan(100);
    expect(sideJSON(await loadDiffSide(a))).toBe(sideJSON(loadDiffSideText(readFileSync(a, "utf8"))));
    // The byte path's lineage, decoded, is the full loader's (events built by JSON.parse).
    expect(sideJSON(await loadDiffSide(b))).toBe(sideJSON(diffSide(await loadTrace(b))));
    // What a worker sends back: the packed form, read by diffSides directly and by others through the arrays.
    const pack = (s: typeof sa) => {
      const lineage = s.ids.map((id, i) => ({
        id,
        ord: i,
        event: { step_id: id, tool: s.tools[i], action: s.actions[i], observation: s.observations[i] },
      }));
      // A lineage of just the fields packSide reads; its text comes from the events (the general path's way).
      return unpackSide(packSide(s.facts, lineage as unknown as Parameters<typeof packSide>[1], s.issues, s.q));
    };
    const [pa, pb] = [pack(sa), pack(sb)];
    expect(diffSides(pa, pb)).toEqual(full);
    expect(diffSides(pa, sb)).toEqual(full);
    expect(sideJSON(pb)).toBe(sideJSON(sb));
  });

  it("the diff's byte path equals its string path on hostile traces: escapes, lone surrogates, bad UTF-8, damage", async () => {
    // Traces as byte strings (one char per byte, written as latin1), so that a line can hold bytes UTF-8 cannot.
    const asBytes = (file: string) => readFileSync(file).toString("latin1");
    const utf8 = (x: string) => Buffer.from(x, "utf8").toString("latin1");
    const [la, lb] = [asBytes(a).split("\n"), asBytes(b).split("\n")];
    const stepLines = la.flatMap((l, i) => (l.startsWith('{"type":"step"') ? [i] : []));
    const at = (n: number) => stepLines[n] as number;
    const edit = (ls: string[], i: number, f: (l: string) => string) => {
      const before = ls[i] as string;
      ls[i] = f(before);
      expect(ls[i], `line ${i}`).not.toBe(before);
    };
    const escapeFirst = (l: string) =>
      l.replace(/"action":"(.)/, (_, c: string) => `"action":"\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    // The same string written two ways: A escaped (the general path), B plain (the byte path).
    edit(la, at(10), escapeFirst);
    // A line off the template by one space and one by CRLF: the general path, same values.
    edit(la, at(12), (l) => l.replace('"step_id":', ' "step_id":'));
    edit(la, at(13), (l) => `${l}\r`);
    edit(la, at(13) + 1, (l) =>
      l.replace(/"tool_entropy":([\d.]+)/, (_, x: string) => `"tool_entropy":${Number(x) * 1000}e-3`),
    );
    // Two different invalid UTF-8 bytes decode to the same U+FFFD: the same observation.
    edit(la, at(20), (l) => l.replace('"observation":"', '"observation":"\xff'));
    edit(lb, at(20), (l) => l.replace('"observation":"', '"observation":"\xfe'));
    // Non-ASCII text, the same on both sides; and on B, one more U+FFFD as valid UTF-8 against A's invalid byte.
    for (const ls of [la, lb])
      edit(ls, at(30), (l) => l.replace('"observation":"', `"observation":"${utf8("\u00fcber \u{1F600} ")}`));
    edit(la, at(31), (l) => l.replace('"observation":"', '"observation":"\xc3'));
    edit(lb, at(31), (l) => l.replace('"observation":"', `"observation":"${utf8("\uFFFD")}`));
    // The same lone surrogate on both sides, then two different ones: both are EF BF BD in UTF-8, yet they differ.
    for (const ls of [la, lb]) edit(ls, at(35), (l) => l.replace('"action":"', '"action":"\\ud800'));
    edit(la, at(40), (l) => l.replace('"action":"', '"action":"\\ud800'));
    edit(lb, at(40), (l) => l.replace('"action":"', '"action":"\\udbff'));
    // A's last line cut short: no footer, a truncated line.
    const lastA = la.findLastIndex((l) => l.length > 0);
    edit(la, lastA, (l) => l.slice(0, 20));
    la.length = lastA + 1;
    const fa = join(dir, "hostile-a.ctf");
    const fb = join(dir, "hostile-b.ctf");
    writeFileSync(fa, la.join("\n"), "latin1");
    writeFileSync(fb, lb.join("\n"), "latin1");

    // A trace without footer whose last status line is followed by more than two buffers' worth of blank lines:
    // its bytes must outlive the buffer they were read into.
    const fc = join(dir, "hostile-c.ctf");
    const lastStatus = la.findLastIndex((l) => l.startsWith('{"type":"status"'));
    writeFileSync(fc, `${la.slice(0, lastStatus + 1).join("\n")}\n${" \n".repeat(1_200_000)}`, "latin1");
    const sideC = await loadDiffSide(fc);
    expect(sideJSON(sideC)).toBe(sideJSON(loadDiffSideText(readFileSync(fc, "utf8"))));
    expect(sideC.facts.final_status).toBe(JSON.parse(la[lastStatus] as string).corridor_status);

    const bytesA = await loadDiffSide(fa);
    const bytesB = await loadDiffSide(fb);
    const textA = loadDiffSideText(readFileSync(fa, "utf8"));
    const textB = loadDiffSideText(readFileSync(fb, "utf8"));
    expect(sideJSON(bytesA)).toBe(sideJSON(textA));
    expect(sideJSON(bytesB)).toBe(sideJSON(textB));
    expect(bytesA.issues.map((i) => i.code)).toContain("truncated");
    // The general path's sides, as arrays: what every packed comparison must agree with.
    const arrays = (s: typeof bytesA) => ({ ...s, q: s.q });
    const expected = diffSides(arrays(textA), arrays(textB));
    expect(expected.divergence?.index).toBe(40);
    expect(expected.divergence?.differs).toEqual(["action"]);
    for (const [x, y] of [
      [bytesA, bytesB],
      [textA, textB],
      [bytesA, textB],
      [textA, bytesB],
    ] as const)
      expect(diffSides(x, y)).toEqual(expected);
  });
});
