import { TermVector, TfIdfCorpus, termCounts } from "@rtt/ctf";
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

  it("interned term vectors hold exactly the tokens of termCounts (ASCII fast path and Unicode path)", () => {
    const alphabet = fc.constantFrom(
      ..."ab Zé9_-'() .ÄİßΩΣж字😀\u0301\n\tTHE".split(""),
      "𝒜",
      "😀",
      "\u212A",
      "Of",
      "xY",
    );
    const text = fc.array(alphabet, { maxLength: 40 }).map((cs) => cs.join(""));
    fc.assert(
      fc.property(text, text, text, (a, b, c) => {
        const corpus = new TfIdfCorpus();
        // A shared, growing vocabulary: later texts hit terms interned by earlier ones.
        const va = corpus.vectorInto(new TermVector(), a);
        const vab = corpus.vector(a, b);
        const vc = corpus.vectorInto(new TermVector(), c, a);
        for (const [v, ref] of [
          [va, termCounts(a)],
          [vab, termCounts(b, termCounts(a))],
          [vc, termCounts(a, termCounts(c))],
        ] as const) {
          expect(v.length).toBe(ref.size);
          expect([...v.counts.subarray(0, v.length)]).toEqual([...ref.values()]);
          corpus.addVector(v);
        }
        // Same ids for the same terms: the cosine of the interned vectors equals the string-keyed one.
        expect(corpus.cosineVectors(va, vc)).toBe(corpus.cosine(termCounts(a), termCounts(a, termCounts(c))));
      }),
      { numRuns: 2000 },
    );
  });
});
