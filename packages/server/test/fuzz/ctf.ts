/**
 * Corridor Trace File inputs: a valid trace from the real runtime (support/ctf-trace.ts, as ctf.test.ts builds
 * it), then one line-level mutation; and live sessions that append a trace in chunks.
 */
import type { CTFEvent } from "@rtt/ctf";
import fc from "fast-check";
import { makeTrace, searchStep } from "../support/ctf-trace.js";
import { deepArrays, deepObjects, type Json, longString, MAX_DEPTH } from "./json-tools.js";
import type { Expect } from "./sessions.js";

export interface TraceBase {
  steps: number;
  rewindAt: number;
  observationBytes: number;
  footer: boolean;
}

export const traceBaseArb: fc.Arbitrary<TraceBase> = fc.record({
  steps: fc.integer({ min: 1, max: 25 }),
  rewindAt: fc.integer({ min: 0, max: 30 }),
  observationBytes: fc.constantFrom(1, 10, 200),
  footer: fc.constant(true),
});

/** The events of a valid trace (a rewind when `rewindAt` falls inside it, a footer when asked). */
export function traceEvents(b: TraceBase, taskId = "fuzz-task"): CTFEvent[] {
  return makeTrace(b.steps, {
    taskId,
    task: "fuzz the corridor",
    step: searchStep(b.observationBytes),
    rewind: b.rewindAt >= 2 ? { at: b.rewindAt, to: b.rewindAt - 1 } : undefined,
    footer: b.footer,
  });
}

export type TraceMutation =
  | { op: "pristine"; trailingNewline: boolean; crlf: boolean }
  | { op: "deep-extra"; line: number; depth: number; kind: "array" | "object" }
  | { op: "wrong-type"; line: number; field: number; value: Json }
  | { op: "drop-field"; line: number; field: number }
  | { op: "truncate-last"; fraction: number }
  | { op: "no-trailing-newline" }
  | { op: "bom" }
  | { op: "swap-lines"; a: number; b: number }
  | { op: "duplicate-line"; line: number }
  | { op: "drop-line"; line: number }
  | { op: "step-id"; line: number; value: number }
  | { op: "huge-line"; line: number; bytes: number }
  | { op: "duplicate-key"; line: number; same: boolean }
  | { op: "surrogate"; line: number; escape: string }
  | { op: "bad-utf8"; line: number; bytes: number[] }
  | { op: "blank-lines"; every: number }
  | { op: "id"; id: string };

const scalar: fc.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 10 }),
  fc.constant([] as Json),
  fc.constant({} as Json),
);

/** Trace ids: valid ones (letters, digits, . _ -, ≤ 128) and the rest. */
export const TRACE_IDS = [
  ".",
  "..",
  "-a",
  "_a",
  "a/b",
  "a\\b",
  "a b",
  "a%2Fb",
  "é",
  "😀",
  "a".repeat(128),
  "a".repeat(129),
  "a.ctf",
  "a..b",
  "CON",
  "a\u0000b",
  "",
];

const line = fc.nat();
export const traceMutationArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant("pristine" as const), trailingNewline: fc.boolean(), crlf: fc.boolean() }),
  },
  fc.record({
    op: fc.constant("deep-extra" as const),
    line,
    depth: fc.constantFrom(3, 50, 63, 64, 100, 10_000),
    kind: fc.constantFrom<"array" | "object">("array", "object"),
  }),
  fc.record({ op: fc.constant("wrong-type" as const), line, field: fc.nat(), value: scalar }),
  fc.record({ op: fc.constant("drop-field" as const), line, field: fc.nat() }),
  fc.record({ op: fc.constant("truncate-last" as const), fraction: fc.double({ min: 0, max: 0.999, noNaN: true }) }),
  fc.constant({ op: "no-trailing-newline" as const }),
  fc.constant({ op: "bom" as const }),
  fc.record({ op: fc.constant("swap-lines" as const), a: line, b: line }),
  fc.record({ op: fc.constant("duplicate-line" as const), line }),
  fc.record({ op: fc.constant("drop-line" as const), line }),
  fc.record({ op: fc.constant("step-id" as const), line, value: fc.integer({ min: -2, max: 40 }) }),
  fc.record({ op: fc.constant("huge-line" as const), line, bytes: fc.constantFrom(100_000, 1_500_000, 4_000_000) }),
  fc.record({ op: fc.constant("duplicate-key" as const), line, same: fc.boolean() }),
  fc.record({ op: fc.constant("surrogate" as const), line, escape: fc.constantFrom("\\ud800", "\\udfff", "a\\udc00") }),
  fc.record({
    op: fc.constant("bad-utf8" as const),
    line,
    bytes: fc.constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0xaf]),
  }),
  fc.record({ op: fc.constant("blank-lines" as const), every: fc.integer({ min: 1, max: 4 }) }),
  fc.record({
    op: fc.constant("id" as const),
    id: fc.oneof(fc.constantFrom(...TRACE_IDS), fc.string({ maxLength: 20 })),
  }),
) as fc.Arbitrary<TraceMutation>;

export interface TraceCase {
  base: TraceBase;
  mutation: TraceMutation;
}

export const traceCaseArb: fc.Arbitrary<TraceCase> = fc.record({ base: traceBaseArb, mutation: traceMutationArb });

export interface RenderedTrace {
  body: Buffer;
  /** `?id=` of the upload. */
  id: string;
  expect: Expect;
  what: string;
}

const enc = (s: string) => Buffer.from(s, "utf8");

/** Appends `"fz": <raw>` as the last member of a one-line JSON object (raw may be any bytes). */
function withMember(lineText: string, key: string, raw: Buffer | string): Buffer {
  return Buffer.concat([
    enc(`${lineText.slice(0, -1)},${JSON.stringify(key)}:`),
    typeof raw === "string" ? enc(raw) : raw,
    enc("}"),
  ]);
}

export function renderTrace(c: TraceCase, id: string): RenderedTrace {
  const events = traceEvents(c.base);
  const lines: Array<string | Buffer> = events.map((e) => JSON.stringify(e));
  const m = c.mutation;
  const n = lines.length;
  const idx = (k: number) => k % n;
  const text = (k: number) => lines[idx(k)] as string;
  let expect: Expect = "any";
  let eol = "\n";
  let trailing = true;
  let what: string = m.op;
  let uploadId = id;
  switch (m.op) {
    case "pristine":
      expect = "accept";
      trailing = m.trailingNewline;
      if (m.crlf) eol = "\r\n";
      what = `pristine${m.crlf ? " CRLF" : ""}${m.trailingNewline ? "" : " no final newline"}`;
      break;
    case "deep-extra": {
      const raw = m.kind === "array" ? deepArrays(m.depth) : deepObjects(m.depth);
      lines[idx(m.line)] = withMember(text(m.line), "fz", raw);
      expect = 1 + m.depth > MAX_DEPTH ? "reject" : "any";
      what = `deep ${m.kind} ×${m.depth} on line ${idx(m.line) + 1}`;
      break;
    }
    case "wrong-type": {
      const obj = JSON.parse(text(m.line)) as Record<string, Json>;
      const keys = Object.keys(obj);
      const key = keys[m.field % keys.length];
      obj[key] = m.value;
      lines[idx(m.line)] = JSON.stringify(obj);
      what = `line ${idx(m.line) + 1} ${key}=${JSON.stringify(m.value)}`;
      break;
    }
    case "drop-field": {
      const obj = JSON.parse(text(m.line)) as Record<string, Json>;
      const keys = Object.keys(obj);
      const key = keys[m.field % keys.length];
      delete obj[key];
      lines[idx(m.line)] = JSON.stringify(obj);
      what = `line ${idx(m.line) + 1} without ${key}`;
      break;
    }
    case "truncate-last": {
      const last = lines[n - 1] as string;
      lines[n - 1] = last.slice(0, Math.floor(last.length * m.fraction));
      trailing = false;
      expect = "reject";
      what = `last line cut at ${(lines[n - 1] as string).length}/${last.length}`;
      break;
    }
    case "no-trailing-newline":
      trailing = false;
      expect = "accept";
      break;
    case "bom":
      lines[0] = `\ufeff${lines[0]}`;
      break;
    case "swap-lines": {
      const a = idx(m.a);
      const b = idx(m.b);
      [lines[a], lines[b]] = [lines[b], lines[a]];
      what = `swap lines ${a + 1} and ${b + 1}`;
      break;
    }
    case "duplicate-line":
      lines.splice(idx(m.line), 0, text(m.line));
      what = `line ${idx(m.line) + 1} twice`;
      break;
    case "drop-line":
      lines.splice(idx(m.line), 1);
      what = `without line ${idx(m.line) + 1}`;
      break;
    case "step-id": {
      const obj = JSON.parse(text(m.line)) as Record<string, Json>;
      const key = "step_id" in obj ? "step_id" : "parent_step_id" in obj ? "parent_step_id" : "from_step";
      obj[key] = m.value;
      lines[idx(m.line)] = JSON.stringify(obj);
      what = `line ${idx(m.line) + 1} ${key}=${m.value}`;
      break;
    }
    case "huge-line":
      lines[idx(m.line)] = withMember(text(m.line), "fz_pad", JSON.stringify(longString("y", m.bytes)));
      what = `line ${idx(m.line) + 1} + ${m.bytes} bytes`;
      break;
    case "duplicate-key": {
      const obj = JSON.parse(text(m.line)) as Record<string, Json>;
      const key = Object.keys(obj)[0];
      const value = m.same ? obj[key] : "other";
      lines[idx(m.line)] = withMember(text(m.line), key, JSON.stringify(value));
      expect = "reject";
      what = `line ${idx(m.line) + 1} "${key}" twice (${m.same ? "same" : "different"} value)`;
      break;
    }
    case "surrogate":
      lines[idx(m.line)] = withMember(text(m.line), "fz", `"${m.escape}"`);
      what = `line ${idx(m.line) + 1} ${m.escape}`;
      break;
    case "bad-utf8":
      lines[idx(m.line)] = withMember(text(m.line), "fz", Buffer.concat([enc('"'), Buffer.from(m.bytes), enc('"')]));
      // A trace is UTF-8 text: the bytes cannot be stored as sent.
      expect = "reject";
      what = `line ${idx(m.line) + 1} bytes ${m.bytes.map((b) => b.toString(16)).join(" ")}`;
      break;
    case "blank-lines":
      for (let i = lines.length; i >= 0; i -= m.every) lines.splice(i, 0, i % 2 ? "" : "  \t");
      expect = "accept";
      break;
    case "id":
      uploadId = m.id;
      expect = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(m.id) ? "accept" : "reject";
      what = `id ${JSON.stringify(m.id)}`;
      break;
  }
  const parts: Buffer[] = [];
  lines.forEach((l, i) => {
    parts.push(typeof l === "string" ? enc(l) : l);
    if (i < lines.length - 1 || trailing) parts.push(enc(eol));
  });
  return { body: Buffer.concat(parts), id: uploadId, expect, what };
}

/** A live trace: its events appended in chunks, one line of one chunk possibly mutated. */
export interface LiveCase {
  base: TraceBase;
  chunks: number;
  /** Mutation applied to a line of the appended text (pristine = all valid). */
  mutation: TraceMutation;
  /** Viewers connected before the first append (they hear the events live). */
  earlyViewers: number;
}

export const liveCaseArb: fc.Arbitrary<LiveCase> = fc.record({
  base: fc.record({
    steps: fc.integer({ min: 1, max: 20 }),
    rewindAt: fc.integer({ min: 0, max: 25 }),
    observationBytes: fc.constantFrom(1, 50),
    footer: fc.boolean(),
  }),
  chunks: fc.integer({ min: 1, max: 5 }),
  mutation: fc.oneof(
    { weight: 2, arbitrary: fc.constant({ op: "pristine" as const, trailingNewline: true, crlf: false }) },
    {
      weight: 3,
      arbitrary: traceMutationArb.filter(
        (m) => m.op !== "id" && m.op !== "truncate-last" && m.op !== "no-trailing-newline",
      ),
    },
  ),
  earlyViewers: fc.integer({ min: 0, max: 2 }),
});

/** The appended bodies of a live case: the (mutated) trace text cut into `chunks` runs of whole lines. */
export function renderLive(c: LiveCase): { bodies: Buffer[]; what: string } {
  const r = renderTrace({ base: c.base, mutation: c.mutation }, "live");
  const text = r.body;
  // Split on LF into `chunks` runs of lines.
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++)
    if (text[i] === 0x0a) {
      lines.push(text.subarray(start, i + 1));
      start = i + 1;
    }
  if (start < text.length) lines.push(Buffer.concat([text.subarray(start), enc("\n")]));
  const per = Math.max(1, Math.ceil(lines.length / c.chunks));
  const bodies: Buffer[] = [];
  for (let i = 0; i < lines.length; i += per) bodies.push(Buffer.concat(lines.slice(i, i + per)));
  return { bodies, what: `live ${r.what} in ${bodies.length} appends${c.base.footer ? "" : " (no footer)"}` };
}
