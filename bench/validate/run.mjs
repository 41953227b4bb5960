#!/usr/bin/env node
// Throughput of `rtt validate` on an NDJSON file of realistic v2 logs, measured in the same run against
// (a) reading + JSON.parse of the same lines (the limit) and (b) peers: ajv-cli and Python's jsonschema.
// Usage: npm run build && node bench/validate/run.mjs [--logs 100000]
import { execFileSync, spawnSync } from "node:child_process";
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { prng } from "../lib/prng.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const core = await import(join(ROOT, "packages/core/dist/index.js"));
const argLogs = process.argv.indexOf("--logs");
const N = argLogs > 0 ? Number(process.argv[argLogs + 1]) : 100_000;

/** A realistic v2 log: operator fields, 3 segments of 20–40 noisy samples, a few typed anomalies with severity. */
function makeLog(i, rnd) {
  const labels = ["warmup", "main", "cooldown"];
  const types = ["DECOHERENCE_SPIKE", "CORRIDOR_C_DRIFT", "OVERSHOOT_EVENT", "HUNTING_OSCILLATION"];
  const segments = labels
    .map((label, k) => {
      const n = 20 + Math.floor(rnd() * 21);
      let s = { t: 0, C: 0.1 + rnd() * 0.05, D: 1, Q: 0.5, R: 0 };
      const samples = [];
      for (let j = 0; j < n; j++) {
        samples.push({ t: s.t, C: s.C, D: s.D, Q: s.Q, R: s.R });
        s = core.update(s, 0.1, { u: (rnd() - 0.5) * 0.2, w: { D: (rnd() - 0.5) * 1e-3 } });
      }
      const anomalies = [];
      if (rnd() < 0.4)
        anomalies.push({
          t: samples[Math.floor(rnd() * n)].t,
          type: types[Math.floor(rnd() * 4)],
          severity: 1 + Math.floor(rnd() * 4),
        });
      return { segment_id: `seg-${label}`, label, samples, anomalies, k };
    })
    .map(({ k, ...seg }) => seg);
  const final = Math.round(rnd() * 100);
  return core.buildSessionV2(
    {
      session_id: `RTT-BENCH-${i}`,
      timestamp: "2026-01-06T21:10:00Z",
      device: "COMT",
      scenario: "COMT_LOCK_01",
      difficulty: "Journeyman",
    },
    segments,
    {
      device_type: "COMT",
      mode: "TRAINING",
      operator_id: `urn:operator:triadic:op${i % 50}`,
      operator_display: `Operator ${i % 50}`,
      mastery_level: i % 31,
      scores: { stability: final, response: final, quality: final, final },
    },
  );
}

const work = mkdtempSync(join(tmpdir(), "rtt-bench-validate-"));
const file = join(work, "logs.ndjson");
{
  const rnd = prng(42);
  const out = createWriteStream(file);
  for (let i = 0; i < N; i++)
    if (!out.write(`${JSON.stringify(makeLog(i, rnd))}\n`)) await new Promise((r) => out.once("drain", r));
  await new Promise((r) => out.end(r));
}
const mb = statSync(file).size / 1e6;
console.log(`input: ${N} v2 logs, ${mb.toFixed(1)} MB (${file})`);

const time = (fn) => {
  const t0 = process.hrtime.bigint();
  const r = fn();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, result: r };
};

// (a) the limit: a fresh Node process reading the same lines and JSON.parse-ing each, like `rtt validate` does.
const parseScript = join(work, "parse.mjs");
writeFileSync(
  parseScript,
  `import { createReadStream } from "node:fs"; import { createInterface } from "node:readline";
let n = 0; for await (const line of createInterface({ input: createReadStream(process.argv[2]), crlfDelay: Infinity })) { if (line) { JSON.parse(line); n++; } }
console.log(n);`,
);
const parse = time(() => execFileSync(process.execPath, [parseScript, file], { encoding: "utf8" }).trim());
const rtt = time(() =>
  spawnSync(process.execPath, [join(ROOT, "packages/cli/dist/bin/rtt.js"), "validate", file, "--quiet"], {
    encoding: "utf8",
  }),
);
if (rtt.result.status !== 0) throw new Error(`rtt validate failed: ${rtt.result.stdout}${rtt.result.stderr}`);
console.log(`rtt validate summary: ${rtt.result.stdout.trim()}`);

const rows = [
  ["JSON.parse of the lines (limit)", parse.seconds, N],
  ["rtt validate (schema + semantics)", rtt.seconds, N],
];

// (b) peers, on a subset: they take one document per file (ajv-cli) or per call (jsonschema).
const PEER_N = Math.min(N, 5_000);
const peerDir = join(work, "peer");
mkdirSync(peerDir);
{
  let i = 0;
  for await (const line of createInterface({ input: createReadStream(file) })) {
    if (i >= PEER_N) break;
    writeFileSync(join(peerDir, `${i++}.json`), line);
  }
}
const schema = join(ROOT, "spec/v2/rttinside_session_schema.json");
const ajvBin = join(ROOT, "node_modules/.bin/ajv");
if (existsSync(ajvBin)) {
  const ajv = time(() =>
    spawnSync(ajvBin, ["validate", "--spec=draft2020", "-c", "ajv-formats", "-s", schema, "-d", `${peerDir}/*.json`], {
      encoding: "utf8",
      maxBuffer: 1 << 28,
    }),
  );
  if (ajv.result.status === 0) rows.push(["ajv-cli (peer, schema only)", ajv.seconds, PEER_N]);
  else
    console.log(
      `ajv-cli skipped: exit ${ajv.result.status}: ${(ajv.result.stderr || ajv.result.stdout).slice(0, 300)}`,
    );
} else console.log("ajv-cli skipped: not installed");

const py = ["python3", "/usr/bin/python3"].find((p) => spawnSync(p, ["-c", "import jsonschema"]).status === 0);
if (py) {
  const script = `import json, sys, glob, jsonschema
s = json.load(open(sys.argv[1])); v = jsonschema.Draft202012Validator(s, format_checker=jsonschema.FormatChecker())
n = 0
for f in sorted(glob.glob(sys.argv[2] + "/*.json"))[: int(sys.argv[3])]:
    v.validate(json.load(open(f))); n += 1
print(n)`;
  // Python's validator is ~50x slower; 1,000 documents give a stable rate without dominating the run.
  const pyN = Math.min(PEER_N, 1_000);
  const pyr = time(() => spawnSync(py, ["-c", script, schema, peerDir, String(pyN)], { encoding: "utf8" }));
  if (pyr.result.status === 0)
    rows.push([
      `python jsonschema ${spawnSync(py, ["-c", "import jsonschema;print(jsonschema.__version__)"], { encoding: "utf8" }).stdout.trim()} (peer, schema only)`,
      pyr.seconds,
      pyN,
    ]);
  else console.log(`python jsonschema skipped: ${pyr.result.stderr.slice(0, 300)}`);
} else console.log("python jsonschema skipped: no python3 with the jsonschema module");

const limit = N / parse.seconds;
console.log("\n| what | logs | seconds | logs/s | ratio to JSON.parse |\n|---|---:|---:|---:|---:|");
for (const [name, s, n] of rows)
  console.log(`| ${name} | ${n} | ${s.toFixed(2)} | ${Math.round(n / s)} | ${(n / s / limit).toFixed(2)} |`);
const ratio = N / rtt.seconds / limit;
console.log(`\nrtt validate / JSON.parse = ${ratio.toFixed(2)} (target ≥ 0.5: ${ratio >= 0.5 ? "met" : "NOT met"})`);
rmSync(work, { recursive: true, force: true });
