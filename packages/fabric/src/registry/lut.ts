import { closeSync, fstatSync, openSync } from "node:fs";
import { endianness } from "node:os";
import { sha256Hex } from "../canonical.js";
import { FabricError } from "../errors.js";
import { readExact } from "./pack.js";

/**
 * pack/index.lut: SHA-256 → {offset, len} into agents.pack, laid out like git's pack idx v2 (byte layout in
 * spec/fabric/pack.md): a 256-entry fan-out, the sorted keys, offsets, lengths and a SHA-256 trailer. Each key is
 * stored in two columns — its first 8 bytes (`key_hi`) and the other 24 (`key_lo`) — so a reader loads only the
 * header, fan-out, key_hi, offsets and lengths (20 bytes per object) and confirms the full hash against the record,
 * which carries it. One file is the commit point of the pack: `pack_len` says how much of the pack is committed.
 */
export const LUT_MAGIC = Buffer.from("RTTLUT\0\0", "latin1");
export const LUT_VERSION = 1;
export const LUT_HEADER_LEN = 40;
const FANOUT_LEN = 256 * 4;
const TRAILER_LEN = 32;
/** Bytes per object in each column. */
const HI = 8;
const OFF = 8;
const LEN = 4;
const LO = 24;

export const lutSize = (n: number) => LUT_HEADER_LEN + FANOUT_LEN + n * (HI + OFF + LEN + LO) + TRAILER_LEN;

export interface LutHeader {
  count: number;
  packLen: number;
  packId: Buffer;
}

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE["0123456789abcdef".charCodeAt(i)] = i;

/**
 * The 32-bit word of lowercase hex at `hex[at … at + 8)`, or -1. A lookup decodes only what it compares, in JS: at
 * this size a native hex decode (Buffer.write) costs more in call overhead than the whole binary search.
 */
export function hexWord(hex: string, at: number): number {
  let v = 0;
  for (let k = at; k < at + 8; k++) {
    const c = hex.charCodeAt(k);
    const d = c < 128 ? (HEX_VALUE[c] as number) : -1;
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  return v >>> 0;
}

const HEX_CHARS = "0123456789abcdef";
const HIGH_CHAR = new Uint8Array(256);
const LOW_CHAR = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  HIGH_CHAR[b] = HEX_CHARS.charCodeAt(b >>> 4);
  LOW_CHAR[b] = HEX_CHARS.charCodeAt(b & 15);
}

/** True when `bytes[at … at + n)` are the bytes lowercase `hex[from …]` spells (compared in place, no decoding). */
export function bytesMatchHex(bytes: Uint8Array, at: number, n: number, hex: string, from: number): boolean {
  for (let k = 0; k < n; k++) {
    const b = bytes[at + k] as number;
    const c = from + 2 * k;
    if (hex.charCodeAt(c) !== HIGH_CHAR[b] || hex.charCodeAt(c + 1) !== LOW_CHAR[b]) return false;
  }
  return true;
}

/** Objects in key order: `keys` holds count × 32 raw SHA-256 bytes, sorted ascending. */
export interface LutEntries {
  count: number;
  keys: Buffer;
  offsets: Float64Array;
  lens: Uint32Array;
}

function decodeHeader(b: Buffer, where: string): LutHeader {
  if (b.length < LUT_HEADER_LEN) throw new FabricError("RTT_FABRIC_CORRUPT", "index shorter than its header", where);
  if (!b.subarray(0, 8).equals(LUT_MAGIC))
    throw new FabricError("RTT_FABRIC_CORRUPT", "not an RTT pack index (bad magic)", where);
  const version = b.readUInt32BE(8);
  if (version !== LUT_VERSION)
    throw new FabricError("RTT_FABRIC_CORRUPT", `index version ${version}, this rtt reads ${LUT_VERSION}`, where);
  return { count: b.readUInt32BE(12), packLen: readU64(b, 16), packId: Buffer.from(b.subarray(24, 40)) };
}

const readU64 = (b: Buffer, at: number) => b.readUInt32BE(at) * 2 ** 32 + b.readUInt32BE(at + 4);
function writeU64(b: Buffer, v: number, at: number): void {
  b.writeUInt32BE(Math.floor(v / 2 ** 32), at);
  b.writeUInt32BE(v >>> 0, at + 4);
}

/** Fan-out entry b = number of keys whose first byte is ≤ b (git's rule); checks it is monotonic and ends at count. */
function decodeFanout(b: Buffer, count: number, where: string): Uint32Array {
  const fan = new Uint32Array(256);
  let prev = 0;
  for (let i = 0; i < 256; i++) {
    const v = b.readUInt32BE(LUT_HEADER_LEN + i * 4);
    if (v < prev || v > count)
      throw new FabricError("RTT_FABRIC_CORRUPT", `index fan-out is not monotonic at byte ${i}`, where);
    fan[i] = v;
    prev = v;
  }
  if (prev !== count) throw new FabricError("RTT_FABRIC_CORRUPT", `index fan-out ends at ${prev}, not ${count}`, where);
  return fan;
}

/** Encodes a complete index.lut (with its trailer) for entries already in key order. */
export function encodeLut(e: LutEntries, packLen: number, packId: Buffer): Buffer {
  const n = e.count;
  const b = Buffer.alloc(lutSize(n));
  LUT_MAGIC.copy(b, 0);
  b.writeUInt32BE(LUT_VERSION, 8);
  b.writeUInt32BE(n, 12);
  writeU64(b, packLen, 16);
  packId.copy(b, 24, 0, 16);
  const counts = new Uint32Array(256);
  for (let i = 0; i < n; i++) counts[e.keys[i * 32] as number] = (counts[e.keys[i * 32] as number] as number) + 1;
  let run = 0;
  for (let i = 0; i < 256; i++) {
    run += counts[i] as number;
    b.writeUInt32BE(run, LUT_HEADER_LEN + i * 4);
  }
  const hiAt = LUT_HEADER_LEN + FANOUT_LEN;
  const offAt = hiAt + n * HI;
  const lenAt = offAt + n * OFF;
  const loAt = lenAt + n * LEN;
  for (let i = 0; i < n; i++) {
    e.keys.copy(b, hiAt + i * HI, i * 32, i * 32 + HI);
    e.keys.copy(b, loAt + i * LO, i * 32 + HI, i * 32 + 32);
    writeU64(b, e.offsets[i] as number, offAt + i * OFF);
    b.writeUInt32BE(e.lens[i] as number, lenAt + i * LEN);
  }
  const body = b.subarray(0, b.length - TRAILER_LEN);
  Buffer.from(sha256Hex(body), "hex").copy(b, b.length - TRAILER_LEN);
  return b;
}

/**
 * Decodes a whole index.lut, checking its size, fan-out, trailer and key order. For verify, rebuilds and merges;
 * lookups use LutReader, which loads less.
 */
export function decodeLut(b: Buffer, where: string): { header: LutHeader; entries: LutEntries } {
  const header = decodeHeader(b, where);
  const n = header.count;
  if (b.length !== lutSize(n))
    throw new FabricError(
      "RTT_FABRIC_CORRUPT",
      `index is ${b.length} bytes, ${n} objects need ${lutSize(n)} (truncated or padded)`,
      where,
    );
  const trailer = b.subarray(b.length - TRAILER_LEN).toString("hex");
  if (sha256Hex(b.subarray(0, b.length - TRAILER_LEN)) !== trailer)
    throw new FabricError("RTT_FABRIC_CORRUPT", "index checksum trailer does not match its bytes", where);
  const fan = decodeFanout(b, n, where);
  const hiAt = LUT_HEADER_LEN + FANOUT_LEN;
  const offAt = hiAt + n * HI;
  const lenAt = offAt + n * OFF;
  const loAt = lenAt + n * LEN;
  const keys = Buffer.alloc(n * 32);
  const offsets = new Float64Array(n);
  const lens = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    b.copy(keys, i * 32, hiAt + i * HI, hiAt + i * HI + HI);
    b.copy(keys, i * 32 + HI, loAt + i * LO, loAt + i * LO + LO);
    offsets[i] = readU64(b, offAt + i * OFF);
    lens[i] = b.readUInt32BE(lenAt + i * LEN);
    if (i > 0 && keys.compare(keys, (i - 1) * 32, i * 32, i * 32, i * 32 + 32) <= 0)
      throw new FabricError("RTT_FABRIC_CORRUPT", `index keys out of order at entry ${i}`, where);
  }
  for (let i = 0; i < n; i++) {
    const first = keys[i * 32] as number;
    if (i < (first === 0 ? 0 : (fan[first - 1] as number)) || i >= (fan[first] as number))
      throw new FabricError("RTT_FABRIC_CORRUPT", `index fan-out disagrees with key ${i}`, where);
  }
  return { header, entries: { count: n, keys, offsets, lens } };
}

/** Sorts new (hex hash, offset, len) triples into key order. Hex order is byte order for lowercase hex. */
export function sortEntries(items: Array<{ hash: string; offset: number; len: number }>): LutEntries {
  const sorted = [...items].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const n = sorted.length;
  const keys = Buffer.alloc(n * 32);
  const offsets = new Float64Array(n);
  const lens = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const it = sorted[i]!;
    keys.write(it.hash, i * 32, 32, "hex");
    offsets[i] = it.offset;
    lens[i] = it.len;
  }
  return { count: n, keys, offsets, lens };
}

/** Merges two key-ordered sets; on a key present in both, `a`'s entry is kept. */
export function mergeEntries(a: LutEntries, b: LutEntries): LutEntries {
  const keys = Buffer.alloc((a.count + b.count) * 32);
  const offsets = new Float64Array(a.count + b.count);
  const lens = new Uint32Array(a.count + b.count);
  let i = 0;
  let j = 0;
  let n = 0;
  const take = (src: LutEntries, k: number) => {
    src.keys.copy(keys, n * 32, k * 32, k * 32 + 32);
    offsets[n] = src.offsets[k] as number;
    lens[n] = src.lens[k] as number;
    n++;
  };
  while (i < a.count || j < b.count) {
    if (j >= b.count) take(a, i++);
    else if (i >= a.count) take(b, j++);
    else {
      const c = a.keys.compare(b.keys, j * 32, j * 32 + 32, i * 32, i * 32 + 32);
      if (c <= 0) {
        take(a, i++);
        if (c === 0) j++;
      } else take(b, j++);
    }
  }
  return { count: n, keys: keys.subarray(0, n * 32), offsets: offsets.subarray(0, n), lens: lens.subarray(0, n) };
}

export const emptyEntries = (): LutEntries => ({
  count: 0,
  keys: Buffer.alloc(0),
  offsets: new Float64Array(0),
  lens: new Uint32Array(0),
});

/**
 * The lookup side of index.lut: the fan-out, key_hi as 32-bit words in a Uint32Array (byte-swapped once on load on
 * little-endian hosts, so a typed-array read gives the big-endian value the order is defined by), and the offset and
 * length columns in a Buffer — 20 bytes per object, read with two preads; key_lo stays on disk. `find`
 * binary-searches the bucket of the hash's first two bytes over the words — no per-key JS objects — and returns the
 * first entry whose 8-byte prefix matches; the caller confirms the full hash against the record in the pack (entries
 * sharing a prefix follow it in order).
 */
export class LutReader {
  readonly count: number;
  private readonly fan: Uint32Array;
  /** fan16[p] = number of keys whose first two bytes are < p; fan16[65536] = count. */
  private readonly fan16: Uint32Array;
  private readonly hi: Uint32Array;
  private readonly rest: Buffer;
  private readonly lenAt: number;

  constructor(
    readonly header: LutHeader,
    fanout: Buffer,
    keyHi: Buffer,
    rest: Buffer,
    where: string,
  ) {
    this.count = header.count;
    // decodeFanout reads at LUT_HEADER_LEN: give it a buffer laid out like the file's start.
    const head = Buffer.alloc(LUT_HEADER_LEN + FANOUT_LEN);
    fanout.copy(head, LUT_HEADER_LEN);
    this.fan = decodeFanout(head, header.count, where);
    const words = new Uint8Array(new ArrayBuffer(keyHi.length));
    words.set(keyHi);
    if (endianness() === "LE") Buffer.from(words.buffer).swap32();
    this.hi = new Uint32Array(words.buffer);
    // A 16-bit fan-out built in memory (256 KiB): at 1M keys a bucket of the file's 8-bit fan-out holds ~3,900 keys
    // (12 probes, most of them cache misses); one of this holds ~15 (4 probes).
    const fan16 = new Uint32Array(65537);
    for (let i = 0; i < this.count; i++) {
      const p = ((this.hi[2 * i] as number) >>> 16) + 1;
      fan16[p] = (fan16[p] as number) + 1;
    }
    for (let b = 1; b <= 65536; b++) fan16[b] = (fan16[b] as number) + (fan16[b - 1] as number);
    this.fan16 = fan16;
    this.rest = rest;
    this.lenAt = header.count * OFF;
  }

  /** Opens index.lut for lookups; its size must match its count exactly (a truncated index is refused). */
  static open(path: string): LutReader {
    const fd = openSync(path, "r");
    try {
      const size = fstatSync(fd).size;
      const head = readExact(fd, Math.min(size, LUT_HEADER_LEN + FANOUT_LEN), 0, path);
      const header = decodeHeader(head, path);
      if (size !== lutSize(header.count))
        throw new FabricError(
          "RTT_FABRIC_CORRUPT",
          `index is ${size} bytes, ${header.count} objects need ${lutSize(header.count)} (truncated or padded)`,
          path,
        );
      const n = header.count;
      const hiAt = LUT_HEADER_LEN + FANOUT_LEN;
      return new LutReader(
        header,
        head.subarray(LUT_HEADER_LEN),
        readExact(fd, n * HI, hiAt, path),
        readExact(fd, n * (OFF + LEN), hiAt + n * HI, path),
        path,
      );
    } finally {
      closeSync(fd);
    }
  }

  /** A reader over a whole encoded index held in memory (an index rebuilt from the pack, not on disk). */
  static fromBuffer(b: Buffer, where: string): LutReader {
    const header = decodeHeader(b, where);
    const n = header.count;
    const hiAt = LUT_HEADER_LEN + FANOUT_LEN;
    return new LutReader(
      header,
      b.subarray(LUT_HEADER_LEN, hiAt),
      b.subarray(hiAt, hiAt + n * HI),
      Buffer.from(b.subarray(hiAt + n * HI, hiAt + n * (HI + OFF + LEN))),
      where,
    );
  }

  /** Bytes this reader holds in memory. */
  get memoryBytes(): number {
    return this.hi.byteLength + this.rest.byteLength + this.fan.byteLength + this.fan16.byteLength;
  }

  /**
   * Index of the first entry whose key starts with the 8 bytes `w0`, `w1` (the hash's first two big-endian words),
   * or -1.
   */
  find(w0: number, w1: number): number {
    const p = w0 >>> 16;
    let lo = this.fan16[p] as number;
    let hi = this.fan16[p + 1] as number;
    const words = this.hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k0 = words[2 * mid] as number;
      if (k0 < w0 || (k0 === w0 && (words[2 * mid + 1] as number) < w1)) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= this.count) return -1;
    return words[2 * lo] === w0 && words[2 * lo + 1] === w1 ? lo : -1;
  }

  /** True when entries i and j share their first 8 bytes (to walk prefix collisions). */
  samePrefix(i: number, j: number): boolean {
    if (j >= this.count) return false;
    return this.hi[2 * i] === this.hi[2 * j] && this.hi[2 * i + 1] === this.hi[2 * j + 1];
  }

  offset(i: number): number {
    return readU64(this.rest, i * OFF);
  }

  len(i: number): number {
    return this.rest.readUInt32BE(this.lenAt + i * LEN);
  }
}
