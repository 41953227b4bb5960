#!/usr/bin/env node
// Registry bench (issue 14), each part measured side by side in one process, interleaved so machine load hits both:
//  (a) hash → object bytes through pack/index.lut for N objects (default 1,000,000), beside a JS Map of the same
//      hex keys to {offset, len} over the same pack buffer; also through pread (a pack read per lookup); the memory
//      of the index (bytes held) against the Map's heap.
//  (b) `rtt registry ingest` of S agent files declaring one rtt:// symbol each (default 100,000), beside the limit:
//      SHA-256 of the same bytes, and reading the files + SHA-256.
//
//   npm run build   then   node bench/registry/run.mjs [--n 1000000] [--symbols 100000] [--runs 3] [--out DIR]
//
// Generated data is cached in bench/out/registry. Not part of `npm test`; bench/registry/smoke.test.ts runs it tiny.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// The Map's heap is measured after a full GC.
if (typeof global.gc !== "function") {
  const r = spawnSync(process.execPath, ["--expose-gc", ...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
  });
  process.exit(r.status ?? 1);
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const { Registry, canonicalBytes, sha256Hex, ingestRegistry } = await import(
  join(ROOT, "packages/fabric/dist/index.js")
);

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const N = opt("n", 1_000_000);
const SYMBOLS = opt("symbols", 100_000);
const RUNS = opt("runs", 3);
const GEN = 1; // bump when the generated objects change
const outArg = args.indexOf("--out");
const out = outArg >= 0 ? args[outArg + 1] : join(ROOT, "bench/out/registry");
mkdirSync(out, { recursive: true });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (b) => Math.round((b / 1048576) * 10) / 10;
const agent = (i) => ({
  id: `agent-${i}`,
  version: `1.${i % 7}.${i % 13}`,
  description: `bench agent ${i}`,
  symbols: [{ symbol: `rtt://bench/agent-${i}` }],
});

// ---- (a) lookups ------------------------------------------------------------------------------------------------
const regDir = join(out, `lookup-${N}-v${GEN}`);
const hashesFile = join(regDir, "hashes.txt");
if (!existsSync(hashesFile)) {
  rmSync(regDir, { recursive: true, force: true });
  const t0 = performance.now();
  const reg = new Registry(regDir);
  const hashes = [];
  reg.writing(() => {
    const { writer, base } = reg.packed.openWriter();
    const added = [];
    for (let i = 0; i < N; i++) {
      const bytes = canonicalBytes(agent(i));
      const hash = sha256Hex(bytes);
      hashes.push(hash);
      added.push({ hash, offset: writer.append(Buffer.from(hash, "hex"), bytes), len: bytes.length });
    }
    reg.packed.commit(writer, base, added);
    writer.close();
  });
  writeFileSync(hashesFile, hashes.join("\n"));
  console.error(`built a ${N}-object pack and index in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const hashes = readFileSync(hashesFile, "utf8").split("\n");

// Random probe order, the same every run (xorshift).
let seed = 0x2545f491;
const rnd = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const PROBES = Math.min(200_000, N);
const probes = Array.from({ length: PROBES }, () => hashes[Math.floor(rnd() * N)]);

const reg = new Registry(regDir);
const openT0 = performance.now();
const info = reg.packed.info(); // loads index.lut's lookup columns and the pack
const openMs = performance.now() - openT0;
const pread = new Registry(regDir, { packInMemoryMax: 0 });
pread.packed.info();
const packBuf = readFileSync(join(regDir, "pack/agents.pack"));

// The Map baseline: the same keys as hex strings → {offset, len}, built from the index's own answers. The Map owns
// its key strings (fresh copies, counted in its heap), as an index built from the pack would; probes use others.
global.gc();
const heap0 = process.memoryUsage().heapUsed;
const map = new Map();
for (const h of hashes) map.set(Buffer.from(h, "hex").toString("hex"), reg.packed.locate(h));
global.gc();
const mapHeap = process.memoryUsage().heapUsed - heap0;

const BATCH = 1000;
const lut = [];
const viaMap = [];
const viaPread = [];
let sink = 0;
// Wall time per lookup, and CPU time (process.cpuUsage) beside it: on a shared, loaded machine the wall clock
// also counts time the process spent waiting for a core.
const cpu = { lut: [], map: [], pread: [] };
const timeBatch = (fn, from, cpuInto) => {
  const c0 = process.cpuUsage().user;
  const t0 = process.hrtime.bigint();
  for (let k = from; k < from + BATCH; k++) sink += fn(probes[k]).length;
  const wall = Number(process.hrtime.bigint() - t0) / BATCH;
  cpuInto?.push(((process.cpuUsage().user - c0) * 1000) / BATCH);
  return wall;
};
const byLut = (h) => reg.packed.read(h);
const byMap = (h) => {
  const e = map.get(h);
  return packBuf.subarray(e.offset + 36, e.offset + 36 + e.len);
};
const byPread = (h) => pread.packed.read(h);
// Warm-up, then interleaved batches.
for (let from = 0; from + BATCH <= Math.min(PROBES, 20_000); from += BATCH) {
  timeBatch(byLut, from);
  timeBatch(byMap, from);
}
for (let r = 0; r < RUNS; r++) {
  for (let from = 0; from + BATCH <= PROBES; from += BATCH) {
    lut.push(timeBatch(byLut, from, cpu.lut));
    viaMap.push(timeBatch(byMap, from, cpu.map));
    if (from % (BATCH * 10) === 0) viaPread.push(timeBatch(byPread, from, cpu.pread));
  }
}
// Same bytes either way.
for (const h of probes.slice(0, 1000))
  if (!byLut(h).equals(byMap(h)) || !byPread(h).equals(byLut(h))) throw new Error("lookup mismatch");
const verified = [];
for (let from = 0; from + BATCH <= Math.min(PROBES, 50_000); from += BATCH)
  verified.push(timeBatch((h) => reg.getBytes(h), from));

const lookup = {
  objects: N,
  pack_mib: mb(info.packLen),
  open_ms: Math.round(openMs),
  lut_lookup_ns_median: Math.round(median(lut)),
  map_lookup_ns_median: Math.round(median(viaMap)),
  lut_over_map: Number((median(lut) / median(viaMap)).toFixed(2)),
  lut_lookup_cpu_ns_median: Math.round(median(cpu.lut)),
  map_lookup_cpu_ns_median: Math.round(median(cpu.map)),
  pread_lookup_cpu_ns_median: Math.round(median(cpu.pread)),
  pread_lookup_ns_median: Math.round(median(viaPread)),
  verified_getBytes_ns_median: Math.round(median(verified)),
  index_bytes: info.indexBytes,
  index_mib: mb(info.indexBytes),
  map_heap_mib: mb(mapHeap),
  index_over_map_heap: Number((info.indexBytes / mapHeap).toFixed(3)),
  index_lut_file_mib: mb(readFileSync(join(regDir, "pack/index.lut")).length),
};
map.clear();

// ---- (b) ingest of SYMBOLS agent files ------------------------------------------------------------------------
const srcDir = join(out, `src-${SYMBOLS}-v${GEN}`);
if (!existsSync(join(srcDir, ".done"))) {
  rmSync(srcDir, { recursive: true, force: true });
  const t0 = performance.now();
  for (let i = 0; i < SYMBOLS; i++) {
    const d = join(srcDir, `g${String(i % 100).padStart(2, "0")}`);
    if (i < 100) mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `agent-${i}.agent.json`), `${JSON.stringify(agent(i), null, 2)}\n`);
  }
  writeFileSync(join(srcDir, ".done"), "");
  console.error(`wrote ${SYMBOLS} agent files in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const files = [];
for (const d of readdirSync(srcDir).sort()) {
  if (d.startsWith(".")) continue;
  for (const f of readdirSync(join(srcDir, d)).sort()) files.push(join(srcDir, d, f));
}
const contents = files.map((f) => readFileSync(f));
const totalBytes = contents.reduce((n, b) => n + b.length, 0);
const shaOnly = [];
const readSha = [];
const ingestMs = [];
let report;
for (let r = 0; r < RUNS; r++) {
  let t0 = performance.now();
  for (const b of contents) sink += createHash("sha256").update(b).digest().length;
  shaOnly.push(performance.now() - t0);
  t0 = performance.now();
  for (const f of files) sink += createHash("sha256").update(readFileSync(f)).digest().length;
  readSha.push(performance.now() - t0);
  const target = join(out, `ingest-${SYMBOLS}-run`);
  rmSync(target, { recursive: true, force: true });
  t0 = performance.now();
  report = ingestRegistry(new Registry(target), [srcDir]);
  ingestMs.push(performance.now() - t0);
  if (report.problems.length || report.symbols !== SYMBOLS)
    throw new Error(`ingest: ${JSON.stringify(report.problems.slice(0, 3))}`);
  console.error(
    `run ${r + 1}: sha256 ${shaOnly.at(-1).toFixed(0)} ms, read+sha256 ${readSha.at(-1).toFixed(0)} ms, ingest ${ingestMs.at(-1).toFixed(0)} ms`,
  );
}
// A second ingest of the same tree: everything already stored (idempotent path).
const again = performance.now();
const re = ingestRegistry(new Registry(join(out, `ingest-${SYMBOLS}-run`)), [srcDir]);
const reingestMs = performance.now() - again;
if (re.objects.created !== 0) throw new Error("re-ingest stored new objects");
rmSync(join(out, `ingest-${SYMBOLS}-run`), { recursive: true, force: true });

const ingest = {
  symbols: SYMBOLS,
  files: files.length,
  source_mib: mb(totalBytes),
  sha256_only_ms: Math.round(median(shaOnly)),
  read_and_sha256_ms: Math.round(median(readSha)),
  ingest_ms: Math.round(median(ingestMs)),
  ingest_symbols_per_s: Math.round(SYMBOLS / (median(ingestMs) / 1000)),
  sha256_symbols_per_s: Math.round(SYMBOLS / (median(shaOnly) / 1000)),
  ingest_over_sha256: Number((median(ingestMs) / median(shaOnly)).toFixed(1)),
  ingest_over_read_and_sha256: Number((median(ingestMs) / median(readSha)).toFixed(1)),
  reingest_unchanged_ms: Math.round(reingestMs),
  commits: report.commits,
};

const result = { node: process.version, runs: RUNS, lookup, ingest, sink: sink > 0 };
writeFileSync(join(out, "results.json"), `${JSON.stringify(result, null, 2)}\n`);
const row = (a, b, c) => `| ${a} | ${b} | ${c} |`;
console.log(
  [
    `registry bench — node ${process.version}, ${RUNS} runs`,
    "",
    "| (a) hash → object bytes | median per lookup, wall (CPU) | memory |",
    "|---|---:|---:|",
    row(
      `index.lut, ${N.toLocaleString("en")} objects (pack in memory)`,
      `${lookup.lut_lookup_ns_median} ns (${lookup.lut_lookup_cpu_ns_median} ns)`,
      `${lookup.index_mib} MiB index`,
    ),
    row(
      "JS Map of the same hex keys → {offset, len}",
      `${lookup.map_lookup_ns_median} ns (${lookup.map_lookup_cpu_ns_median} ns)`,
      `${lookup.map_heap_mib} MiB heap`,
    ),
    row(
      "index.lut, pread per lookup",
      `${lookup.pread_lookup_ns_median} ns (${lookup.pread_lookup_cpu_ns_median} ns)`,
      "—",
    ),
    row("getBytes (index.lut + SHA-256 check)", `${lookup.verified_getBytes_ns_median} ns`, "—"),
    row("ratio index/Map", `${lookup.lut_over_map}×`, `${lookup.index_over_map_heap}×`),
    "",
    "| (b) ingest | time (median) | symbols/s |",
    "|---|---:|---:|",
    row(
      `SHA-256 of the ${ingest.files.toLocaleString("en")} files' bytes (${ingest.source_mib} MiB, in memory)`,
      `${ingest.sha256_only_ms} ms`,
      ingest.sha256_symbols_per_s.toLocaleString("en"),
    ),
    row(
      "read the files + SHA-256",
      `${ingest.read_and_sha256_ms} ms`,
      Math.round(SYMBOLS / (ingest.read_and_sha256_ms / 1000)).toLocaleString("en"),
    ),
    row(
      `rtt registry ingest (scan, read, check, canonicalise, hash, pack, commit ×${ingest.commits})`,
      `${ingest.ingest_ms} ms`,
      ingest.ingest_symbols_per_s.toLocaleString("en"),
    ),
    row("ingest again, nothing new", `${ingest.reingest_unchanged_ms} ms`, "—"),
    row(
      "ratio ingest/SHA-256",
      `${ingest.ingest_over_sha256}×`,
      `(/read+SHA-256: ${ingest.ingest_over_read_and_sha256}×)`,
    ),
  ].join("\n"),
);
console.log(JSON.stringify(result, null, 2));
