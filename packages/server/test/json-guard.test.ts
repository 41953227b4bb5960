import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findNonFinite, MAX_JSON_DEPTH, scanJson } from "../src/ingest/json-guard.js";
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
    expect(scan(json(makeV2("G-1", { samples: 400 })))).toEqual({ deepAt: -1, mayOverflow: false });
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
      }),
      { numRuns: 3000 },
    );
  });
});
