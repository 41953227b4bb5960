import { hash as sha } from "node:crypto";
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { fsyncDir } from "../atomic.js";
import { canonicalBytes } from "../canonical.js";
import { crc32c } from "../crc32c.js";
import { FabricError } from "../errors.js";
import { encodeRecord, HEADER, MAGIC, MAX_PAYLOAD, type RecordType, SEED_CRC, typeName, ZERO_HASH } from "./format.js";

export interface WalRecord {
  seq: number;
  type: RecordType;
  /** Byte offset of the record in the file. */
  offset: number;
  /** SHA-256 of the record's bytes [8, end): what the next record's `prev` holds. */
  hash: Buffer;
  /** The record's bytes [8, end) (seq, type, prev, payload): a Merkle leaf's data. */
  body: Buffer;
  payload: Record<string, unknown>;
}

/** Called once per good record while scanning, with its parsed payload (not kept: replay stays allocation-light). */
export type WalVisitor = (rec: Omit<WalRecord, "hash" | "body">) => void;

export interface WalScan {
  /** The file's bytes and where each good record starts: records are materialised on demand, not kept as objects. */
  buf: Buffer;
  offsets: number[];
  /** Bytes after the last good record that a crash left half-written (0 when the tail is clean). */
  tornBytes: number;
  /** Where the good records end. */
  end: number;
  crc: number;
  hash: Buffer;
}

const corrupt = (path: string, msg: string) => new FabricError("RTT_FABRIC_CORRUPT", msg, path);

/**
 * Reads and verifies a whole WAL: magic, every length, the chained CRCs, contiguous sequence numbers, the hash chain
 * and each payload's JSON. A record that fails and reaches the end of the file is a torn tail (a crash mid-append):
 * reported in `tornBytes`, not an error. One that fails with good bytes after it is corruption: an error naming its
 * sequence number and offset.
 */
export function scanWal(path: string, buf: Buffer, visit?: WalVisitor): WalScan {
  const offsets: number[] = [];
  if (buf.length < MAGIC.length) {
    if (MAGIC.subarray(0, buf.length).equals(buf))
      return { buf, offsets, tornBytes: buf.length, end: 0, crc: SEED_CRC, hash: ZERO_HASH };
    throw corrupt(path, "not an RTT WAL (bad magic)");
  }
  if (buf.compare(MAGIC, 0, MAGIC.length, 0, MAGIC.length) !== 0)
    throw corrupt(path, "not an RTT WAL (bad magic or version)");
  let off = MAGIC.length;
  let crc = SEED_CRC;
  let prev = ZERO_HASH;
  const torn = (): WalScan => ({ buf, offsets, tornBytes: buf.length - off, end: off, crc, hash: prev });
  while (off < buf.length) {
    const seq = offsets.length + 1;
    if (buf.length - off < HEADER) return torn();
    const len = buf.readUInt32LE(off);
    const end = off + HEADER + len;
    if (len > MAX_PAYLOAD) {
      if (end >= buf.length) return torn();
      throw corrupt(path, `record ${seq} at offset ${off}: length ${len} over the limit`);
    }
    if (end > buf.length) return torn();
    const body = buf.subarray(off + 8, end);
    const want = buf.readUInt32LE(off + 4);
    if (crc32c(body, crc) !== want) {
      if (end === buf.length) return torn();
      throw corrupt(path, `record ${seq} at offset ${off}: CRC mismatch (bytes changed or records removed)`);
    }
    const got = buf.readUInt32LE(off + 8);
    if (got !== seq) throw corrupt(path, `record at offset ${off}: sequence ${got}, expected ${seq}`);
    const type = typeName(buf[off + 12] as number);
    if (!type) throw corrupt(path, `record ${seq} at offset ${off}: unknown type ${buf[off + 12]}`);
    if (buf.compare(prev, 0, 32, off + 16, off + 48) !== 0)
      throw corrupt(path, `record ${seq} at offset ${off}: hash chain broken (prev does not match record ${seq - 1})`);
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(buf.toString("utf8", off + HEADER, end));
    } catch {
      throw corrupt(path, `record ${seq} at offset ${off}: payload is not JSON`);
    }
    visit?.({ seq, type, offset: off, payload });
    offsets.push(off);
    crc = want;
    prev = sha("sha256", body, "buffer");
    off = end;
  }
  return { buf, offsets, tornBytes: 0, end: off, crc, hash: prev };
}

/** Materialises the record that starts at `offset` of `buf` (already verified by a scan or written by us). */
function recordAt(buf: Buffer, offset: number): WalRecord {
  const end = offset + HEADER + buf.readUInt32LE(offset);
  const body = buf.subarray(offset + 8, end);
  return {
    seq: buf.readUInt32LE(offset + 8),
    type: typeName(buf[offset + 12] as number) as RecordType,
    offset,
    hash: sha("sha256", body, "buffer"),
    body,
    payload: JSON.parse(buf.toString("utf8", offset + HEADER, end)),
  };
}

/**
 * An append-only, hash-chained write-ahead log of plan transitions. Opening repairs a torn tail (truncates it, as
 * etcd does) and refuses a corrupt middle. Every append is one write followed by fdatasync: only plan transitions
 * are logged, never the data path (FABRIC.md: fsync p50 0.34 ms).
 */
export class Wal {
  private readonly fd: number;
  private crc: number;
  private prev: Buffer;
  /** The bytes read at open and the records written since: both addressed by offset. */
  private readonly opened: WalScan;
  private readonly appended: WalRecord[] = [];
  /** Bytes of a torn tail cut off when this log was opened. */
  readonly repairedBytes: number;

  private constructor(
    readonly path: string,
    fd: number,
    scan: WalScan,
    repaired: number,
  ) {
    this.fd = fd;
    this.crc = scan.crc;
    this.prev = scan.hash;
    this.opened = scan;
    this.repairedBytes = repaired;
  }

  /**
   * Opens (creating) the log at `path`; `visit` sees every existing record once, in order. `readOnly` (for
   * `rtt wal verify`) changes nothing on disk: a torn tail is reported in `repairedBytes` but left in place, a missing
   * file is an error, and appends throw.
   */
  static open(path: string, visit?: WalVisitor, opts: { readOnly?: boolean } = {}): Wal {
    if (opts.readOnly) return Wal.openReadOnly(path, visit);
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, "a+");
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.allocUnsafe(size);
      let got = 0;
      while (got < size) got += readSync(fd, buf, got, size - got, got);
      const scan = size === 0 ? scanWal(path, MAGIC) : scanWal(path, buf, visit);
      if (size === 0 || scan.end === 0) {
        ftruncateSync(fd, 0);
        writeSync(fd, MAGIC);
        fdatasyncSync(fd);
        if (size === 0) fsyncDir(dirname(path));
        return new Wal(path, fd, scanWal(path, MAGIC), scan.tornBytes);
      }
      if (scan.tornBytes > 0) {
        ftruncateSync(fd, scan.end);
        fdatasyncSync(fd);
      }
      return new Wal(path, fd, scan, scan.tornBytes);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  private static openReadOnly(path: string, visit?: WalVisitor): Wal {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new FabricError("RTT_FABRIC_UNREADABLE", err.code === "ENOENT" ? "no such WAL" : err.message, path);
    }
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.allocUnsafe(size);
      let got = 0;
      while (got < size) got += readSync(fd, buf, got, size - got, got);
      const scan = scanWal(path, buf, visit);
      const wal = new Wal(path, fd, scan, scan.tornBytes);
      wal.readOnly = true;
      return wal;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  private readOnly = false;

  get size(): number {
    return this.opened.offsets.length + this.appended.length;
  }

  /** Record `i` (0-based; its seq is i + 1). */
  record(i: number): WalRecord {
    const n = this.opened.offsets.length;
    if (i < n) return recordAt(this.opened.buf, this.opened.offsets[i] as number);
    const r = this.appended[i - n];
    if (!r) throw new RangeError(`no record ${i + 1} in ${this.path}`);
    return r;
  }

  *records(filter?: RecordType): Generator<WalRecord> {
    for (let i = 0; i < this.size; i++) {
      if (filter && this.typeOf(i) !== filter) continue;
      yield this.record(i);
    }
  }

  private typeOf(i: number): RecordType | undefined {
    const n = this.opened.offsets.length;
    return i < n
      ? typeName(this.opened.buf[(this.opened.offsets[i] as number) + 12] as number)
      : this.appended[i - n]?.type;
  }

  /** Appends one record durably; returns it. */
  append(type: RecordType, body: Record<string, unknown>): WalRecord {
    if (this.readOnly) throw new FabricError("RTT_FABRIC_USAGE", "WAL opened read-only", this.path);
    const payload = canonicalBytes(body);
    if (payload.length > MAX_PAYLOAD)
      throw new FabricError("RTT_FABRIC_INVALID", `WAL record of ${payload.length} bytes is over the limit`, this.path);
    const seq = this.size + 1;
    const rec = encodeRecord(seq, type, this.prev, payload, this.crc);
    const offset = fstatSync(this.fd).size;
    let w = 0;
    while (w < rec.bytes.length) w += writeSync(this.fd, rec.bytes, w, rec.bytes.length - w);
    fdatasyncSync(this.fd);
    this.crc = rec.crc;
    this.prev = rec.hash;
    const record: WalRecord = {
      seq,
      type,
      offset,
      hash: rec.hash,
      body: rec.bytes.subarray(8),
      payload: JSON.parse(payload.toString("utf8")),
    };
    this.appended.push(record);
    return record;
  }

  close(): void {
    closeSync(this.fd);
  }
}
