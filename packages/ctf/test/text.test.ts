import { TfIdfCorpus, termCounts } from "@rtt/ctf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const STOP = new Set("a an and are as at be by for from in is it of on or that the this to was with".split(" "));
/** The definition in q_metrics.md, written the obvious way. */
function reference(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
    if (t.length < 2 || STOP.has(t)) continue;
    m.set(t, (m.get(t) ?? 0) + 1);
  }
  return m;
}

describe("termCounts", () => {
  it("matches the regex definition on arbitrary Unicode text", () => {
    const alphabet = fc.constantFrom(..."ab Zé9_-'() .ÄİßΩж字😀\u0301\n\t".split(""), "𝒜", "😀");
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }), (chars) => {
        const text = chars.join("");
        expect([...termCounts(text)]).toEqual([...reference(text)]);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), (text) => {
        expect([...termCounts(text)]).toEqual([...reference(text)]);
      }),
    );
  });

  it("drops stop words and 1-char tokens", () => {
    expect([...termCounts("The search('Quantum turbulence') of a vortex x 42")]).toEqual([
      ["search", 1],
      ["quantum", 1],
      ["turbulence", 1],
      ["vortex", 1],
      ["42", 1],
    ]);
  });
});

describe("TfIdfCorpus", () => {
  it("smoothed idf and cosine as documented", () => {
    const c = new TfIdfCorpus();
    c.add(["quantum", "turbulence"]);
    c.add(["quantum"]);
    expect(c.idf("quantum")).toBeCloseTo(Math.log(3 / 3) + 1, 12);
    expect(c.idf("turbulence")).toBeCloseTo(Math.log(3 / 2) + 1, 12);
    expect(c.idf("unseen")).toBeCloseTo(Math.log(3) + 1, 12);
    const a = new Map([
      ["quantum", 1],
      ["turbulence", 1],
    ]);
    expect(c.cosine(a, a)).toBeCloseTo(1, 12);
    expect(c.cosine(a, new Map())).toBe(0);
    c.remove(["quantum"]);
    expect(c.size).toBe(1);
    expect(c.idf("quantum")).toBeCloseTo(Math.log(2 / 2) + 1, 12);
  });
});
