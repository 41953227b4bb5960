import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { HASH_RE, sha256Hex } from "../canonical.js";
import { crc32c } from "../crc32c.js";
import { type FabricErrorCode, isFabricError } from "../errors.js";
import { parseJsonText } from "../json-file.js";
import { verifyDocument } from "../trust/sign.js";
import { loadTrustStore } from "../trust/store.js";
import { readIndex, readSymbols } from "./index-json.js";
import { decodeLut, type LutEntries } from "./lut.js";
import { decodePackHeader, PACK_HEADER_LEN, RECORD_HEAD, RECORD_OVERHEAD, scanRecords } from "./pack.js";
import { rebuildFromPack } from "./packed.js";
import type { Registry } from "./registry.js";

export interface VerifyProblem {
  code: FabricErrorCode;
  /** The file, or file#hash, the problem is in. */
  where: string;
  message: string;
  hash?: string;
  offset?: number;
}

export interface VerifyReport {
  ok: boolean;
  /** Corruption and broken references, the first corrupt pack object (lowest offset) first. */
  problems: VerifyProblem[];
  /** States a crash leaves that need no repair by hand (an uncommitted tail, leftover temp files, …). */
  notes: string[];
  counts: { packed: number; loose: number; indexed: number; symbols: number; signed: number };
}

export interface VerifyOptions {
  /** Signatures by unknown or revoked keys are problems (not notes), as under strict mode. */
  strict?: boolean;
}

const SIGNED = Buffer.from('"sign":{"alg":');

/**
 * `rtt registry verify`: every stored object's SHA-256 recomputed (packed and loose), every pack record's CRC32C,
 * index.lut against the pack (trailer, order, fan-out, each entry at its record, every record indexed),
 * index.json and symbols.json against their schemas and the objects they name, and every signature against the
 * trust store. Stores nothing (it holds the writer lock while it reads): an uncommitted pack tail or a stale
 * index.lut (what a kill leaves) are notes, not problems.
 */
export function verifyRegistry(registry: Registry, opts: VerifyOptions = {}): VerifyReport {
  // Holding the writer lock gives one consistent state: a commit between reading the pack and reading index.lut or
  // index.json would look like a truncated pack or a missing object. A registry on a read-only medium has no writer.
  if (!existsSync(registry.dir)) return verifyNow(registry, opts);
  try {
    return registry.writing(() => verifyNow(registry, opts));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EROFS" || code === "EACCES" || code === "EPERM") return verifyNow(registry, opts);
    throw e;
  }
}

function verifyNow(registry: Registry, opts: VerifyOptions): VerifyReport {
  const problems: VerifyProblem[] = [];
  const notes: string[] = [];
  const counts = { packed: 0, loose: 0, indexed: 0, symbols: 0, signed: 0 };
  const L = registry.layout;
  const present = new Set<string>();
  const signed: Array<{ hash: string; bytes: Buffer; where: string }> = [];
  const problem = (p: VerifyProblem) => problems.push(p);

  if (existsSync(L.pack)) checkPack(registry, present, signed, problem, notes, counts);
  else if (existsSync(L.lut))
    problem({ code: "RTT_FABRIC_CORRUPT", where: L.lut, message: "index.lut exists but pack/agents.pack does not" });

  if (existsSync(L.cas)) {
    for (const name of readdirSync(L.cas).sort()) {
      const path = join(L.cas, name);
      const hash = name.endsWith(".json") ? name.slice(0, -5) : "";
      if (name.startsWith(".tmp-")) {
        notes.push(`${path}: temp file of an interrupted write (gc removes it)`);
        continue;
      }
      if (!HASH_RE.test(hash)) {
        problem({ code: "RTT_FABRIC_CORRUPT", where: path, message: "not an object file name (<sha256>.json)" });
        continue;
      }
      const bytes = readFileSync(path);
      const actual = sha256Hex(bytes);
      counts.loose++;
      if (actual !== hash) {
        problem({ code: "RTT_FABRIC_CORRUPT", where: path, hash, message: `object bytes hash to ${actual}` });
        continue;
      }
      present.add(hash);
      if (bytes.includes(SIGNED)) signed.push({ hash, bytes, where: path });
    }
  }

  const refs = (file: string, read: () => Record<string, string | string[]>) => {
    let m: Record<string, string | string[]>;
    try {
      m = read();
    } catch (e) {
      if (!isFabricError(e)) throw e;
      problem({ code: e.code, where: file, message: e.message });
      return 0;
    }
    let n = 0;
    for (const [key, v] of Object.entries(m)) {
      n++;
      for (const hash of Array.isArray(v) ? v : [v]) {
        if (!present.has(hash))
          problem({ code: "RTT_FABRIC_NOT_FOUND", where: file, hash, message: `${key} → ${hash}: no such object` });
      }
    }
    return n;
  };
  counts.indexed = refs(L.index, () => readIndex(L.index));
  counts.symbols = refs(L.symbols, () => readSymbols(L.symbols));

  if (signed.length) {
    const store = loadTrustStore(registry.dir);
    for (const p of store.problems) notes.push(`trust store: ${typeof p === "string" ? p : JSON.stringify(p)}`);
    for (const s of signed) {
      let doc: unknown;
      try {
        doc = parseJsonText(s.bytes.toString("utf8"), s.where);
      } catch (e) {
        if (!isFabricError(e)) throw e;
        problem({ code: e.code, where: s.where, hash: s.hash, message: e.message });
        continue;
      }
      if (doc === null || typeof doc !== "object" || !("sign" in doc)) continue;
      counts.signed++;
      const r = verifyDocument(doc, store);
      if (r.status === "valid") continue;
      if (r.status === "bad_signature" || opts.strict)
        problem({ code: "RTT_FABRIC_UNTRUSTED", where: s.where, hash: s.hash, message: r.reason });
      else notes.push(`${s.where}: ${r.reason}`);
    }
  }
  problems.sort((a, b) => (a.offset ?? Number.MAX_SAFE_INTEGER) - (b.offset ?? Number.MAX_SAFE_INTEGER));
  return { ok: problems.length === 0, problems, notes, counts };
}

function checkPack(
  registry: Registry,
  present: Set<string>,
  signed: Array<{ hash: string; bytes: Buffer; where: string }>,
  problem: (p: VerifyProblem) => void,
  notes: string[],
  counts: VerifyReport["counts"],
): void {
  const L = registry.layout;
  const pack = readFileSync(L.pack);
  if (pack.length < PACK_HEADER_LEN && !existsSync(L.lut)) {
    notes.push(`${L.pack}: ${pack.length} bytes of a header never finished (the next write starts the pack over)`);
    return;
  }
  let packId: Buffer;
  try {
    packId = decodePackHeader(pack, L.pack).packId;
  } catch (e) {
    if (!isFabricError(e)) throw e;
    problem({ code: e.code, where: L.pack, offset: 0, message: e.message });
    return;
  }
  let entries: LutEntries | undefined;
  let committed = pack.length;
  if (!existsSync(L.lut)) notes.push(`${L.lut}: missing; lookups rebuild it in memory (index --rebuild writes it)`);
  else {
    try {
      const lut = decodeLut(readFileSync(L.lut), L.lut);
      if (!lut.header.packId.equals(packId))
        notes.push(
          `${L.lut}: indexes an earlier pack (gc was interrupted); lookups rebuild it, the next write saves it`,
        );
      else if (lut.header.packLen > pack.length)
        problem({
          code: "RTT_FABRIC_CORRUPT",
          where: L.pack,
          offset: pack.length,
          message: `pack is ${pack.length} bytes but index.lut commits ${lut.header.packLen} (truncated pack)`,
        });
      else {
        entries = lut.entries;
        committed = lut.header.packLen;
      }
    } catch (e) {
      if (!isFabricError(e)) throw e;
      problem({ code: e.code, where: L.lut, message: `${e.message} (index --rebuild makes it again from the pack)` });
    }
  }
  if (!entries) {
    // No usable index: check what a rebuild would index, and say where it would stop.
    const r = rebuildFromPack(pack, L.pack);
    entries = r.entries;
    committed = r.packLen;
    if (r.stoppedAt)
      notes.push(
        `${L.pack}: no index covers offset ${r.stoppedAt.offset} on (${r.stoppedAt.reason}); ${r.dropped} bytes would be dropped by a rebuild`,
      );
  } else if (pack.length > committed)
    notes.push(
      `${L.pack}: ${pack.length - committed} uncommitted bytes after offset ${committed} (an append that never committed; the next write cuts them off)`,
    );

  // Every index entry: a record at its offset with its length, its hash, a good CRC, bytes that hash to it.
  const byOffset = new Map<number, string>();
  const order = [...entries.offsets.keys()].sort(
    (a, b) => (entries.offsets[a] as number) - (entries.offsets[b] as number),
  );
  for (const i of order) {
    const hash = entries.keys.toString("hex", i * 32, i * 32 + 32);
    const offset = entries.offsets[i] as number;
    const len = entries.lens[i] as number;
    const bad = (message: string) =>
      problem({
        code: "RTT_FABRIC_CORRUPT",
        where: `${L.pack}#${hash}`,
        hash,
        offset,
        message: `object ${hash} at offset ${offset}: ${message}`,
      });
    counts.packed++;
    if (offset < PACK_HEADER_LEN || offset + RECORD_OVERHEAD + len > committed) {
      bad("index.lut points outside the committed pack");
      continue;
    }
    byOffset.set(offset, hash);
    if (pack.readUInt32BE(offset) !== len) {
      bad(`record length ${pack.readUInt32BE(offset)} differs from index.lut's ${len}`);
      continue;
    }
    if (pack.toString("hex", offset + 4, offset + RECORD_HEAD) !== hash) {
      bad("the record names another hash");
      continue;
    }
    const end = offset + RECORD_HEAD + len;
    const body = pack.subarray(offset + RECORD_HEAD, end);
    const crcOk = crc32c(pack.subarray(offset, end)) === pack.readUInt32BE(end);
    if (!crcOk) {
      bad("CRC32C mismatch");
      continue;
    }
    const actual = sha256Hex(body);
    if (actual !== hash) {
      bad(`bytes hash to ${actual}`);
      continue;
    }
    present.add(hash);
    if (body.includes(SIGNED)) signed.push({ hash, bytes: body, where: `${L.pack}#${hash}` });
  }
  // The other way round: the committed range is records end to end, each one indexed.
  const walk = scanRecords(pack, committed, (r) => {
    if (!byOffset.has(r.offset) && !present.has(r.hash.toString("hex")))
      problem({
        code: "RTT_FABRIC_CORRUPT",
        where: L.pack,
        offset: r.offset,
        hash: r.hash.toString("hex"),
        message: `record at offset ${r.offset} (object ${r.hash.toString("hex")}) is not in index.lut`,
      });
  });
  if (walk.bad && !byOffset.has(walk.bad.offset))
    problem({
      code: "RTT_FABRIC_CORRUPT",
      where: L.pack,
      offset: walk.bad.offset,
      ...(walk.bad.hash ? { hash: walk.bad.hash } : {}),
      message: `record at offset ${walk.bad.offset}${walk.bad.hash ? ` (object ${walk.bad.hash})` : ""}: ${walk.bad.reason}`,
    });
  if (statSync(L.pack).size !== pack.length) notes.push(`${L.pack}: changed while it was verified`);
}
