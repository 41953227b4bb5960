import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../atomic.js";
import { canonicalBytes, HASH_RE, sha256Hex } from "../canonical.js";
import { FabricError } from "../errors.js";
import { parseJsonText } from "../json-file.js";
import { registryLayout } from "../paths.js";

export interface PutResult {
  hash: string;
  /** False when the registry already held these bytes (ingest is idempotent). */
  created: boolean;
  bytes: number;
}

/**
 * The content-addressed registry under one directory (seed 004 layout). An object is stored once, as its canonical
 * bytes, named by their SHA-256; reading checks the bytes against the name.
 */
export class Registry {
  readonly layout: ReturnType<typeof registryLayout>;

  constructor(readonly dir: string) {
    this.layout = registryLayout(dir);
  }

  put(value: unknown, opts: { durable?: boolean } = {}): PutResult {
    const bytes = canonicalBytes(value);
    const hash = sha256Hex(bytes);
    const path = this.layout.object(hash);
    if (existsSync(path)) return { hash, created: false, bytes: bytes.length };
    writeFileAtomic(path, bytes, opts);
    return { hash, created: true, bytes: bytes.length };
  }

  has(hash: string): boolean {
    return HASH_RE.test(hash) && existsSync(this.layout.object(hash));
  }

  /** The stored bytes of `hash`, verified; undefined when absent. */
  getBytes(hash: string): Buffer | undefined {
    if (!HASH_RE.test(hash)) throw new FabricError("RTT_FABRIC_USAGE", "not a SHA-256 hex hash", hash);
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
    return parseJsonText(bytes.toString("utf8"), this.layout.object(hash));
  }
}

export const openRegistry = (dir: string) => new Registry(dir);
