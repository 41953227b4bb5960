import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fsyncDir } from "../atomic.js";
import { HASH_RE } from "../canonical.js";
import { isFabricError } from "../errors.js";
import { readIndex, readSymbols } from "./index-json.js";
import { encodeLut, sortEntries } from "./lut.js";
import { encodePackHeader, PACK_HEADER_LEN, RECORD_OVERHEAD, writeAll } from "./pack.js";
import type { Registry } from "./registry.js";

export interface GcOptions {
  /** Folder of manifest files whose object references are roots; default: `manifests` beside the registry folder. */
  manifests?: string;
  /**
   * Loose objects and temp files younger than this are kept even when unreachable: a concurrent `put` writes its
   * objects before the manifest that names them (git's prune grace period). Default one hour.
   */
  graceMs?: number;
}

export interface GcReport {
  roots: number;
  reachable: number;
  packed: { kept: number; removed: number; bytesBefore: number; bytesAfter: number };
  loose: { kept: number; removed: number; young: number };
  tempFiles: number;
}

/** A quoted 64-hex string anywhere in an object: a reference if it names a stored object (conservative, as git). */
const HASH_STRING = /"([0-9a-f]{64})"/g;

function hashStrings(text: string, out: string[]): void {
  for (const m of text.matchAll(HASH_STRING)) out.push(m[1] as string);
}

/**
 * `rtt registry gc`: removes objects nothing reaches. Roots are index.json's targets, symbols.json's hashes and every
 * hash named in the manifests folder's `*.json` files; an object is reachable from a root if a reachable object
 * contains its hash as a JSON string (a manifest's `symbols[].object`, a view's input hashes). The pack is rewritten
 * without the unreachable records — a new pack file (new pack id) and index, each fsynced, renamed into place pack
 * first: a crash between the renames leaves a complete new pack whose stale index readers rebuild.
 */
export function gc(registry: Registry, opts: GcOptions = {}): GcReport {
  const grace = opts.graceMs ?? 3_600_000;
  const manifests = opts.manifests ?? join(dirname(registry.dir), "manifests");
  return registry.writing(() => {
    const L = registry.layout;
    const roots: string[] = [];
    roots.push(...Object.values(readIndex(L.index)));
    for (const hs of Object.values(readSymbols(L.symbols))) roots.push(...hs);
    if (existsSync(manifests)) {
      for (const name of readdirSync(manifests).sort()) {
        if (name.endsWith(".json")) hashStrings(readFileSync(join(manifests, name), "utf8"), roots);
      }
    }
    const reachable = new Set<string>();
    const stack = roots.filter((h) => HASH_RE.test(h));
    const rootCount = new Set(stack).size;
    while (stack.length) {
      const h = stack.pop() as string;
      if (reachable.has(h)) continue;
      let bytes: Buffer | undefined;
      try {
        bytes = registry.getBytes(h);
      } catch (e) {
        // A corrupt object is not gc's to judge (verify names it); keep it and what it may reach.
        if (!isFabricError(e)) throw e;
        reachable.add(h);
        continue;
      }
      if (!bytes) continue;
      reachable.add(h);
      const found: string[] = [];
      hashStrings(bytes.toString("utf8"), found);
      for (const f of found) if (!reachable.has(f)) stack.push(f);
    }

    const report: GcReport = {
      roots: rootCount,
      reachable: reachable.size,
      packed: { kept: 0, removed: 0, bytesBefore: 0, bytesAfter: 0 },
      loose: { kept: 0, removed: 0, young: 0 },
      tempFiles: 0,
    };

    const store = registry.packed;
    store.reset();
    const committed = store.committedEntries();
    report.packed.bytesBefore = existsSync(L.pack) ? statSync(L.pack).size : 0;
    if (committed.packId) {
      const e = committed.entries;
      const keep: number[] = [];
      for (let i = 0; i < e.count; i++) {
        if (reachable.has(e.keys.toString("hex", i * 32, i * 32 + 32))) keep.push(i);
        else report.packed.removed++;
      }
      report.packed.kept = keep.length;
      if (report.packed.removed > 0 || report.packed.bytesBefore > committed.packLen || committed.stale) {
        keep.sort((a, b) => (e.offsets[a] as number) - (e.offsets[b] as number));
        const packId = randomBytes(16);
        const tmpPack = `${L.pack}.gc-${process.pid}`;
        const tmpLut = `${L.lut}.gc-${process.pid}`;
        const old = readFileSync(L.pack);
        const fd = openSync(tmpPack, "w", 0o644);
        const items: Array<{ hash: string; offset: number; len: number }> = [];
        try {
          writeAll(fd, encodePackHeader(packId), 0);
          let pos = PACK_HEADER_LEN;
          for (const i of keep) {
            const offset = e.offsets[i] as number;
            const len = e.lens[i] as number;
            // The record moves as it is (length, hash, body, CRC): the CRC covers nothing that depends on position.
            writeAll(fd, old.subarray(offset, offset + RECORD_OVERHEAD + len), pos);
            items.push({ hash: e.keys.toString("hex", i * 32, i * 32 + 32), offset: pos, len });
            pos += RECORD_OVERHEAD + len;
          }
          fsyncSync(fd);
          closeSync(fd);
          const lutFd = openSync(tmpLut, "w", 0o644);
          try {
            writeAll(lutFd, encodeLut(sortEntries(items), pos, packId), 0);
            fsyncSync(lutFd);
          } finally {
            closeSync(lutFd);
          }
          renameSync(tmpPack, L.pack);
          fsyncDir(dirname(L.pack));
          renameSync(tmpLut, L.lut);
          fsyncDir(dirname(L.lut));
          report.packed.bytesAfter = pos;
        } catch (err) {
          rmSync(tmpPack, { force: true });
          rmSync(tmpLut, { force: true });
          throw err;
        }
        store.reset();
      } else report.packed.bytesAfter = committed.packLen;
    }

    if (existsSync(L.cas)) {
      const now = Date.now();
      for (const name of readdirSync(L.cas)) {
        const path = join(L.cas, name);
        const young = now - statSync(path).mtimeMs < grace;
        if (name.startsWith(".tmp-")) {
          if (!young) {
            rmSync(path, { force: true });
            report.tempFiles++;
          }
          continue;
        }
        const hash = name.slice(0, -5);
        if (!HASH_RE.test(hash) || !name.endsWith(".json")) continue;
        if (reachable.has(hash)) report.loose.kept++;
        else if (young) report.loose.young++;
        else {
          rmSync(path, { force: true });
          report.loose.removed++;
        }
      }
      if (report.loose.removed || report.tempFiles) fsyncDir(L.cas);
    }
    return report;
  });
}
