#!/usr/bin/env node
// CTF benchmark: read + validate + recompute Q-metrics of a 1,000,000-event trace, measured against
// the limit of splitting the same file into lines and JSON.parse-ing each one, in the same process and
// interleaved (so machine load hits both alike); then `rtt ctf diff` of two 1M-event traces, in this process and as
// the command (wall clock, process start-up included).
//
//   npm run build (or: npx tsc -p packages/ctf)   then   node bench/ctf/run.mjs [--events N] [--runs R]
//
// Not part of `npm test`; bench/ctf/smoke.test.ts runs it on a tiny trace.
import { spawnSync } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { diffSides, loadDiffSides, validateCTFFile } from "@rtt/ctf";
import { generateTrace } from "./gen.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const EVENTS = opt("events", 1_000_000);
const RUNS = opt("runs", 3);
const GEN_VERSION = 2; // bump when gen.mjs or the metric definitions change
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const outDir = join(root, "bench/out/ctf");
mkdirSync(outDir, { recursive: true });

const fileA = join(outDir, `a-${EVENTS}-v${GEN_VERSION}.ctf`);
const fileB = join(outDir, `b-${EVENTS}-v${GEN_VERSION}.ctf`);
for (const [file, divergeAtStep] of [
  [fileA, Number.POSITIVE_INFINITY],
  [fileB, Math.floor(EVENTS / 6)], // ~3 events per step: B leaves A's path halfway through
]) {
  if (!existsSync(file)) {
    const t0 = performance.now();
    const n = generateTrace(file, { events: EVENTS, divergeAtStep });
    console.error(`generated ${file}: ${n} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}

/** The limit: stream the file, split on \n, JSON.parse every line, nothing else. */
function parseOnly(path) {
  return new Promise((resolve, reject) => {
    let carry = "";
    let n = 0;
    const s = createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 });
    s.on("data", (chunk) => {
      const text = carry + chunk;
      let start = 0;
      for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
        if (nl > start) {
          JSON.parse(text.slice(start, nl));
          n++;
        }
        start = nl + 1;
      }
      carry = text.slice(start);
    });
    s.on("error", reject);
    s.on("end", () => {
      if (carry.trim()) {
        JSON.parse(carry);
        n++;
      }
      resolve(n);
    });
  });
}

async function timed(fn) {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

const parse = [];
const full = [];
for (let r = 0; r < RUNS; r++) {
  const p = await timed(() => parseOnly(fileA));
  const v = await timed(() => validateCTFFile(fileA));
  if (v.value.errors || v.value.warnings)
    throw new Error(`bench trace not clean: ${JSON.stringify(v.value.issues.slice(0, 3))}`);
  if (p.value !== v.value.events) throw new Error(`event counts differ: ${p.value} vs ${v.value.events}`);
  parse.push(p.ms);
  full.push(v.ms);
  console.error(`run ${r + 1}: parse-only ${p.ms.toFixed(0)} ms, read+validate+recompute ${v.ms.toFixed(0)} ms`);
}
const diffs = [];
let diffResult;
for (let r = 0; r < RUNS; r++) {
  // Exactly what `rtt ctf diff A B` runs (two worker threads for files this size).
  const d = await timed(async () => diffSides(...(await loadDiffSides(fileA, fileB))));
  diffs.push(d.ms);
  diffResult = d.value;
  console.error(`run ${r + 1}: diff ${d.ms.toFixed(0)} ms`);
}

// The command itself, as a user runs it: process start-up, loading the command, both sides, the diff and its output.
const cli = join(root, "packages/cli/bin/rtt.js");
const cliRuns = [];
if (existsSync(join(root, "packages/cli/dist/bin/rtt.js"))) {
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const out = spawnSync(process.execPath, [cli, "ctf", "diff", fileA, fileB, "--format", "json"], {
      encoding: "utf8",
      maxBuffer: 64 * 2 ** 20,
    });
    const ms = performance.now() - t0;
    // diff(1)'s codes: 0 same, 1 different; 2 is trouble.
    if (out.status !== 0 && out.status !== 1) throw new Error(`rtt ctf diff exited ${out.status}: ${out.stderr}`);
    if (JSON.parse(out.stdout).common_prefix !== diffResult.common_prefix) throw new Error("the CLI's diff differs");
    cliRuns.push(ms);
    console.error(`run ${r + 1}: rtt ctf diff (CLI, wall) ${ms.toFixed(0)} ms`);
  }
} else console.error("rtt ctf diff (CLI) not measured: the CLI is not built (npm run build)");

const min = (xs) => Math.min(...xs);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const result = {
  events: EVENTS,
  bytes: statSync(fileA).size,
  runs: RUNS,
  node: process.version,
  parse_only_ms: { min: Math.round(min(parse)), median: Math.round(median(parse)) },
  validate_recompute_ms: { min: Math.round(min(full)), median: Math.round(median(full)) },
  ratio_of_parse_limit: Number((min(parse) / min(full)).toFixed(3)),
  events_per_s: Math.round(EVENTS / (min(full) / 1000)),
  diff_two_traces_ms: { min: Math.round(min(diffs)), median: Math.round(median(diffs)) },
  cli_diff_wall_ms: cliRuns.length ? { min: Math.round(min(cliRuns)), median: Math.round(median(cliRuns)) } : null,
  diff: {
    same: diffResult.same,
    divergence_index: diffResult.divergence?.index ?? null,
    common_prefix: diffResult.common_prefix,
  },
};
writeFileSync(join(outDir, "results.json"), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
