#!/usr/bin/env node
// WAL replay bench (issue 15): open a plan WAL of N records with full verification (chained CRC-32C, sequence,
// SHA-256 hash chain, JSON of every payload) and replay it to the plan in force, beside the limit: bare SHA-256 of
// every record's bytes (the hash chain cannot do less), and one SHA-256 pass over the whole file. Interleaved
// runs in one process, so machine load hits all rows alike.
//
//   npm run build   then   node bench/wal/run.mjs [--records N] [--runs R]
import { createHash, hash } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PlanLog, scanWal } from "@rtt/fabric";
import { generateWal } from "./gen.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const RECORDS = opt("records", 250_000);
const RUNS = opt("runs", 5);
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const dir = join(root, "bench/out/wal");
mkdirSync(dir, { recursive: true });
const path = join(dir, `plans-${RECORDS}.wal`);
const t0 = performance.now();
const n = generateWal(path, RECORDS);
const bytes = readFileSync(path);
console.error(
  `generated ${path}: ${n} records, ${(bytes.length / 1e6).toFixed(1)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);

// Record boundaries, for the per-record hashing limit.
const bounds = [];
for (let off = 8; off < bytes.length; ) {
  const end = off + 48 + bytes.readUInt32LE(off);
  bounds.push(off + 8, end);
  off = end;
}

const rows = {
  "SHA-256 of each record (limit)": () => {
    for (let i = 0; i < bounds.length; i += 2) hash("sha256", bytes.subarray(bounds[i], bounds[i + 1]), "buffer");
  },
  "SHA-256 of the whole file in one pass": () => createHash("sha256").update(readFileSync(path)).digest(),
  "verify: read + CRC chain + hash chain + JSON (scanWal)": () => scanWal(path, readFileSync(path)),
  "replay: open + verify + 2PC state (PlanLog.open)": () => PlanLog.open(path).close(),
};
const times = Object.fromEntries(Object.keys(rows).map((k) => [k, []]));
for (let r = 0; r < RUNS; r++)
  for (const [name, fn] of Object.entries(rows)) {
    const s = performance.now();
    fn();
    times[name].push(performance.now() - s);
  }
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const limit = median(times["SHA-256 of each record (limit)"]);
console.log(`\n${n} records, ${(bytes.length / 1e6).toFixed(1)} MB, median of ${RUNS} interleaved runs\n`);
console.log("| what | ms | records/s | ratio to per-record SHA-256 |");
console.log("|---|---:|---:|---:|");
for (const [name, ts] of Object.entries(times)) {
  const m = median(ts);
  console.log(
    `| ${name} | ${m.toFixed(1)} | ${Math.round(n / (m / 1000)).toLocaleString("en-US")} | ${(limit / m).toFixed(2)} |`,
  );
}
