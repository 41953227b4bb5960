import { createHash } from "node:crypto";
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
  /** SHA-256 of the record's bytes [8, end): what the next record's `prev` holds and what Merkle leaves hash. */
  hash: Buffer;
  /** The record's bytes [8, end) (seq, type, prev, payload): a Merkle leaf's data. */
  body: Buffer;
  payload: Record<string, unknown>;
}

export interface WalScan {
  records: WalRecord[];
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
export function scanWal(path: string, buf: Buffer): WalScan {
  const records: WalRecord[] = [];
  if (buf.length < MAGIC.length) {
    if (MAGIC.subarray(0, buf.length).equals(buf))
      return { records, tornBytes: buf.length, end: 0, crc: SEED_CRC, hash: ZERO_HASH };
    throw corrupt(path, "not an RTT WAL (bad magic)");
  }
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) throw corrupt(path, "not an RTT WAL (bad magic or version)");
  let off = MAGIC.length;
  let crc = SEED_CRC;
  let prev = ZERO_HASH;
  const torn = (): WalScan => ({ records, tornBytes: buf.length - off, end: off, crc, hash: prev });
  while (off < buf.length) {
    const seq = records.length + 1;
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
    if (!buf.subarray(off + 16, off + 48).equals(prev))
      throw corrupt(path, `record ${seq} at offset ${off}: hash chain broken (prev does not match record ${seq - 1})`);
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(buf.toString("utf8", off + HEADER, end));
    } catch {
      throw corrupt(path, `record ${seq} at offset ${off}: payload is not JSON`);
    }
    const hash = createHash("sha256").update(body).digest();
    records.push({ seq, type, offset: off, hash, body, payload });
    crc = want;
    prev = hash;
    off = end;
  }
  return { records, tornBytes: 0, end: off, crc, hash: prev };
}

/**
 * An append-only, hash-chained write-ahead log of plan transitions. Opening repairs a torn tail (truncates it, as
 * etcd does) and refuses a corrupt middle. Every append is one write followed by fdatasync: only plan transitions
 * are logged, never the data path (FABRIC.md: fsync p50 0.34 ms).
 */
export class Wal {
  private fd: number;
  private crc: number;
  private prev: Buffer;
  private seq: number;
  /** Bytes of a torn tail cut off when this log was opened. */
  readonly repairedBytes: number;
  readonly records: WalRecord[];

  private constructor(
    readonly path: string,
    fd: number,
    scan: WalScan,
  ) {
    this.fd = fd;
    this.crc = scan.crc;
    this.prev = scan.hash;
    this.seq = scan.records.length;
    this.records = scan.records;
    this.repairedBytes = scan.tornBytes;
  }

  static open(path: string): Wal {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, "a+");
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.allocUnsafe(size);
      let got = 0;
      while (got < size) got += readSync(fd, buf, got, size - got, got);
      if (size === 0) {
        writeSync(fd, MAGIC);
        fdatasyncSync(fd);
        fsyncDir(dirname(path));
        return new Wal(path, fd, scanWal(path, MAGIC));
      }
      const scan = scanWal(path, buf);
      if (scan.tornBytes > 0) {
        ftruncateSync(fd, scan.end === 0 ? 0 : scan.end);
        if (scan.end === 0) writeSync(fd, MAGIC);
        fdatasyncSync(fd);
      }
      return new Wal(path, fd, scan.end === 0 ? scanWal(path, MAGIC) : scan);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Appends one record durably; returns it. */
  append(type: RecordType, body: Record<string, unknown>): WalRecord {
    const payload = canonicalBytes(body);
    if (payload.length > MAX_PAYLOAD)
      throw new FabricError("RTT_FABRIC_INVALID", `WAL record of ${payload.length} bytes is over the limit`, this.path);
    const seq = this.seq + 1;
    const rec = encodeRecord(seq, type, this.prev, payload, this.crc);
    const offset = fstatSync(this.fd).size;
    let w = 0;
    while (w < rec.bytes.length) w += writeSync(this.fd, rec.bytes, w, rec.bytes.length - w);
    fdatasyncSync(this.fd);
    this.seq = seq;
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
    this.records.push(record);
    return record;
  }

  close(): void {
    closeSync(this.fd);
  }
}
