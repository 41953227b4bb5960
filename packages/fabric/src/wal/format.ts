import { hash as sha } from "node:crypto";
import { crc32c } from "../crc32c.js";

/**
 * Byte layout of the fabric's write-ahead log (spec/fabric/wal.md). All integers little-endian.
 *
 *   file    = MAGIC (8 bytes: "RTTWAL", 0x00, version 0x01) record*
 *   record  = len u32 | crc u32 | seq u32 | type u8 | 0 u8 ×3 | prev [32] | payload [len]
 *
 * - `crc` is CRC-32C over bytes [8, end) of the record, seeded with the previous record's crc (the first record is
 *   seeded with the CRC of MAGIC): as in etcd's WAL, each CRC covers every earlier record, so a record cannot be
 *   dropped or reordered without breaking all CRCs after it.
 * - `prev` is the previous record's hash (SHA-256 of its bytes [8, end)); zero for the first: a hash chain, so
 *   history cannot be rewritten without changing every later hash (and the Merkle roots signed in checkpoints).
 * - `payload` is the RFC 8785 canonical JSON of the record's body.
 */
export const MAGIC = Buffer.from([0x52, 0x54, 0x54, 0x57, 0x41, 0x4c, 0x00, 0x01]);
export const HEADER = 48;
export const MAX_PAYLOAD = 16 * 1024 * 1024;
export const ZERO_HASH = Buffer.alloc(32);
export const SEED_CRC = crc32c(MAGIC);

export const RECORD_TYPES = { prepare: 1, commit: 2, abort: 3, rollback: 4, checkpoint: 5 } as const;
export type RecordType = keyof typeof RECORD_TYPES;
const TYPE_NAMES: Record<number, RecordType> = Object.fromEntries(
  Object.entries(RECORD_TYPES).map(([k, v]) => [v, k as RecordType]),
);
export const typeName = (code: number): RecordType | undefined => TYPE_NAMES[code];

/** Encodes one record; returns its bytes, its chained crc and its hash (the next record's `prev`). */
export function encodeRecord(
  seq: number,
  type: RecordType,
  prev: Uint8Array,
  payload: Uint8Array,
  prevCrc: number,
): { bytes: Buffer; crc: number; hash: Buffer } {
  const bytes = Buffer.allocUnsafe(HEADER + payload.length);
  bytes.writeUInt32LE(payload.length, 0);
  bytes.writeUInt32LE(seq, 8);
  bytes[12] = RECORD_TYPES[type];
  bytes[13] = 0;
  bytes[14] = 0;
  bytes[15] = 0;
  bytes.set(prev, 16);
  bytes.set(payload, HEADER);
  const body = bytes.subarray(8);
  const crc = crc32c(body, prevCrc);
  bytes.writeUInt32LE(crc, 4);
  return { bytes, crc, hash: sha("sha256", body, "buffer") };
}
