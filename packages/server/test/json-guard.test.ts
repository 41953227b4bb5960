import {
  findDuplicateKey,
  findNonFinite,
  inspectParsed,
  jsonProblem,
  MAX_JSON_DEPTH,
  mayRepeatKey,
  scanJson,
} from "@rtt/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PARSE_FIRST_BYTES, prepareSession } from "../src/ingest/prepare.js";
import { json, makeV2 } from "./support/fixtures.js";

const scan = (s: string) => scanJson(Buffer.from(s));

describe("scanJson", () => {
  it("finds nesting deeper than the limit outside strings only", () => {
    const deep = `${"[".repeat(MAX_JSON_DEPTH + 1)}${"]".repeat(MAX_JSON_DEPTH + 1)}`;
    expect(scan(deep).deepAt).toBe(MAX_JSON_DEPTH);
    expect(scan(`${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}`).deepAt).toBe(-1);
    expect(scan(JSON.stringify({ a: "[".repeat(500), b: '\\"[[[[' })).deepAt).toBe(-1);
  });

  it("lets a realistic session log skip the non-finite walk", () => {
    expect(scan(json(makeV2("G-1", { samples: 400 })))).toMatchObject({ deepAt: -1, mayOverflow: false });
    expect(scan(JSON.stringify(makeV2("G-2"), null, 2)).mayOverflow).toBe(false);
    expect(scan('{"ok":true,"no":false,"n":null,"x":1.5e-7,"y":-2E+12}').mayOverflow).toBe(false);
  });

  it("flags every literal that can parse to Infinity", () => {
    for (const lit of ["1e999", "-1E+400", "1.8e308", "1e0309", `1${"0".repeat(310)}`, `1${"0".repeat(215)}e99`]) {
      expect(Number.isFinite(JSON.parse(lit))).toBe(false);
      expect(scan(`{"a":[0,${lit}]}`).mayOverflow, lit.slice(0, 20)).toBe(true);
      expect(scan(`[ ${lit} ]`).mayOverflow, lit.slice(0, 20)).toBe(true);
      expect(scan(lit).mayOverflow, lit.slice(0, 20)).toBe(true);
    }
  });

  it("never misses a non-finite number (property)", () => {
    const digits = (min: number, max: number) =>
      fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(""));
    const literal = fc
      .tuple(
        fc.boolean(),
        fc.integer({ min: 1, max: 9 }),
        digits(0, 320),
        fc.option(digits(1, 20)),
        fc.option(fc.tuple(fc.constantFrom("e", "E"), fc.constantFrom("", "+", "-"), digits(1, 4))),
      )
      .map(
        ([neg, lead, rest, frac, exp]) =>
          `${neg ? "-" : ""}${lead}${rest}${frac === null ? "" : `.${frac}`}${exp === null ? "" : exp.join("")}`,
      );
    fc.assert(
      fc.property(fc.array(literal, { minLength: 1, maxLength: 5 }), fc.constantFrom("", " ", "\n  "), (lits, ws) => {
        const text = `{"v":[${lits.join(`,${ws}`)}]}`;
        const value = JSON.parse(text);
        if (findNonFinite(value) !== undefined) expect(scan(text).mayOverflow).toBe(true);
        expect(inspectParsed(value).nonFinite).toBe(findNonFinite(value) !== undefined);
      }),
      { numRuns: 3000 },
    );
  });
});

/** A JSON tree whose objects are entry lists, so a key can repeat (which a JS object cannot express). */
type Tree = number | string | Tree[] | { entries: Array<[string, Tree]> };
const keyText = fc.constantFrom("a", "b", "a:b", "", "~/", 'q"');
const stringText = fc.constantFrom("x", "http://h:1", "a\\:", ':"{', "\u00e9:");
const tree: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
  t: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.integer(),
    stringText,
    fc.array(tie("t"), { maxLength: 3 }),
    fc.record({ entries: fc.array(fc.tuple(keyText, tie("t")), { maxLength: 4 }) }),
  ),
})).t;
/** Keys are sometimes written with \u escapes: duplicates are about decoded keys. */
const writeString = (s: string, escaped: boolean) =>
  escaped
    ? `"${[...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")}"`
    : JSON.stringify(s);
function write(t: Tree, escaped: boolean, ws: string): string {
  if (typeof t === "number") return String(t);
  if (typeof t === "string") return writeString(t, escaped);
  if (Array.isArray(t)) return `[${t.map((x) => write(x, escaped, ws)).join(`,${ws}`)}]`;
  return `{${t.entries.map(([k, v]) => `${writeString(k, escaped)}${ws}:${ws}${write(v, escaped, ws)}`).join(",")}}`;
}
/** Pointer of the first repeated key in document order, by brute force. */
function firstDuplicate(t: Tree, path = ""): string | undefined {
  if (Array.isArray(t)) {
    for (let i = 0; i < t.length; i++) {
      const d = firstDuplicate(t[i], `${path}/${i}`);
      if (d !== undefined) return d;
    }
  } else if (typeof t === "object") {
    const seen = new Set<string>();
    for (const [k, v] of t.entries) {
      const at = `${path}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      if (seen.has(k)) return at;
      seen.add(k);
      const d = firstDuplicate(v, at);
      if (d !== undefined) return d;
    }
  }
  return undefined;
}

describe("duplicate keys", () => {
  it("scanJson counts the key/value pairs written (colons outside strings)", () => {
    expect(scan('{"a:b":1,"c":{"d":[":",{"e":2}]}}').pairs).toBe(4);
    expect(scan('{"a":1,"a":2}').pairs).toBe(2);
  });

  it("jsonProblem and findDuplicateKey find exactly the repeated keys, with their pointer (property)", () => {
    fc.assert(
      fc.property(tree, fc.boolean(), fc.constantFrom("", " "), (t, escaped, ws) => {
        const text = write(t, escaped, ws);
        const value = JSON.parse(text);
        const expected = firstDuplicate(t);
        expect(findDuplicateKey(text)?.path, text).toBe(expected);
        const problem = jsonProblem(text, value);
        expect(problem?.path, text).toBe(expected);
        if (expected !== undefined) expect(problem?.code).toBe("duplicate_key");
        // The byte scan agrees: more pairs written than members parsed iff a key repeated.
        const shape = inspectParsed(value);
        expect(scan(text).pairs > shape.members, text).toBe(expected !== undefined);
        // So does the walk of the parsed value, which may only say "maybe" where a colon was written escaped.
        if (expected !== undefined || !escaped) expect(mayRepeatKey(text, shape), text).toBe(expected !== undefined);
      }),
      { numRuns: 3000 },
    );
  });

  it("POST /sessions's preparation refuses a repeated key with its pointer", () => {
    const body = json(makeV2("DUP-1")).replace('"C":0.1,', '"C":0.1,"C":0.9,');
    const r = prepareSession(Buffer.from(body));
    expect(r).toMatchObject({ ok: false, reason: "bad_json" });
    if (r.ok) return;
    expect(r.error).toBe('duplicate key "C" at /segments/0/samples/0/C');
    expect(r.details).toEqual([{ path: "/segments/0/samples/0/C", message: 'duplicate key "C"' }]);
    expect(prepareSession(Buffer.from(json(makeV2("DUP-2")))).ok).toBe(true);
  });
});

describe("POST /sessions's preparation, parsed first or scanned first", () => {
  const deep = `${"[".repeat(MAX_JSON_DEPTH + 1)}${"]".repeat(MAX_JSON_DEPTH + 1)}`;
  /** The body padded with trailing spaces to either side of PARSE_FIRST_BYTES (JSON allows them). */
  const sized = (body: string, large: boolean) =>
    Buffer.from(large ? body.padEnd(PARSE_FIRST_BYTES + 1, " ") : body, "utf8");
  const error = (body: Buffer) => {
    const r = prepareSession(body);
    return r.ok ? "accepted" : r.error;
  };

  it("refuses nesting first, at the same byte, whatever else is wrong with the body", () => {
    const at = (byte: number) => `JSON nested deeper than ${MAX_JSON_DEPTH} levels (at byte ${byte})`;
    for (const large of [false, true]) {
      expect(error(sized(deep, large))).toBe(at(MAX_JSON_DEPTH));
      expect(error(sized(`${deep},`, large))).toBe(at(MAX_JSON_DEPTH)); // not JSON either
      expect(error(Buffer.concat([sized(deep, large), Buffer.from([0xff])]))).toBe(at(MAX_JSON_DEPTH)); // nor UTF-8
      const repeated = `{"a":1,"a":${deep}}`; // and a repeated key
      expect(error(sized(repeated, large))).toBe(at(scan(repeated).deepAt));
    }
  });

  it("gives the same verdicts on repeated keys and non-finite numbers", () => {
    const valid = json(makeV2("SIZE-1"));
    const cases = [
      valid,
      valid.replace('"C":0.1,', '"C":0.1,"C":0.2,'),
      valid.replace('"C":0.1,', '"C":1e999,'),
      valid.replace('"scenario":', '"note":"a\\u003ab","scenario":'),
    ];
    for (const body of cases) expect(error(sized(body, true)), body.slice(0, 40)).toBe(error(sized(body, false)));
    expect(error(sized(cases[1]!, false))).toMatch(/^duplicate key "C"/);
    expect(error(sized(cases[2]!, false))).toBe("session log does not match the schema");
  });
});
