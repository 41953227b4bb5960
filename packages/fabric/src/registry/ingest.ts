import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync } from "node:fs";
import { basename, dirname } from "node:path";
import { canonicalBytes, sha256Hex } from "../canonical.js";
import { FabricError, isFabricError } from "../errors.js";
import { parseJsonText } from "../json-file.js";
import { buildManifest, type McpManifest, normalizeServerName, toolSymbols } from "../mcp/manifest.js";
import { serverNameOfFile, toolsFromList } from "../mcp/tools-file.js";
import { assertSchema } from "../schemas.js";
import { discover, type Found } from "./discover.js";
import {
  type IndexMap,
  indexKey,
  readIndex,
  readSymbols,
  resolveRef,
  type SymbolMap,
  writeIndex,
  writeSymbols,
} from "./index-json.js";
import type { Registry } from "./registry.js";

/** A source file larger than this is refused: agents and manifests are small documents. */
export const MAX_SOURCE_BYTES = 16 * 1024 * 1024;

export interface IngestOptions {
  /** Called after each file with (files done, files found). */
  onProgress?: (done: number, total: number) => void;
  /** Commit (fsync the pack, replace index.lut, symbols.json, index.json) after this many new objects; default: once. */
  batchObjects?: number;
}

export interface IngestReport {
  /** Files scanned that were agents, manifests or tool lists and went in. */
  files: number;
  /** Stored objects: new ones, and ones the registry already had (same canonical bytes). */
  objects: { created: number; existing: number };
  /** index.json entries: new, pointing at other content than before, already as given. */
  entries: { added: number; updated: number; unchanged: number };
  /** Distinct rtt:// symbols the ingested documents declare. */
  symbols: number;
  /** One per file that could not go in (named in the error); the other files went in regardless. */
  problems: FabricError[];
  /** Uncommitted pack bytes cut off before appending (left by a writer that was killed). */
  repairedTail: number;
  commits: number;
}

interface Doc {
  key: string;
  hash: string;
  bytes: Buffer;
  symbols: string[];
  /** Objects the document points at, stored with it (the tools of a tool list). */
  parts: Array<{ hash: string; bytes: Buffer }>;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function declared(value: unknown): string[] {
  const syms = isObject(value) && Array.isArray(value.symbols) ? value.symbols : [];
  return syms.map((s) => (s as { symbol: string }).symbol);
}

/** One open, fstat and read per file: the size check costs no extra path lookup (a stat per file showed in profiles). */
function readSource(path: string): string {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_SOURCE_BYTES)
      throw new FabricError("RTT_FABRIC_INVALID", `${size} bytes, over the ${MAX_SOURCE_BYTES}-byte limit`, path);
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.toString("utf8", 0, got);
  } finally {
    closeSync(fd);
  }
}

function docOf(key: string, value: unknown, parts: Doc["parts"] = []): Doc {
  const bytes = canonicalBytes(value);
  return { key, hash: sha256Hex(bytes), bytes, symbols: declared(value), parts };
}

/** The previous manifest of an MCP server in this registry (highest version), so a re-scan steps its version. */
function previousMcp(registry: Registry, index: IndexMap, id: string): McpManifest | undefined {
  try {
    return registry.get(resolveRef(index, id).hash) as McpManifest;
  } catch (e) {
    if (isFabricError(e) && e.code === "RTT_FABRIC_NOT_FOUND") return undefined;
    throw e;
  }
}

/** Reads, checks and hashes one found file; undefined for a `*.json` that is no manifest (skipped quietly). */
export function loadSource(f: Found, registry: Registry, index: IndexMap): Doc | undefined {
  const text = readSource(f.path);
  switch (f.kind) {
    case "agent": {
      const v = parseJsonText(text, f.path) as { id: string; version: string };
      assertSchema("agent", v, f.path);
      return docOf(indexKey(v.id, v.version), v);
    }
    case "maybe-manifest":
    case "manifest": {
      let v: unknown;
      if (f.kind === "maybe-manifest") {
        if (!text.includes('"manifest"')) return undefined;
        try {
          v = parseJsonText(text, f.path);
        } catch {
          return undefined;
        }
        if (!isObject(v) || !("manifest" in v)) return undefined;
      } else v = parseJsonText(text, f.path);
      assertSchema("manifest", v, f.path);
      const m = v as { manifest: string; version: string };
      return docOf(indexKey(m.manifest, m.version), v);
    }
    case "tools": {
      const list = toolsFromList(parseJsonText(text, f.path), f.path);
      const raw = basename(f.path) === "tools.json" ? basename(dirname(f.path)) : serverNameOfFile(f.path);
      const server = normalizeServerName(raw);
      const hashed = list.tools.map((tool) => {
        const bytes = canonicalBytes(tool);
        return { tool, hash: sha256Hex(bytes), bytes };
      });
      const prev = previousMcp(registry, index, `mcp.${server}`);
      const { manifest } = buildManifest(server, { kind: "mcp", server }, toolSymbols(server, hashed), prev);
      assertSchema("manifest", manifest, f.path);
      return docOf(
        indexKey(manifest.manifest, manifest.version),
        manifest,
        hashed.map(({ hash, bytes }) => ({ hash, bytes })),
      );
    }
  }
}

/**
 * `rtt registry ingest PATH…` (seed 004 data flow 1: scan folders → index symbols → CAS ingest). Every file is read,
 * checked against its schema and hashed before anything of it is stored; a bad file is reported (its error names it)
 * and the others go in. Objects are appended to the pack — no fsync per object — and each commit makes a batch
 * durable in this order: pack fsync, index.lut, symbols.json, index.json (each replaced atomically), so every file
 * only names what the ones before it made durable. A SIGKILL at any point leaves the last commit intact plus an
 * uncommitted pack tail that readers ignore and the next writer cuts off (spec/fabric/pack.md, "Crash guarantee").
 */
export function ingest(registry: Registry, paths: readonly string[], opts: IngestOptions = {}): IngestReport {
  const { found, problems } = discover(paths, [registry.dir]);
  const report: IngestReport = {
    files: 0,
    objects: { created: 0, existing: 0 },
    entries: { added: 0, updated: 0, unchanged: 0 },
    symbols: 0,
    problems,
    repairedTail: 0,
    commits: 0,
  };
  const batchObjects = opts.batchObjects ?? Number.POSITIVE_INFINITY;
  registry.writing(() => {
    const layout = registry.layout;
    const index = readIndex(layout.index);
    const symbols: SymbolMap = readSymbols(layout.symbols);
    const opened = registry.packed.openWriter();
    const writer = opened.writer;
    let base = opened.base;
    report.repairedTail = writer.repaired;
    try {
      let added: Array<{ hash: string; offset: number; len: number }> = [];
      const pending = new Set<string>();
      const staged = new Map<string, string>();
      const stagedSymbols = new Map<string, Set<string>>();
      const seenSymbols = new Set<string>();
      const claimedBy = new Map<string, { hash: string; path: string }>();

      // Loose objects listed once: an existsSync per object showed in profiles, and only `put` adds loose ones.
      const loose = new Set(
        existsSync(layout.cas)
          ? readdirSync(layout.cas)
              .filter((n) => n.endsWith(".json"))
              .map((n) => n.slice(0, -5))
          : [],
      );
      const store = (hash: string, bytes: Buffer) => {
        if (pending.has(hash) || loose.has(hash) || registry.packed.has(hash)) {
          report.objects.existing++;
          return;
        }
        const offset = writer.append(Buffer.from(hash, "hex"), bytes);
        added.push({ hash, offset, len: bytes.length });
        pending.add(hash);
        report.objects.created++;
      };

      const commit = () => {
        base = registry.packed.commit(writer, base, added);
        added = [];
        pending.clear();
        for (const [key, hash] of staged) index[key] = hash;
        staged.clear();
        for (const [sym, hashes] of stagedSymbols) {
          const have = new Set(symbols[sym] ?? []);
          for (const h of hashes) have.add(h);
          symbols[sym] = [...have];
        }
        stagedSymbols.clear();
        // symbols.json lists only what index.json names: a replaced ID@version takes its old symbols with it.
        const live = new Set(Object.values(index));
        for (const sym of Object.keys(symbols)) {
          const kept = (symbols[sym] as string[]).filter((h) => live.has(h)).sort();
          if (kept.length) symbols[sym] = kept;
          else delete symbols[sym];
        }
        writeSymbols(layout.symbols, symbols);
        writeIndex(layout.index, index);
        report.commits++;
      };

      for (let i = 0; i < found.length; i++) {
        const f = found[i] as Found;
        try {
          const doc = loadSource(f, registry, index);
          if (doc) {
            const claim = claimedBy.get(doc.key);
            if (claim && claim.hash !== doc.hash)
              throw new FabricError(
                "RTT_FABRIC_INVALID",
                `${doc.key} is also declared, with other content, by ${claim.path}`,
                f.path,
              );
            claimedBy.set(doc.key, { hash: doc.hash, path: f.path });
            for (const p of doc.parts) store(p.hash, p.bytes);
            store(doc.hash, doc.bytes);
            const before = staged.get(doc.key) ?? index[doc.key];
            if (before === undefined) report.entries.added++;
            else if (before !== doc.hash) report.entries.updated++;
            else report.entries.unchanged++;
            staged.set(doc.key, doc.hash);
            for (const s of doc.symbols) {
              seenSymbols.add(s);
              let set = stagedSymbols.get(s);
              if (!set) {
                set = new Set();
                stagedSymbols.set(s, set);
              }
              set.add(doc.hash);
            }
            report.files++;
          }
        } catch (e) {
          // Every problem names its file, also those raised about a part of it (a server name, a tool).
          if (!isFabricError(e)) problems.push(new FabricError("RTT_FABRIC_UNREADABLE", (e as Error).message, f.path));
          else problems.push(e.message.includes(f.path) ? e : new FabricError(e.code, e.message, f.path));
        }
        if (added.length >= batchObjects) commit();
        opts.onProgress?.(i + 1, found.length);
      }
      // Nothing new: nothing is rewritten, so a repeated ingest leaves every file as it was.
      if (added.length || [...staged].some(([key, hash]) => index[key] !== hash)) commit();
      report.symbols = seenSymbols.size;
    } finally {
      writer.close();
    }
  });
  return report;
}
