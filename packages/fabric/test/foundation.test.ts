import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canonicalText, hashOf, parseJsonText, readJsonFile, writeFileAtomic } from "@rtt/fabric";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { expectFabricError } from "./fabric-error.js";

const dir = mkdtempSync(join(tmpdir(), "rtt-fabric-foundation-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("canonical JSON (RFC 8785)", () => {
  it("matches the RFC's own example (appendix, 'primitive data types')", () => {
    const input =
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}';
    expect(canonicalText(JSON.parse(input))).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it("gives the same hash whatever the key order and whitespace", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(hashOf(JSON.parse(JSON.stringify(reversed, null, 3)))).toBe(hashOf(obj));
      }),
    );
  });

  it("refuses what JSON cannot hold", () => {
    expectFabricError(() => canonicalText(Number.NaN), "RTT_FABRIC_INVALID", "canonicaliz");
    expectFabricError(() => canonicalText(undefined), "RTT_FABRIC_INVALID", "not a JSON value");
  });
});

describe("reading fabric documents", () => {
  it("skips a UTF-8 BOM", () => {
    expect(parseJsonText('\ufeff{"a":1}', "x.json")).toEqual({ a: 1 });
  });

  it("names the file and the problem", () => {
    expectFabricError(() => parseJsonText('{"a":', "over.json"), "RTT_FABRIC_NOT_JSON", "over.json: invalid JSON");
    expectFabricError(() => parseJsonText('{"a":1,"a":2}', "dup.json"), "RTT_FABRIC_NOT_JSON", 'duplicate key "a"');
    expectFabricError(
      () => parseJsonText('{"x":[{"__proto__":{"polluted":true}}]}', "p.json"),
      "RTT_FABRIC_NOT_JSON",
      "forbidden key at /x/0/__proto__",
    );
    expectFabricError(
      () => parseJsonText("[".repeat(100) + "]".repeat(100), "deep.json"),
      "RTT_FABRIC_NOT_JSON",
      "deeper",
    );
    expectFabricError(() => readJsonFile(join(dir, "missing.json")), "RTT_FABRIC_UNREADABLE", "no such file");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("atomic writes", () => {
  it("replaces the file whole and leaves no temp file behind", () => {
    const path = join(dir, "sub", "f.json");
    writeFileAtomic(path, "one");
    writeFileAtomic(path, Buffer.from("two"), { durable: false });
    expect(readFileSync(path, "utf8")).toBe("two");
    expect(readdirSync(join(dir, "sub"))).toEqual(["f.json"]);
  });
});
