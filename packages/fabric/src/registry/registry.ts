import { closeSync, existsSync, fsyncSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fsyncDir, writeFileAtomic } from "../atomic.js";
import { canonicalBytes, HASH_RE, sha256Hex } from "../canonical.js";
import { FabricError } from "../errors.js";
import { parseJsonText } from "../json-file.js";
import { registryLayout } from "../paths.js";
import { type IndexMap, readIndex, readSymbols, type SymbolMap } from "./index-json.js";
import { withWriteLock } from "./lock.js";
import { DEFAULT_IN_MEMORY_MAX, PackedStore } from "./packed.js";

export interface PutResult {
  hash: string;
  /** False when the registry already held these bytes (ingest is idempotent). */
  created: boolean;
  bytes: number;
}

export interface RegistryOptions {
  /** Packs up to this many bytes are read whole into memory; larger ones are read at an offset per lookup. */
  packInMemoryMax?: number;
}

/** The seed's layout plus the two files the registry adds (symbols.json, the writer lock). */
export const registryFiles = (dir: string) => ({
  ...registryLayout(dir),
  symbols: join(dir, "symbols.json"),
  lock: join(dir, "pack", ".lock"),
});

/**
 * The content-addressed registry under one directory (seed 004 layout, spec/fabric/pack.md). An object is stored
 * once, as its canonical bytes, named by their SHA-256: loose in cas/sha256/<hash>.json when put one at a time, or
 * appended to pack/agents.pack by a batch ingest. Reads look in the pack (through index.lut) and then loose, and
 * check the bytes against the name.
 */
export class Registry {
  readonly layout: ReturnType<typeof registryFiles>;
  readonly packed: PackedStore;

  constructor(
    readonly dir: string,
    opts: RegistryOptions = {},
  ) {
    this.layout = registryFiles(dir);
    this.packed = new PackedStore(this.layout.pack, this.layout.lut, opts.packInMemoryMax ?? DEFAULT_IN_MEMORY_MAX);
  }

  /**
   * Stores one value as a loose object. `durable: false` skips the fsyncs (readers still never see a partial file);
   * the object is durable only after `sync()`. Bulk stores belong in the pack (ingest), which needs one fsync.
   */
  put(value: unknown, opts: { durable?: boolean } = {}): PutResult {
    const bytes = canonicalBytes(value);
    const hash = sha256Hex(bytes);
    if (this.has(hash)) return { hash, created: false, bytes: bytes.length };
    const path = this.layout.object(hash);
    writeFileAtomic(path, bytes, opts);
    if (opts.durable === false) this.unsynced.push(path);
    return { hash, created: true, bytes: bytes.length };
  }

  private unsynced: string[] = [];

  /**
   * Makes this instance's earlier `put(…, {durable: false})` objects durable: an fsync of each file's bytes, then one
   * of the object folder for the renames. The folder fsync alone would not do: it persists names, not contents.
   */
  sync(): void {
    for (const path of this.unsynced) {
      const fd = openSync(path, "r");
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    this.unsynced = [];
    if (existsSync(this.layout.cas)) fsyncDir(this.layout.cas);
  }

  has(hash: string): boolean {
    return HASH_RE.test(hash) && (this.packed.has(hash) || existsSync(this.layout.object(hash)));
  }

  /** Where `hash` lives: in the pack (record offset) or loose (file path); undefined when absent. */
  whereIs(hash: string): { packed: { offset: number; len: number } } | { loose: string } | undefined {
    if (!HASH_RE.test(hash)) throw new FabricError("RTT_FABRIC_USAGE", "not a SHA-256 hex hash", hash);
    const at = this.packed.locate(hash);
    if (at) return { packed: at };
    const path = this.layout.object(hash);
    return existsSync(path) ? { loose: path } : undefined;
  }

  /** The stored bytes of `hash`, verified against it (SHA-256 recomputed); undefined when absent. */
  getBytes(hash: string): Buffer | undefined {
    if (!HASH_RE.test(hash)) throw new FabricError("RTT_FABRIC_USAGE", "not a SHA-256 hex hash", hash);
    const packed = this.packed.locate(hash);
    if (packed) {
      const bytes = this.packed.read(hash) as Buffer;
      const actual = sha256Hex(bytes);
      if (actual !== hash)
        throw new FabricError(
          "RTT_FABRIC_CORRUPT",
          `object bytes hash to ${actual}, not to their name (record at offset ${packed.offset})`,
          `${this.layout.pack}#${hash}`,
        );
      return bytes;
    }
    const path = this.layout.object(hash);
    if (!existsSync(path)) return undefined;
    const bytes = readFileSync(path);
    const actual = sha256Hex(bytes);
    if (actual !== hash)
      throw new FabricError("RTT_FABRIC_CORRUPT", `object bytes hash to ${actual}, not to their name`, path);
    return bytes;
  }

  get(hash: string): unknown {
    const bytes = this.getBytes(hash);
    if (!bytes) throw new FabricError("RTT_FABRIC_NOT_FOUND", "no such object in the registry", hash);
    return parseJsonText(bytes.toString("utf8"), hash);
  }

  /** index.json (`ID@version` → hash); empty when the registry has none yet. */
  index(): IndexMap {
    return readIndex(this.layout.index);
  }

  /** symbols.json (`rtt://…` → hashes). */
  symbols(): SymbolMap {
    return readSymbols(this.layout.symbols);
  }

  /** Runs `fn` as the registry's only writer (pack appends, index.lut/index.json/symbols.json replacement). */
  writing<T>(fn: () => T): T {
    return withWriteLock(this.layout.lock, () => {
      try {
        return fn();
      } finally {
        this.packed.reset();
      }
    });
  }

  /** Forgets cached pack state (another process may have written since). */
  refresh(): void {
    this.packed.reset();
  }
}

export const openRegistry = (dir: string, opts?: RegistryOptions) => new Registry(dir, opts);
