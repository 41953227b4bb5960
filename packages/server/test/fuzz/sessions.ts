/**
 * Structure-aware session inputs: a valid v1 or v2 log from the fixtures, then one mutation at a path of it.
 * Arbitraries produce small plain descriptors (readable counterexamples); `renderSession` builds the bytes.
 */
import fc from "fast-check";
import { makeV1, makeV2 } from "../support/fixtures.js";
import {
  clone,
  deepArrays,
  deepObjects,
  deleteAt,
  type Json,
  longString,
  MAX_DEPTH,
  nodes,
  type Path,
  setAt,
  spliceRaw,
} from "./json-tools.js";

/** What the answer must be: "accept" 201, "reject" 4xx, "any" no 5xx (and readable if acknowledged). */
export type Expect = "accept" | "reject" | "any";

export interface Base {
  v: 1 | 2;
  samples: number;
  operator: boolean;
  anomalies: number;
}

export type Mutation =
  | { op: "pristine"; pretty: boolean }
  | { op: "drop"; pick: number }
  | { op: "duplicate-element"; pick: number }
  | { op: "retype"; pick: number; value: Json }
  | { op: "number"; pick: number; text: string }
  | { op: "deep"; pick: number; depth: number; kind: "array" | "object" }
  | { op: "long-string"; pick: number; length: number; unit: string }
  | { op: "surrogate"; pick: number; escape: string }
  | { op: "bad-utf8"; pick: number; bytes: number[] }
  | { op: "duplicate-key"; pick: number; same: boolean }
  | { op: "bom" }
  | { op: "session-id"; id: string }
  | { op: "extra-field"; key: string; depth: number }
  | { op: "truncate"; fraction: number };

export interface SessionCase {
  base: Base;
  mutation: Mutation;
}

export interface Rendered {
  body: Buffer;
  expect: Expect;
  /** The session_id the body carries when it can be stored (for the ledger). */
  id?: string;
  what: string;
}

const NON_FINITE = ["1e999", "-1e999", "1E400", "-2e308", "1e+999"];
const ODD_NUMBERS = [
  "1e-999",
  "-0",
  "0.0000000000000000000000001",
  "123456789012345678901234567890",
  "9007199254740993",
  "1.0",
  "1e2",
  "-1",
];

/** session_id edge cases: URL-hostile, Unicode edge, length limits, reserved names. */
export const EDGE_IDS = [
  "",
  " ",
  ".",
  "..",
  "...",
  "sessions",
  "facets",
  "export",
  "a/b",
  "a\\b",
  "a?b",
  "a#b",
  "a;b",
  "%",
  "%2F",
  "%252F",
  "a%20b",
  "a b",
  "+",
  "~",
  "*",
  "&=",
  '"',
  "'",
  "<script>",
  "../../etc/passwd",
  "..%2F..%2F",
  "//",
  "/",
  "é",
  "\u0000",
  "\t",
  "\u007f",
  "\u0085",
  "\ud800",
  "x\udc00",
  "\udc00\ud800",
  "\u200b",
  "\u202e",
  "\ufeff",
  "\uffff",
  "\u{10ffff}",
  "😀",
  "CON",
  "NUL",
  "-",
  "_",
  "x".repeat(256),
  "x".repeat(257),
  "é".repeat(256),
  "€".repeat(256),
  "😀".repeat(128),
  "😀".repeat(129),
  "%".repeat(256),
  "/".repeat(256),
];

const jsonScalar: fc.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 20 }),
);
const wrongValue: fc.Arbitrary<Json> = fc.oneof(
  jsonScalar,
  fc.array(jsonScalar, { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), jsonScalar, { maxKeys: 3 }),
);

export const baseArb: fc.Arbitrary<Base> = fc.record({
  v: fc.constantFrom<1 | 2>(1, 2, 2),
  samples: fc.integer({ min: 3, max: 40 }),
  operator: fc.boolean(),
  anomalies: fc.integer({ min: 0, max: 3 }),
});

const pick = fc.nat();
export const mutationArb = fc.oneof(
  fc.record({ op: fc.constant("pristine" as const), pretty: fc.boolean() }),
  fc.record({ op: fc.constant("drop" as const), pick }),
  fc.record({ op: fc.constant("duplicate-element" as const), pick }),
  fc.record({ op: fc.constant("retype" as const), pick, value: wrongValue }),
  fc.record({ op: fc.constant("number" as const), pick, text: fc.constantFrom(...NON_FINITE, ...ODD_NUMBERS) }),
  fc.record({
    op: fc.constant("deep" as const),
    pick,
    depth: fc.constantFrom(2, 8, 40, 100, 1000, 10_000),
    kind: fc.constantFrom<"array" | "object">("array", "object"),
  }),
  fc.record({
    op: fc.constant("long-string" as const),
    pick,
    length: fc.constantFrom(300, 5000, 100_000, 2_000_000),
    unit: fc.constantFrom("x", "é", "😀", "\\u0000", "\\\\", '\\"'),
  }),
  fc.record({
    op: fc.constant("surrogate" as const),
    pick,
    escape: fc.constantFrom("\\ud800", "\\udfff", "x\\udc00y", "\\udbff\\ud800", "\\ud83d"),
  }),
  fc.record({
    op: fc.constant("bad-utf8" as const),
    pick,
    bytes: fc.constantFrom(
      [0xc3, 0x28],
      [0xff],
      [0xfe, 0xfe],
      [0xed, 0xa0, 0x80],
      [0xc0, 0xaf],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe2, 0x82],
      [0x80],
    ),
  }),
  fc.record({ op: fc.constant("duplicate-key" as const), pick, same: fc.boolean() }),
  fc.constant({ op: "bom" as const }),
  fc.record({
    op: fc.constant("session-id" as const),
    id: fc.oneof(
      fc.constantFrom(...EDGE_IDS),
      fc.string({ unit: "binary", minLength: 1, maxLength: 40 }),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 80 }),
    ),
  }),
  fc.record({
    op: fc.constant("extra-field" as const),
    key: fc.constantFrom("x_extra", "__proto__", "constructor", "prototype", "", "\u0000", "é", "hasOwnProperty"),
    depth: fc.constantFrom(1, 10, 60, 70, 10_000),
  }),
  fc.record({ op: fc.constant("truncate" as const), fraction: fc.double({ min: 0, max: 0.999, noNaN: true }) }),
) as fc.Arbitrary<Mutation>;

export const sessionCaseArb: fc.Arbitrary<SessionCase> = fc.record({ base: baseArb, mutation: mutationArb });

/** The valid document a case starts from, carrying `id`. */
export function baseDoc(b: Base, id: string): Json {
  const doc =
    b.v === 1
      ? makeV1(id, b.samples)
      : makeV2(id, {
          samples: b.samples,
          operator: b.operator ? `urn:operator:fuzz:op${b.samples % 5}` : undefined,
          anomalies: Array.from(
            { length: b.anomalies },
            (_, i) => [0.2 + 0.2 * i, "DECOHERENCE_SPIKE", 1 + i] as [number, string, number],
          ),
        });
  return JSON.parse(JSON.stringify(doc)) as Json;
}

const enc = (s: string) => Buffer.from(s, "utf8");
const describePath = (p: Path) => `/${p.join("/")}`;

/** Builds the bytes of a case. `id` is a fresh session_id (unique in the run) for the mutated document. */
export function renderSession(c: SessionCase, id: string): Rendered {
  const doc = baseDoc(c.base, id);
  const all = nodes(doc);
  const m = c.mutation;
  const at = (n: number, filter: (x: (typeof all)[number]) => boolean = () => true) => {
    const list = all.filter(filter);
    return list.length ? list[n % list.length] : all[n % all.length];
  };
  const tag = `v${c.base.v} ${m.op}`;
  switch (m.op) {
    case "pristine":
      return {
        body: enc(m.pretty ? JSON.stringify(doc, null, 2) : JSON.stringify(doc)),
        expect: "accept",
        id,
        what: tag,
      };
    case "drop": {
      const n = at(m.pick);
      const copy = clone(doc);
      deleteAt(copy, n.path);
      return { body: enc(JSON.stringify(copy)), expect: "any", id, what: `${tag} ${describePath(n.path)}` };
    }
    case "duplicate-element": {
      const n = at(m.pick, (x) => typeof x.path[x.path.length - 1] === "number");
      const copy = clone(doc);
      const parent = n.path.slice(0, -1);
      let arr: Json = copy;
      for (const k of parent) arr = (arr as Record<string | number, Json>)[k];
      if (Array.isArray(arr)) arr.splice(n.path[n.path.length - 1] as number, 0, clone(n.value));
      return { body: enc(JSON.stringify(copy)), expect: "any", id, what: `${tag} ${describePath(n.path)}` };
    }
    case "retype": {
      const n = at(m.pick);
      const copy = clone(doc);
      setAt(copy, n.path, m.value);
      // A string put in place of session_id is a valid id of its own: the ack then names that one.
      const retypedId = n.path.join("/") === "session_id";
      return {
        body: enc(JSON.stringify(copy)),
        expect: "any",
        id: retypedId ? undefined : id,
        what: `${tag} ${describePath(n.path)}`,
      };
    }
    case "number": {
      const n = at(m.pick, (x) => typeof x.value === "number");
      const nonFinite = NON_FINITE.includes(m.text);
      return {
        body: spliceRaw(doc, n.path, m.text),
        expect: nonFinite ? "reject" : "any",
        id,
        what: `${tag} ${m.text} at ${describePath(n.path)}`,
      };
    }
    case "deep": {
      const n = at(m.pick);
      const total = n.depth + m.depth;
      return {
        body: spliceRaw(doc, n.path, m.kind === "array" ? deepArrays(m.depth) : deepObjects(m.depth)),
        // Nesting past the limit is refused wherever it is; within it, the schema decides.
        expect: total > MAX_DEPTH ? "reject" : "any",
        id,
        what: `${tag} ${m.kind} ×${m.depth} at ${describePath(n.path)} (depth ${total})`,
      };
    }
    case "long-string": {
      const n = at(m.pick, (x) => typeof x.value === "string");
      // `unit` is JSON text inside a string literal (escapes included).
      return {
        body: spliceRaw(doc, n.path, `"${longString(m.unit, m.length)}"`),
        expect: "any",
        id: n.path.join("/") === "session_id" ? undefined : id,
        what: `${tag} ${m.length}×${JSON.stringify(m.unit)} at ${describePath(n.path)}`,
      };
    }
    case "surrogate": {
      const n = at(m.pick, (x) => typeof x.value === "string");
      const isId = n.path.join("/") === "session_id";
      return {
        body: spliceRaw(doc, n.path, `"${m.escape}"`),
        expect: isId ? "reject" : "any",
        id: isId ? undefined : id,
        what: `${tag} ${m.escape} at ${describePath(n.path)}`,
      };
    }
    case "bad-utf8": {
      const n = at(m.pick, (x) => typeof x.value === "string");
      const inner = Buffer.concat([enc('"ok'), Buffer.from(m.bytes), enc('"')]);
      return {
        body: spliceRaw(doc, n.path, inner),
        expect: "reject",
        id,
        what: `${tag} [${m.bytes.map((b) => b.toString(16)).join(" ")}] at ${describePath(n.path)}`,
      };
    }
    case "duplicate-key": {
      const n = at(m.pick, (x) => typeof x.path[x.path.length - 1] === "string");
      const key = n.path[n.path.length - 1] as string;
      const other: Json = m.same ? n.value : typeof n.value === "number" ? n.value + 1 : "other";
      const text = `${JSON.stringify(n.value)},${JSON.stringify(key)}:${JSON.stringify(other)}`;
      return {
        body: spliceRaw(doc, n.path, text),
        expect: "reject",
        id,
        what: `${tag} ${describePath(n.path)} (${m.same ? "same value" : "different value"})`,
      };
    }
    case "bom":
      return {
        body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), enc(JSON.stringify(doc))]),
        expect: "any",
        id,
        what: tag,
      };
    case "session-id": {
      const copy = clone(doc) as Record<string, Json>;
      copy.session_id = m.id;
      return {
        body: enc(JSON.stringify(copy)),
        expect: "any",
        id: m.id,
        what: `${tag} ${JSON.stringify(m.id).slice(0, 80)} (${m.id.length} chars)`,
      };
    }
    case "extra-field": {
      const value = deepArrays(m.depth);
      const text = JSON.stringify(doc);
      const body = enc(`{${JSON.stringify(m.key)}:${value},${text.slice(1)}`);
      return {
        body,
        expect: 1 + m.depth > MAX_DEPTH ? "reject" : "any",
        id,
        what: `${tag} ${JSON.stringify(m.key)} depth ${m.depth}`,
      };
    }
    case "truncate": {
      const full = enc(JSON.stringify(doc));
      const cut = Math.floor(full.length * m.fraction);
      return { body: full.subarray(0, cut), expect: "reject", id, what: `${tag} at ${cut}/${full.length}` };
    }
  }
}

/** An NDJSON batch: valid lines around hostile ones, each line its own case. */
export interface BatchCase {
  lines: SessionCase[];
  /** Garbage line inserted in the middle (beside the cases). */
  garbage: "none" | "text" | "truncated" | "deep" | "huge" | "bad-utf8" | "blank" | "bom";
  crlf: boolean;
}

export const batchArb: fc.Arbitrary<BatchCase> = fc.record({
  lines: fc.array(
    fc.record({
      base: baseArb,
      mutation: fc.oneof(
        { weight: 3, arbitrary: fc.record({ op: fc.constant("pristine" as const), pretty: fc.constant(false) }) },
        { weight: 2, arbitrary: mutationArb },
      ),
    }),
    { minLength: 2, maxLength: 8 },
  ),
  garbage: fc.constantFrom("none", "text", "truncated", "deep", "huge", "bad-utf8", "blank", "bom"),
  crlf: fc.boolean(),
});

export interface RenderedBatch {
  body: Buffer;
  /** Per non-blank line, in order: what must happen to it. */
  lines: Rendered[];
  what: string;
}

/** Pretty-printed documents are not NDJSON lines: batches use compact JSON only. */
export function renderBatch(b: BatchCase, nextId: () => string): RenderedBatch {
  const lines = b.lines.map((c) => {
    const compact: SessionCase =
      c.mutation.op === "pristine" ? { ...c, mutation: { op: "pristine", pretty: false } } : c;
    const r = renderSession(compact, nextId());
    // A truncation at 0 is a blank line, which a batch skips.
    return r.body.length === 0 ? { ...r, body: enc("{") } : r;
  });
  const garbage: Record<BatchCase["garbage"], Buffer | null> = {
    none: null,
    text: enc("this is not json"),
    truncated: enc('{"session_id":"cut'),
    deep: enc(deepArrays(10_000)),
    huge: enc(`{"session_id":"${"h".repeat(1_000_000)}"}`),
    "bad-utf8": Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    blank: enc("   \t"),
    bom: Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
  };
  const g = garbage[b.garbage];
  const parts: Buffer[] = lines.map((l) => l.body);
  const rendered: Rendered[] = [...lines];
  // A pretty-printed or newline-carrying body is split into several lines: those are hostile lines too.
  const mid = Math.floor(parts.length / 2);
  if (g) {
    parts.splice(mid, 0, g);
    if (b.garbage !== "blank") rendered.splice(mid, 0, { body: g, expect: "reject", what: `garbage ${b.garbage}` });
  }
  const eol = b.crlf ? "\r\n" : "\n";
  const body = Buffer.concat(parts.flatMap((p) => [p, enc(eol)]));
  return { body, lines: rendered, what: `batch of ${rendered.length} (${b.garbage}${b.crlf ? ", CRLF" : ""})` };
}
