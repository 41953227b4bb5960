import { canonicalText, FabricError, hashOf, MERGE_KEYS, mergePatch } from "@rtt/fabric";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectFabricError } from "../fabric-error.js";

describe("RFC 7396 merge patch: the RFC's appendix A vectors", () => {
  // Appendix A of RFC 7396, in its order. None has an array of named objects, so the keyed merge never applies.
  const vectors: Array<[unknown, unknown, unknown]> = [
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [
      ["a", "b"],
      ["c", "d"],
      ["c", "d"],
    ],
    [{ a: "b" }, ["c"], ["c"]],
    [{ a: "foo" }, null, null],
    [{ a: "foo" }, "bar", "bar"],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: "b", c: null }, { a: "b" }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  it.each(vectors.map((v, i) => [i + 1, ...v]))("vector %i", (_i, target, patch, result) => {
    const before = structuredClone([target, patch]);
    expect(mergePatch(target, patch)).toEqual(result);
    expect([target, patch]).toEqual(before);
  });

  it("keeps the base's key order and appends new keys in the patch's order", () => {
    expect(Object.keys(mergePatch({ z: 1, a: 2, m: 3 }, { b: 1, a: 9, y: 2 }) as object)).toEqual([
      "z",
      "a",
      "m",
      "b",
      "y",
    ]);
  });
});

describe("keyed merge of named lists", () => {
  const base = {
    tools: [
      { name: "search", description: "web search", timeout_ms: 1000 },
      { name: "read", description: "read a file" },
      { name: "write", description: "write a file" },
    ],
  };

  it("merges an item into the base item with the same name, keeping the base's order", () => {
    const out = mergePatch(base, {
      tools: [
        { name: "write", description: "write (sandboxed)" },
        { name: "search", timeout_ms: null },
      ],
    });
    expect(out).toEqual({
      tools: [
        { name: "search", description: "web search" },
        { name: "read", description: "read a file" },
        { name: "write", description: "write (sandboxed)" },
      ],
    });
  });

  it("appends new names in the patch's order and removes `$delete` items", () => {
    const out = mergePatch(base, {
      tools: [{ name: "z-new" }, { name: "read", $delete: true }, { name: "a-new", extra: { k: null, v: 1 } }],
    });
    expect(out).toEqual({
      tools: [
        { name: "search", description: "web search", timeout_ms: 1000 },
        { name: "write", description: "write a file" },
        { name: "z-new" },
        { name: "a-new", extra: { v: 1 } },
      ],
    });
  });

  it("deleting a name the base lacks is a no-op; a list the base lacks starts empty", () => {
    expect(mergePatch(base, { tools: [{ name: "nope", $delete: true }] })).toEqual(base);
    expect(
      mergePatch(
        {},
        {
          tools: [
            { name: "x", $delete: true },
            { name: "y", a: null },
          ],
        },
      ),
    ).toEqual({
      tools: [{ name: "y" }],
    });
  });

  it("merges symbol declarations by `symbol`, nested lists too", () => {
    const b = {
      symbols: [
        { symbol: "rtt://core/api/metrics", version: "1.0.0" },
        { symbol: "rtt://ui/hook/refresh", role: "consumes" },
      ],
      model: { fallbacks: [{ name: "a", weight: 1 }] },
    };
    const out = mergePatch(b, {
      symbols: [{ symbol: "rtt://core/api/metrics", version: "1.1.0" }],
      model: { fallbacks: [{ name: "b", weight: 2 }] },
    });
    expect(out).toEqual({
      symbols: [
        { symbol: "rtt://core/api/metrics", version: "1.1.0" },
        { symbol: "rtt://ui/hook/refresh", role: "consumes" },
      ],
      model: {
        fallbacks: [
          { name: "a", weight: 1 },
          { name: "b", weight: 2 },
        ],
      },
    });
  });

  it("replaces as RFC 7396 does when the patch list is empty, has a non-object or an unnamed item", () => {
    expect(mergePatch(base, { tools: [] })).toEqual({ tools: [] });
    expect(mergePatch(base, { tools: [{ name: "x" }, "y"] })).toEqual({ tools: [{ name: "x" }, "y"] });
    expect(mergePatch(base, { tools: [{ name: "x" }, { title: "y" }] })).toEqual({
      tools: [{ name: "x" }, { title: "y" }],
    });
    expect(mergePatch(base, { tools: null })).toEqual({});
  });

  it("uses `name` before `symbol` (MERGE_KEYS order)", () => {
    expect(MERGE_KEYS).toEqual(["name", "symbol"]);
    const out = mergePatch({ l: [{ name: "a", symbol: "s1", v: 1 }] }, { l: [{ name: "a", symbol: "s2", w: 2 }] });
    expect(out).toEqual({ l: [{ name: "a", symbol: "s2", v: 1, w: 2 }] });
  });

  it("refuses what it cannot merge by name, naming the file and the place", () => {
    expectFabricError(
      () => mergePatch({ tools: [{ name: "a" }, { title: "b" }] }, { tools: [{ name: "a" }] }, "p.json"),
      "RTT_FABRIC_INVALID",
      'p.json: base item 1 has no string "name"',
    );
    expectFabricError(
      () => mergePatch({ tools: [{ name: "a" }, { name: "a" }] }, { tools: [{ name: "a" }] }, "p.json"),
      "RTT_FABRIC_INVALID",
      'base list names "a" twice',
    );
    expectFabricError(
      () => mergePatch(base, { tools: [{ name: "a" }, { name: "a" }] }, "p.json"),
      "RTT_FABRIC_INVALID",
      'patch list names "a" twice (at /tools/1',
    );
    expectFabricError(
      () => mergePatch(base, { tools: [{ name: "read", $delete: false }] }, "p.json"),
      "RTT_FABRIC_INVALID",
      '"$delete" must be true',
    );
    expectFabricError(
      () => mergePatch(base, { tools: [{ name: "read", $delete: true, description: "x" }] }, "p.json"),
      "RTT_FABRIC_INVALID",
      'a "$delete" item carries only "name" and "$delete"',
    );
  });
});

describe("no prototype writes", () => {
  it("refuses a __proto__ member in the patch or the base, and Object.prototype stays clean", () => {
    const patch = JSON.parse('{"a": {"__proto__": {"polluted": true}}}');
    expectFabricError(
      () => mergePatch({ a: {} }, patch, "p.json"),
      "RTT_FABRIC_NOT_JSON",
      "forbidden key at /a/__proto__",
    );
    const baseDoc = JSON.parse('{"__proto__": {"polluted": true}}');
    expectFabricError(() => mergePatch(baseDoc, { b: 1 }), "RTT_FABRIC_NOT_JSON", "forbidden key at /__proto__");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("treats `constructor`, `toString` and `prototype` as plain members", () => {
    const out = mergePatch({}, { constructor: { a: 1 }, toString: "x", prototype: { b: null } }) as Record<
      string,
      unknown
    >;
    expect(out).toEqual({ constructor: { a: 1 }, toString: "x", prototype: {} });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});

// Values that exercise both merges: small key alphabets so patches hit base members, named lists, nulls, deletes.
const key = fc.constantFrom("a", "b", "c", "tools", "name", "x", "constructor");
const named = (value: fc.Arbitrary<unknown>) =>
  fc.array(
    fc.record(
      { name: fc.constantFrom("n1", "n2", "n3"), v: value, $delete: fc.constant(true) },
      { requiredKeys: ["name"] },
    ),
    { maxLength: 4 },
  );
const { json } = fc.letrec<{ json: unknown }>((tie) => ({
  json: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -5, max: 5 }), fc.constantFrom("s", "t")),
    fc.dictionary(key, tie("json"), { maxKeys: 4 }),
    fc.array(tie("json"), { maxLength: 3 }),
    named(tie("json")),
  ),
}));
const doc = fc.dictionary(key, json, { maxKeys: 5 });

/** The same JSON with every object's keys in reverse order. */
function reorder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reorder);
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(
    Object.entries(v)
      .reverse()
      .map(([k, x]) => [k, reorder(x)]),
  );
}

/** Either the canonical result or the error code: a refusal must be as deterministic as a merge. */
function outcome(fn: () => unknown): string {
  try {
    return canonicalText(fn());
  } catch (e) {
    if (e instanceof FabricError) return `error ${e.code}`;
    throw e;
  }
}

/** RFC 7396's pseudocode, verbatim, for patches without named lists. */
function rfc7396(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const t: Record<string, unknown> =
    target !== null && typeof target === "object" && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete t[k];
    else t[k] = rfc7396(Object.hasOwn(t, k) ? t[k] : undefined, v);
  }
  return t;
}

const hasNamedList = (v: unknown): boolean =>
  Array.isArray(v)
    ? (v.length > 0 &&
        v.every((x) => x !== null && typeof x === "object" && !Array.isArray(x) && typeof x.name === "string")) ||
      v.some(hasNamedList)
    : v !== null && typeof v === "object" && Object.values(v).some(hasNamedList);

describe("merge determinism (property)", () => {
  it("same inputs give the same bytes; the key order of either input does not change the result's hash", () => {
    fc.assert(
      fc.property(doc, doc, (base, patch) => {
        const first = outcome(() => mergePatch(base, patch));
        expect(outcome(() => mergePatch(structuredClone(base), structuredClone(patch)))).toBe(first);
        expect(outcome(() => mergePatch(reorder(base), reorder(patch)))).toBe(first);
        if (!first.startsWith("error"))
          expect(hashOf(mergePatch(reorder(base), patch))).toBe(hashOf(JSON.parse(first)));
      }),
      { numRuns: 500 },
    );
  });

  it("never mutates its inputs, and equals RFC 7396's pseudocode when no named list is involved", () => {
    fc.assert(
      fc.property(doc, doc, (base, patch) => {
        const before = canonicalText([base, patch]);
        const out = outcome(() => mergePatch(base, patch));
        expect(canonicalText([base, patch])).toBe(before);
        if (!hasNamedList(patch)) expect(out).toBe(canonicalText(rfc7396(base, patch)));
      }),
      { numRuns: 500 },
    );
  });
});
