import { closeSync, existsSync, fstatSync, openSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../atomic.js";
import { FabricError } from "../errors.js";
import {
  bytesMatchHex,
  decodeLut,
  emptyEntries,
  encodeLut,
  hexWord,
  type LutEntries,
  LutReader,
  mergeEntries,
  sortEntries,
} from "./lut.js";
import {
  decodePackHeader,
  PACK_HEADER_LEN,
  PackWriter,
  RECORD_HEAD,
  type RecordProblem,
  readExact,
  scanRecords,
} from "./pack.js";

/** Packs up to this size are read into one Buffer (reads are a subarray); larger ones are read with pread. */
export const DEFAULT_IN_MEMORY_MAX = 256 * 1024 * 1024;

/** What a reader sees: the committed part of the pack and the index over it. */
interface PackState {
  lut: LutReader | undefined;
  packLen: number;
  packId: Buffer | undefined;
  /** Pack bytes past the committed length: a torn or uncommitted tail, ignored, cut off by the next writer. */
  tail: number;
  /** Why the on-disk index was not used (missing, or made for another pack): it was rebuilt in memory. */
  stale?: string;
  /** Reads served so far (see bytesAt). */
  touches: number;
  whole?: Buffer;
  fd?: number;
}

/** Record reads before a reader reads the pack whole (or keeps it open): a few lookups never load 256 MiB. */
const READS_BEFORE_CACHING = 64;

export interface Rebuilt {
  entries: LutEntries;
  packLen: number;
  packId: Buffer;
  /** The first record that did not check out, where the rebuild stopped (a torn tail, or corruption). */
  stoppedAt?: RecordProblem;
  dropped: number;
}

/** Scans a whole pack and indexes every record up to the first that is cut off or fails its CRC. */
export function rebuildFromPack(pack: Buffer, where: string): Rebuilt {
  const { packId } = decodePackHeader(pack, where);
  const items: Array<{ hash: string; offset: number; len: number }> = [];
  const seen = new Set<string>();
  const scan = scanRecords(pack, pack.length, (r) => {
    const hash = r.hash.toString("hex");
    // A repeated object (two writers before the lock existed, or a hand-made pack): the first copy is the one.
    if (seen.has(hash)) return;
    seen.add(hash);
    items.push({ hash, offset: r.offset, len: r.len });
  });
  return {
    entries: sortEntries(items),
    packLen: scan.end,
    packId,
    ...(scan.bad ? { stoppedAt: scan.bad } : {}),
    dropped: pack.length - scan.end,
  };
}

/**
 * The packed half of the registry: agents.pack + index.lut. Reads go through the index to one offset (never a
 * parse of the pack); writes append through PackWriter and commit by replacing index.lut atomically.
 */
export class PackedStore {
  private state: PackState | undefined;

  constructor(
    readonly packPath: string,
    readonly lutPath: string,
    readonly inMemoryMax = DEFAULT_IN_MEMORY_MAX,
  ) {}

  /** Drops what was read, so the next call sees the files as they are now (after a commit or from another process). */
  reset(): void {
    if (this.state?.fd !== undefined) closeSync(this.state.fd);
    this.state = undefined;
  }

  private load(): PackState {
    if (this.state) return this.state;
    if (!existsSync(this.packPath)) {
      if (existsSync(this.lutPath))
        throw new FabricError("RTT_FABRIC_CORRUPT", "index.lut exists but its pack is missing", this.packPath);
      this.state = { lut: undefined, packLen: 0, packId: undefined, tail: 0, touches: 0 };
      return this.state;
    }
    const fd = openSync(this.packPath, "r");
    try {
      const size = fstatSync(fd).size;
      if (size < PACK_HEADER_LEN && !existsSync(this.lutPath)) {
        // Killed while the header of a brand-new pack was written: there is nothing in it yet.
        this.state = { lut: undefined, packLen: 0, packId: undefined, tail: size, touches: 0 };
        return this.state;
      }
      const { packId } = decodePackHeader(readExact(fd, PACK_HEADER_LEN, 0, this.packPath), this.packPath);
      let lut: LutReader | undefined;
      let stale: string | undefined;
      if (!existsSync(this.lutPath)) stale = "index.lut is missing";
      else {
        lut = LutReader.open(this.lutPath);
        if (!lut.header.packId.equals(packId)) {
          // gc renames the new pack into place before its index: a crash between leaves an index of the old pack.
          stale = "index.lut indexes another pack";
          lut = undefined;
        } else if (lut.header.packLen > size)
          throw new FabricError(
            "RTT_FABRIC_CORRUPT",
            `pack is ${size} bytes but index.lut commits ${lut.header.packLen} (truncated pack)`,
            this.packPath,
          );
      }
      let packLen: number;
      if (!lut) {
        const r = rebuildFromPack(readFileSync(this.packPath), this.packPath);
        lut = readerOf(r.entries, r.packLen, r.packId, this.lutPath);
        packLen = r.packLen;
      } else packLen = lut.header.packLen;
      this.state = { lut, packLen, packId, tail: size - packLen, touches: 0, ...(stale ? { stale } : {}) };
      return this.state;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Reads `len` pack bytes at `position`. The first reads open the file each time (a CLI `cat` or a `put` reads one
   * record, not the pack); after READS_BEFORE_CACHING the reader is taken for a long-lived one: a pack up to
   * inMemoryMax is read whole (reads become views), a larger one keeps its file open for preads until reset().
   */
  private bytesAt(s: PackState, len: number, position: number): { buf: Buffer; at: number } {
    if (s.whole) return { buf: s.whole, at: position };
    if (s.fd !== undefined) return { buf: readExact(s.fd, len, position, this.packPath), at: 0 };
    const fd = this.openSamePack(s);
    let keep = false;
    try {
      if (++s.touches > READS_BEFORE_CACHING) {
        if (s.packLen <= this.inMemoryMax) {
          s.whole = readExact(fd, s.packLen, 0, this.packPath);
          return { buf: s.whole, at: position };
        }
        s.fd = fd;
        keep = true;
      }
      return { buf: readExact(fd, len, position, this.packPath), at: 0 };
    } finally {
      if (!keep) closeSync(fd);
    }
  }

  /** Opens the pack, checking it is still the one the loaded index describes (gc replaces it by rename). */
  private openSamePack(s: PackState): number {
    const fd = openSync(this.packPath, "r");
    let head: Buffer;
    try {
      head = readExact(fd, PACK_HEADER_LEN, 0, this.packPath);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    if (s.packId && !head.subarray(16, 32).equals(s.packId)) {
      closeSync(fd);
      this.reset();
      throw new FabricError(
        "RTT_FABRIC_USAGE",
        "the pack was replaced (gc) while it was read: read again",
        this.packPath,
      );
    }
    return fd;
  }

  /** Facts about the committed pack for verify and `ls`. */
  info(): { objects: number; packLen: number; tail: number; indexBytes: number; stale?: string; packId?: Buffer } {
    const s = this.load();
    return {
      objects: s.lut?.count ?? 0,
      indexBytes: s.lut?.memoryBytes ?? 0,
      packLen: s.packLen,
      tail: s.tail,
      ...(s.stale ? { stale: s.stale } : {}),
      ...(s.packId ? { packId: s.packId } : {}),
    };
  }

  /** {offset of the record, body length} of `hex`, or undefined; the full hash is checked against the record. */
  locate(hex: string): { offset: number; len: number } | undefined {
    const s = this.load();
    const lut = s.lut;
    if (!lut) return undefined;
    if (hex.length !== 64) return undefined;
    const w0 = hexWord(hex, 0);
    const w1 = hexWord(hex, 8);
    if (w0 < 0 || w1 < 0) return undefined;
    const i = lut.find(w0, w1);
    if (i < 0) return undefined;
    for (let j = i; j === i || lut.samePrefix(i, j); j++) {
      const offset = lut.offset(j);
      const len = lut.len(j);
      if (offset + RECORD_HEAD + len + 4 > s.packLen)
        throw new FabricError(
          "RTT_FABRIC_CORRUPT",
          `index.lut points past the committed pack (offset ${offset})`,
          `${this.lutPath}#${hex}`,
        );
      // key_hi matched the first 8 bytes; the record's hash field has the other 24.
      const rec = this.bytesAt(s, 32, offset + 4);
      if (bytesMatchHex(rec.buf, rec.at + 8, 24, hex, 16)) return { offset, len };
    }
    return undefined;
  }

  has(hex: string): boolean {
    return this.locate(hex) !== undefined;
  }

  /** The object's bytes as stored (a view into the pack buffer for packs read whole), or undefined. Not rehashed. */
  read(hex: string): Buffer | undefined {
    const at = this.locate(hex);
    if (!at) return undefined;
    const r = this.bytesAt(this.state as PackState, at.len, at.offset + RECORD_HEAD);
    return r.at === 0 && r.buf.length === at.len ? r.buf : r.buf.subarray(r.at, r.at + at.len);
  }

  /** The committed index entries in full (keys included), for merging a commit and for verify. */
  committedEntries(): { entries: LutEntries; packLen: number; packId: Buffer | undefined; stale?: string } {
    const s = this.load();
    if (!s.packId) return { entries: emptyEntries(), packLen: 0, packId: undefined };
    if (s.stale) {
      const r = rebuildFromPack(readFileSync(this.packPath), this.packPath);
      return { entries: r.entries, packLen: r.packLen, packId: r.packId, stale: s.stale };
    }
    const { entries } = decodeLut(readFileSync(this.lutPath), this.lutPath);
    return { entries, packLen: s.packLen, packId: s.packId };
  }

  /**
   * Opens the pack for appending. A stale or missing index is first rebuilt from the pack and committed, then the
   * uncommitted tail is cut off (PackWriter). Call with the registry's write lock held.
   */
  openWriter(): { writer: PackWriter; base: LutEntries } {
    this.reset();
    const c = this.committedEntries();
    if (c.stale && c.packId) writeFileAtomic(this.lutPath, encodeLut(c.entries, c.packLen, c.packId));
    this.reset();
    const writer = new PackWriter(this.packPath, c.packId ? { packLen: c.packLen, packId: c.packId } : undefined);
    return { writer, base: c.entries };
  }

  /** Makes appended records part of the registry: fsync the pack, then replace index.lut (the commit point). */
  commit(
    writer: PackWriter,
    base: LutEntries,
    added: Array<{ hash: string; offset: number; len: number }>,
  ): LutEntries {
    const packLen = writer.sync();
    const entries = added.length ? mergeEntries(base, sortEntries(added)) : base;
    writeFileAtomic(this.lutPath, encodeLut(entries, packLen, writer.packId));
    this.reset();
    return entries;
  }
}

/** A lookup reader over entries held in memory (a rebuilt index that is not on disk). */
export function readerOf(entries: LutEntries, packLen: number, packId: Buffer, where: string): LutReader {
  return LutReader.fromBuffer(encodeLut(entries, packLen, packId), where);
}

/**
 * `rtt registry index --rebuild`: index.lut made again from agents.pack alone (each record carries its hash). The
 * index covers records up to the first that is cut off or fails its CRC; what follows is reported and, as any
 * uncommitted tail, cut off by the next write. Call with the registry's write lock held.
 */
export function rebuildIndexFile(store: PackedStore): Rebuilt | undefined {
  store.reset();
  if (!existsSync(store.packPath)) return undefined;
  const r = rebuildFromPack(readFileSync(store.packPath), store.packPath);
  writeFileAtomic(store.lutPath, encodeLut(r.entries, r.packLen, r.packId));
  store.reset();
  return r;
}
