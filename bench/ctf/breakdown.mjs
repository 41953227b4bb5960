#!/usr/bin/env node
// Where validate's time goes, stage by stage, on the trace bench/ctf/run.mjs generated (run it first):
// the limit (split + JSON.parse), the reader alone, validate without recomputation (schema + rules
// replay), and the full validate. Interleaved in one process; minimum of R runs.
//
//   npx tsc -b packages/ctf && node bench/ctf/breakdown.mjs [--events N] [--runs R] [--baseline path/to/index.js]
//
// --baseline adds the same stages for another build of @rtt/ctf (e.g. an older commit's dist) in the same run.
import { createReadStream, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as current from "@rtt/ctf";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const EVENTS = Number(opt("events", 1_000_000));
const RUNS = Number(opt("runs", 3));
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const file = join(root, `bench/out/ctf/a-${EVENTS}-v2.ctf`);
if (!existsSync(file)) throw new Error(`${file} missing: run node bench/ctf/run.mjs --events ${EVENTS} first`);
const baselinePath = opt("baseline", null);
const builds = { new: current };
if (baselinePath) builds.baseline = await import(resolve(baselinePath));

function parseOnly(path) {
  return new Promise((resolve, reject) => {
    let carry = "";
    const s = createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 });
    s.on("data", (chunk) => {
      const text = carry + chunk;
      let start = 0;
      for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
        if (nl > start) JSON.parse(text.slice(start, nl));
        start = nl + 1;
      }
      carry = text.slice(start);
    });
    s.on("error", reject);
    s.on("end", resolve);
  });
}

const stages = { limit: () => parseOnly(file) };
for (const [name, m] of Object.entries(builds)) {
  stages[`${name}: reader + parse`] = () => m.readCTFFile(file, () => {});
  stages[`${name}: + schema + rules replay`] = () => m.validateCTFFile(file, { recompute: false }).then(clean);
  stages[`${name}: + recompute (full validate)`] = () => m.validateCTFFile(file).then(clean);
}
// Only the counts leave a stage: a report keeps its replay alive, which would tax the next stage's GC.
function clean(r) {
  if (r.errors || r.warnings) throw new Error(`bench trace not clean: ${JSON.stringify(r.issues.slice(0, 3))}`);
}

const times = Object.fromEntries(Object.keys(stages).map((k) => [k, []]));
for (let r = 0; r < RUNS; r++) {
  for (const [k, fn] of Object.entries(stages)) {
    const t0 = performance.now();
    await fn();
    times[k].push(performance.now() - t0);
  }
  console.error(
    `run ${r + 1}: ${Object.entries(times)
      .map(([k, v]) => `${k} ${v[r].toFixed(0)}`)
      .join(", ")}`,
  );
}
const limit = Math.min(...times.limit);
for (const [k, v] of Object.entries(times)) {
  const m = Math.min(...v);
  console.log(`${k.padEnd(40)} ${m.toFixed(0).padStart(6)} ms   limit/this ${(limit / m).toFixed(3)}`);
}
