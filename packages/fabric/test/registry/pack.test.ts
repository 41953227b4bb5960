import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { canonicalBytes, sha256Hex } from "../../src/canonical.js";
import { crc32c } from "../../src/crc32c.js";
import { FabricError } from "../../src/errors.js";
import { parseJsonText } from "../../src/json-file.js";
import { gc } from "../../src/registry/gc.js";
import { LutReader } from "../../src/registry/lut.js";
import { PACK_HEADER_LEN, RECORD_HEAD } from "../../src/registry/pack.js";
import { rebuildIndexFile } from "../../src/registry/packed.js";
import { Registry } from "../../src/registry/registry.js";
import { verifyRegistry } from "../../src/registry/verify.js";

const root = mkdtempSync(join(tmpdir(), "rtt-pack-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (opts?: { packInMemoryMax?: number }) => new Registry(join(root, `r${++n}`), opts);

/** Appends values to the pack as one batch (what ingest does, without the file scan). */
function packValues(reg: Registry, values: unknown[], batch = Number.POSITIVE_INFINITY): string[] {
  return reg.writing(() => {
    const { writer, base } = reg.packed.openWriter();
    let entries = base;
    let added: Array<{ hash: string; offset: number; len: number }> = [];
    const seen = new Set<string>();
    const hashes: string[] = [];
    try {
      for (const v of values) {
        const bytes = canonicalBytes(v);
        const hash = sha256Hex(bytes);
        hashes.push(hash);
        if (seen.has(hash) || reg.packed.has(hash)) continue;
        seen.add(hash);
        added.push({ hash, offset: writer.append(Buffer.from(hash, "hex"), bytes), len: bytes.length });
        if (added.length >= batch) {
          entries = reg.packed.commit(writer, entries, added);
          added = [];
          seen.clear();
        }
      }
      reg.packed.commit(writer, entries, added);
    } finally {
      writer.close();
    }
    return hashes;
  });
}

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof FabricError ? { code: e.code, message: e.message } : { code: "other", message: String(e) };
  }
  return undefined;
};

/** The same JSON with every object's keys in another order. */
function reordered(v: unknown, flip: boolean): unknown {
  if (Array.isArray(v)) return v.map((x) => reordered(x, flip));
  if (v === null || typeof v !== "object") return v;
  const keys = Object.keys(v).sort();
  if (flip) keys.reverse();
  return Object.fromEntries(keys.map((k) => [k, reordered((v as Record<string, unknown>)[k], !flip)]));
}

describe("content identity", () => {
  it("is the same hash, stored once, whatever the key order and whitespace of the text", () => {
    const reg = fresh();
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.integer({ min: 0, max: 8 }), (value, indent) => {
        fc.pre(!JSON.stringify(value).includes("__proto__"));
        const a = parseJsonText(JSON.stringify(reordered(value, false)), "a");
        const b = parseJsonText(JSON.stringify(reordered(value, true), null, indent), "b");
        const pa = reg.put(a, { durable: false });
        const pb = reg.put(b, { durable: false });
        expect(pb.hash).toBe(pa.hash);
        expect(pb.created).toBe(false);
        expect(reg.getBytes(pa.hash)).toEqual(canonicalBytes(value));
      }),
      { numRuns: 200 },
    );
  });
});

describe("pack + index.lut", () => {
  it("round-trips any set of objects, in any batching, through pread and whole-buffer reads alike", () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 50 }),
        (values, batch) => {
          const reg = fresh();
          const hashes = packValues(reg, values, batch);
          const pread = new Registry(reg.dir, { packInMemoryMax: 0 });
          for (let i = 0; i < values.length; i++) {
            const want = canonicalBytes(values[i]);
            expect(reg.getBytes(hashes[i] as string)).toEqual(want);
            expect(pread.getBytes(hashes[i] as string)).toEqual(want);
          }
          expect(reg.packed.info().objects).toBe(new Set(hashes).size);
          // The index is a function of the pack alone.
          const lut = readFileSync(reg.layout.lut);
          if (values.length) {
            reg.writing(() => rebuildIndexFile(reg.packed));
            expect(readFileSync(reg.layout.lut)).toEqual(lut);
          }
          expect(verifyRegistry(reg).problems).toEqual([]);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("answers absent hashes with nothing, including ones sharing 8 bytes with a stored key", () => {
    const reg = fresh();
    const [h] = packValues(reg, [{ a: 1 }, { b: 2 }, { c: 3 }]) as [string];
    const near = `${h.slice(0, 16)}${"0".repeat(48)}`;
    expect(reg.packed.locate(near)).toBeUndefined();
    expect(reg.has(near)).toBe(false);
    expect(reg.getBytes("f".repeat(64))).toBeUndefined();
    expect(reg.packed.locate(h)).toBeDefined();
  });

  it("finds every one of several keys that share their first 8 bytes", () => {
    const reg = fresh();
    // Forged hash fields (the lookup path trusts the record's hash; verify would flag the bodies).
    const prefix = "ab".repeat(8);
    const keys = ["1", "2", "3"].map((d) => `${prefix}${d.repeat(48)}`);
    reg.writing(() => {
      const { writer, base } = reg.packed.openWriter();
      const added = keys.map((k, i) => ({
        hash: k,
        offset: writer.append(Buffer.from(k, "hex"), Buffer.from(`{"i":${i}}`)),
        len: 7,
      }));
      reg.packed.commit(writer, base, added);
      writer.close();
    });
    for (const [i, k] of keys.entries()) expect(reg.packed.read(k)?.toString()).toBe(`{"i":${i}}`);
    expect(reg.packed.locate(`${prefix}${"4".repeat(48)}`)).toBeUndefined();
  });

  it("refuses a truncated index.lut, naming it; nothing stored changes", () => {
    const reg = fresh();
    packValues(reg, [{ a: 1 }, { b: 2 }]);
    const pack = readFileSync(reg.layout.pack);
    truncateSync(reg.layout.lut, readFileSync(reg.layout.lut).length - 5);
    const err = codeOf(() => LutReader.open(reg.layout.lut));
    expect(err?.code).toBe("RTT_FABRIC_CORRUPT");
    expect(err?.message).toContain(reg.layout.lut);
    expect(err?.message).toMatch(/truncated/);
    const v = verifyRegistry(reg);
    expect(v.ok).toBe(false);
    expect(v.problems[0]?.where).toBe(reg.layout.lut);
    expect(readFileSync(reg.layout.pack)).toEqual(pack);
    // The pack alone is enough to get it back.
    reg.writing(() => rebuildIndexFile(reg.packed));
    expect(verifyRegistry(reg).ok).toBe(true);
  });

  it("names the first corrupt object by hash and offset when a pack byte flips", () => {
    const reg = fresh();
    const hashes = packValues(reg, [{ first: true }, { second: true }, { third: true }]);
    const pack = readFileSync(reg.layout.pack);
    const loc = reg.packed.locate(hashes[1] as string) as { offset: number; len: number };
    const at = loc.offset + RECORD_HEAD + 3;
    pack[at] = (pack[at] as number) ^ 0x20;
    writeFileSync(reg.layout.pack, pack);
    const v = verifyRegistry(reg);
    expect(v.ok).toBe(false);
    expect(v.problems[0]).toMatchObject({ hash: hashes[1], offset: loc.offset, code: "RTT_FABRIC_CORRUPT" });
    expect(v.problems[0]?.message).toContain(`offset ${loc.offset}`);
    const fresh2 = new Registry(reg.dir);
    const err = codeOf(() => fresh2.getBytes(hashes[1] as string));
    expect(err?.code).toBe("RTT_FABRIC_CORRUPT");
    expect(err?.message).toContain(hashes[1]);
    // The neighbours still read.
    expect(fresh2.getBytes(hashes[0] as string)).toEqual(canonicalBytes({ first: true }));
  });

  it("names an object whose bytes do not match its hash (CRC good, content swapped)", () => {
    const reg = fresh();
    const [h] = packValues(reg, [{ x: 1 }]) as [string];
    // Rewrite the record with a body of the same length and a matching CRC: only the SHA-256 check can tell.
    const pack = readFileSync(reg.layout.pack);
    const body = Buffer.from('{"x":2}');
    body.copy(pack, PACK_HEADER_LEN + RECORD_HEAD);
    pack.writeUInt32BE(
      crc32c(pack.subarray(PACK_HEADER_LEN, PACK_HEADER_LEN + RECORD_HEAD + body.length)),
      PACK_HEADER_LEN + RECORD_HEAD + body.length,
    );
    writeFileSync(reg.layout.pack, pack);
    const v = verifyRegistry(new Registry(reg.dir));
    expect(v.problems[0]?.message).toMatch(/bytes hash to/);
    expect(v.problems[0]?.hash).toBe(h);
  });

  it("ignores an uncommitted tail (a torn append), which the next writer cuts off", () => {
    const reg = fresh();
    const [h] = packValues(reg, [{ kept: 1 }]) as [string];
    const committed = readFileSync(reg.layout.pack).length;
    appendFileSync(reg.layout.pack, Buffer.from([0, 0, 1, 0, 9, 9, 9]));
    const v = verifyRegistry(new Registry(reg.dir));
    expect(v.ok).toBe(true);
    expect(v.notes.join("\n")).toMatch(/7 uncommitted bytes/);
    expect(new Registry(reg.dir).getBytes(h)).toEqual(canonicalBytes({ kept: 1 }));
    packValues(reg, [{ more: 2 }]);
    expect(readFileSync(reg.layout.pack).length).toBeGreaterThan(committed);
    const after = verifyRegistry(new Registry(reg.dir));
    expect(after).toMatchObject({ ok: true, notes: [] });
  });

  it("reads one record without loading the pack, and never serves bytes of a pack gc replaced meanwhile", () => {
    const reg = fresh();
    const hashes = packValues(reg, [{ a: 1 }, { b: 2 }, { c: 3 }]);
    const reader = new Registry(reg.dir);
    expect(reader.getBytes(hashes[0] as string)).toEqual(canonicalBytes({ a: 1 }));
    // Another process rewrites the pack (gc keeps only what index.json names: nothing here, so all of it goes).
    writeFileSync(reg.layout.index, JSON.stringify({ "keep@1.0.0": hashes[1] }));
    expect(gc(reg, { graceMs: 0 }).packed.removed).toBe(2);
    const err = codeOf(() => reader.getBytes(hashes[1] as string));
    expect(err?.message).toMatch(/replaced .* read again/);
    expect(reader.getBytes(hashes[1] as string)).toEqual(canonicalBytes({ b: 2 }));
    expect(reader.getBytes(hashes[0] as string)).toBeUndefined();
  });

  it("keeps loose puts without fsync readable, and sync() makes them durable", () => {
    const reg = fresh();
    const hashes = Array.from({ length: 20 }, (_, i) => reg.put({ loose: i }, { durable: false }).hash);
    expect(reg.put({ loose: 3 }, { durable: false }).created).toBe(false);
    reg.sync();
    for (const [i, h] of hashes.entries()) expect(reg.get(h)).toEqual({ loose: i });
    expect(verifyRegistry(reg)).toMatchObject({ ok: true, counts: { loose: 20 } });
  });

  it("rebuilds a stale or missing index in memory (gc killed between its renames)", () => {
    const reg = fresh();
    const hashes = packValues(reg, [{ a: 1 }, { b: 2 }]);
    rmSync(reg.layout.lut);
    const r = new Registry(reg.dir);
    expect(r.getBytes(hashes[1] as string)).toEqual(canonicalBytes({ b: 2 }));
    expect(r.packed.info().stale).toMatch(/missing/);
    expect(verifyRegistry(r).ok).toBe(true);
    packValues(r, [{ c: 3 }]);
    expect(verifyRegistry(new Registry(reg.dir))).toMatchObject({ ok: true, notes: [] });
  });
});
