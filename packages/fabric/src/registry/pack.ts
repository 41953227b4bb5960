import { randomBytes } from "node:crypto";
import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { fsyncDir } from "../atomic.js";
import { crc32c } from "../crc32c.js";
import { FabricError } from "../errors.js";

/**
 * pack/agents.pack: an append-only file of objects, each copied in unchanged with its SHA-256 and a CRC32C
 * (byte layout in spec/fabric/pack.md). index.lut says how much of it is committed; bytes past that are a torn or
 * uncommitted tail that readers ignore and the next writer truncates.
 */
export const PACK_MAGIC = Buffer.from("RTTPACK\0", "latin1");
export const PACK_VERSION = 1;
export const PACK_HEADER_LEN = 32;
/** u32 length + 32-byte SHA-256 before the body, u32 CRC32C after it. */
export const RECORD_HEAD = 36;
export const RECORD_OVERHEAD = 40;
/** Refused beyond this: one object is one agent, manifest or tool, never a data set. */
export const MAX_OBJECT_BYTES = 64 * 1024 * 1024;

export interface PackHeader {
  version: number;
  /** 16 random bytes chosen when the pack file is created; index.lut names the pack it indexes by this id. */
  packId: Buffer;
}

export function encodePackHeader(packId: Buffer): Buffer {
  const b = Buffer.alloc(PACK_HEADER_LEN);
  PACK_MAGIC.copy(b, 0);
  b.writeUInt32BE(PACK_VERSION, 8);
  b.writeUInt32BE(0, 12);
  packId.copy(b, 16, 0, 16);
  return b;
}

export function decodePackHeader(b: Buffer, where: string): PackHeader {
  if (b.length < PACK_HEADER_LEN) throw new FabricError("RTT_FABRIC_CORRUPT", "pack shorter than its header", where);
  if (!b.subarray(0, 8).equals(PACK_MAGIC))
    throw new FabricError("RTT_FABRIC_CORRUPT", "not an RTT pack (bad magic)", where);
  const version = b.readUInt32BE(8);
  if (version !== PACK_VERSION)
    throw new FabricError("RTT_FABRIC_CORRUPT", `pack version ${version}, this rtt reads ${PACK_VERSION}`, where);
  if (b.readUInt32BE(12) !== 0) throw new FabricError("RTT_FABRIC_CORRUPT", "pack header flags are not zero", where);
  return { version, packId: Buffer.from(b.subarray(16, 32)) };
}

export interface PackRecord {
  /** Offset of the record (its length field); the body starts RECORD_HEAD bytes later. */
  offset: number;
  len: number;
  /** The SHA-256 the record names, as stored (32 bytes, a view into the scanned buffer). */
  hash: Buffer;
}

export type RecordProblem = { offset: number; reason: string; hash?: string };

/**
 * Walks the records of a whole-pack buffer from the header to `end`. Stops at the first record that is cut off or
 * whose CRC does not match and returns it as `bad` (with the hash it claims, when its header is complete): the
 * caller decides whether that is a torn tail or corruption. The SHA-256 of the body is not recomputed here.
 */
export function scanRecords(
  pack: Buffer,
  end: number,
  onRecord: (r: PackRecord) => void,
): { end: number; bad?: RecordProblem } {
  let o = PACK_HEADER_LEN;
  while (o < end) {
    if (end - o < RECORD_OVERHEAD) return { end: o, bad: { offset: o, reason: "record header cut off" } };
    const len = pack.readUInt32BE(o);
    const hash = pack.subarray(o + 4, o + RECORD_HEAD);
    if (len > MAX_OBJECT_BYTES || o + RECORD_OVERHEAD + len > end)
      return {
        end: o,
        bad: { offset: o, hash: hash.toString("hex"), reason: `record of ${len} bytes runs past the end` },
      };
    const bodyEnd = o + RECORD_HEAD + len;
    if (crc32c(pack.subarray(o, bodyEnd)) !== pack.readUInt32BE(bodyEnd))
      return { end: o, bad: { offset: o, hash: hash.toString("hex"), reason: "CRC32C mismatch" } };
    onRecord({ offset: o, len, hash });
    o = bodyEnd + 4;
  }
  return { end: o };
}

/**
 * Appends records to the pack with large writes and one fsync per commit (fsync per object costs ~0.3 ms each,
 * FABRIC.md). On open the file is cut back to `committedLen`: anything past it was never committed (etcd's WAL
 * torn-tail repair), so appends always start at a record boundary.
 */
export class PackWriter {
  private fd: number;
  private pos: number;
  private chunk = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  private chunkStart: number;
  readonly packId: Buffer;
  /** Bytes cut off the tail on open (0 when the pack was clean). */
  readonly repaired: number;

  constructor(
    readonly path: string,
    committed: { packLen: number; packId: Buffer } | undefined,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, "a+");
    try {
      const size = fstatSync(this.fd).size;
      if (!committed) {
        // A new pack, or one cut short while its header was written. A pack with records but no index.lut is
        // rebuilt into one by the caller before it gets here.
        if (size >= PACK_HEADER_LEN)
          throw new FabricError("RTT_FABRIC_CORRUPT", "pack has no index.lut (run index --rebuild)", path);
        ftruncateSync(this.fd, 0);
        this.packId = randomBytes(16);
        this.closeAndReopen();
        writeAll(this.fd, encodePackHeader(this.packId), 0);
        this.pos = PACK_HEADER_LEN;
        this.repaired = size;
      } else {
        const head = Buffer.alloc(PACK_HEADER_LEN);
        readSync(this.fd, head, 0, PACK_HEADER_LEN, 0);
        const h = decodePackHeader(head, path);
        if (!h.packId.equals(committed.packId))
          throw new FabricError("RTT_FABRIC_CORRUPT", "index.lut indexes another pack (run index --rebuild)", path);
        if (size < committed.packLen)
          throw new FabricError(
            "RTT_FABRIC_CORRUPT",
            `pack is ${size} bytes but index.lut commits ${committed.packLen}`,
            path,
          );
        this.packId = h.packId;
        this.repaired = size - committed.packLen;
        if (this.repaired > 0) ftruncateSync(this.fd, committed.packLen);
        this.closeAndReopen();
        this.pos = committed.packLen;
      }
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
    this.chunkStart = this.pos;
  }

  // "a+" appends on every write whatever the position; reopen read-write so writes go where pos says.
  private closeAndReopen(): void {
    closeSync(this.fd);
    this.fd = openSync(this.path, "r+");
  }

  /** Appends one object; returns the record's offset. `hash` is the raw 32-byte SHA-256 of `body`. */
  append(hash: Uint8Array, body: Uint8Array): number {
    if (body.length > MAX_OBJECT_BYTES)
      throw new FabricError(
        "RTT_FABRIC_INVALID",
        `object of ${body.length} bytes is over the ${MAX_OBJECT_BYTES} limit`,
      );
    const size = RECORD_OVERHEAD + body.length;
    if (this.used + size > this.chunk.length) {
      this.flush();
      if (size > this.chunk.length) this.chunk = Buffer.allocUnsafe(size);
    }
    const c = this.chunk;
    const at = this.used;
    c.writeUInt32BE(body.length, at);
    c.set(hash, at + 4);
    c.set(body, at + RECORD_HEAD);
    c.writeUInt32BE(crc32c(c.subarray(at, at + RECORD_HEAD + body.length)), at + RECORD_HEAD + body.length);
    this.used += size;
    const offset = this.pos;
    this.pos += size;
    return offset;
  }

  private flush(): void {
    if (this.used === 0) return;
    writeAll(this.fd, this.chunk.subarray(0, this.used), this.chunkStart);
    this.chunkStart += this.used;
    this.used = 0;
  }

  /** Writes what is buffered and fsyncs the pack (and its directory, for a new file); returns the committed length. */
  sync(): number {
    this.flush();
    fsyncSync(this.fd);
    fsyncDir(dirname(this.path));
    return this.pos;
  }

  get length(): number {
    return this.pos;
  }

  close(): void {
    closeSync(this.fd);
  }
}

export function writeAll(fd: number, buf: Uint8Array, position: number): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, position + off);
}

/** Reads exactly `len` bytes at `position`; a short read means the file is shorter than the index claims. */
export function readExact(fd: number, len: number, position: number, where: string): Buffer {
  const b = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, b, got, len - got, position + got);
    if (n === 0) throw new FabricError("RTT_FABRIC_CORRUPT", `file ends before offset ${position + len}`, where);
    got += n;
  }
  return b;
}
