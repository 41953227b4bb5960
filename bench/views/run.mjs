#!/usr/bin/env node
// View Engine benchmark (issue 14): `buildView` for P providers × A agents (one env, prod), time per view and per
// agent, beside a baseline measured in the same run and interleaved view by view: read the same input files (base
// + the overlays that apply), JSON.parse, RFC 8785-canonicalise and SHA-256 each — everything but merging, checking
// schemas and writing. Determinism is checked on every run: all views are built into two output folders, and the
// hash over every output file (path + bytes) and every view hash must be equal; then a rebuild over the first folder
// must write nothing.
//
//   npm run build (or: npx tsc -b packages/fabric)   then   node bench/views/run.mjs [--providers 100] [--agents 1000]
//
// Builds run with durable: false (no fsync per file, as on a throwaway tree); --durable-views N also times the first
// N views with fsync, as `rtt view build` writes them. Not part of `npm test`; bench/views/smoke.test.ts runs it small.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildView, canonicalText, sha256Hex } from "@rtt/fabric";
import { generateProject, providerName } from "./gen.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const PROVIDERS = opt("providers", 100);
const AGENTS = opt("agents", 1000);
const DURABLE_VIEWS = Math.min(opt("durable-views", 3), PROVIDERS);
const outIdx = args.indexOf("--out");
const benchRoot = join(dirname(fileURLToPath(import.meta.url)), "../..");
const work = outIdx >= 0 ? args[outIdx + 1] : join(benchRoot, "bench/out/views");
const root = join(work, `project-${PROVIDERS}x${AGENTS}`);
mkdirSync(work, { recursive: true });

let t0 = performance.now();
const names = generateProject(root, { providers: PROVIDERS, agents: AGENTS });
console.error(
  `generated ${AGENTS} agents × ${PROVIDERS} providers in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);

const agentFiles = new Map();
for (const g of readdirSync(join(root, "agents")))
  for (const f of readdirSync(join(root, "agents", g)))
    agentFiles.set(f.replace(/\.agent\.json$/, ""), join(root, "agents", g, f));

/** The baseline: the same input files a view reads, parsed, canonicalised and hashed; nothing merged or written. */
function baseline(P) {
  const dirs = [join(root, "overlays/provider", P), join(root, "overlays/env/prod")];
  const present = dirs.map((d) => new Set(readdirSync(d)));
  const h = createHash("sha256");
  for (const name of names) {
    const files = [agentFiles.get(name)];
    dirs.forEach((d, i) => {
      for (const f of ["_global.patch.json", `${name}.patch.json`]) if (present[i].has(f)) files.push(join(d, f));
    });
    for (const f of files) h.update(sha256Hex(canonicalText(JSON.parse(readFileSync(f, "utf8")))));
  }
  return h.digest("hex");
}

/** One hash over every file under dir (sorted relative paths and their bytes). */
function treeHash(dir) {
  const h = createHash("sha256");
  const walk = (d, rel) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(join(d, e.name), r);
      else h.update(`${r}\0`).update(readFileSync(join(d, e.name)));
    }
  };
  walk(dir, "");
  return h.digest("hex");
}

const outA = join(work, "out-a");
const outB = join(work, "out-b");
rmSync(outA, { recursive: true, force: true });
rmSync(outB, { recursive: true, force: true });

const buildMs = [];
const baseMs = [];
const viewHashes = [[], []];
let files = 0;
for (let p = 0; p < PROVIDERS; p++) {
  const P = providerName(p);
  // Interleaved, alternating which goes first, so machine load hits both alike.
  const order = p % 2 === 0 ? ["base", "build"] : ["build", "base"];
  for (const what of order) {
    t0 = performance.now();
    if (what === "base") {
      baseline(P);
      baseMs.push(performance.now() - t0);
    } else {
      const r = buildView({ root, provider: P, env: "prod", out: outA, durable: false });
      buildMs.push(performance.now() - t0);
      if (r.agents !== AGENTS) throw new Error(`${P}: ${r.agents} agents built, expected ${AGENTS}`);
      files += r.written.length;
      viewHashes[0].push(r.viewHash);
    }
  }
}
// The second build, into another folder: every byte must be the same.
for (let p = 0; p < PROVIDERS; p++)
  viewHashes[1].push(buildView({ root, provider: providerName(p), env: "prod", out: outB, durable: false }).viewHash);
const hashA = treeHash(outA);
const hashB = treeHash(outB);
if (hashA !== hashB || viewHashes[0].join() !== viewHashes[1].join())
  throw new Error(`NOT DETERMINISTIC: outputs ${hashA} vs ${hashB}`);

// A rebuild over the first folder: nothing may be written.
const rebuildMs = [];
for (let p = 0; p < PROVIDERS; p++) {
  t0 = performance.now();
  const r = buildView({ root, provider: providerName(p), env: "prod", out: outA, durable: false });
  rebuildMs.push(performance.now() - t0);
  if (r.written.length || r.removed.length) throw new Error(`rebuild of ${providerName(p)} wrote ${r.written}`);
}

// As `rtt view build` writes (fsync per file and folder), for a few views into a fresh folder.
const durableMs = [];
const outD = join(work, "out-durable");
rmSync(outD, { recursive: true, force: true });
for (let p = 0; p < DURABLE_VIEWS; p++) {
  t0 = performance.now();
  buildView({ root, provider: providerName(p), env: "prod", out: outD });
  durableMs.push(performance.now() - t0);
}

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const q = (xs, f) => sorted(xs)[Math.min(xs.length - 1, Math.floor(f * xs.length))];
const ms = (x) => Number(x.toFixed(1));
const stat = (xs) => ({ median: ms(q(xs, 0.5)), p90: ms(q(xs, 0.9)), total: ms(xs.reduce((a, b) => a + b, 0)) });
const result = {
  providers: PROVIDERS,
  agents: AGENTS,
  node: process.version,
  files_written: files,
  build_view_ms: stat(buildMs),
  build_per_agent_us: Number(((q(buildMs, 0.5) / AGENTS) * 1000).toFixed(1)),
  baseline_view_ms: stat(baseMs),
  baseline_per_agent_us: Number(((q(baseMs, 0.5) / AGENTS) * 1000).toFixed(1)),
  ratio_build_to_baseline: Number((q(buildMs, 0.5) / q(baseMs, 0.5)).toFixed(2)),
  rebuild_nothing_to_write_ms: stat(rebuildMs),
  durable_build_view_ms: durableMs.length ? stat(durableMs) : null,
  deterministic: { outputs_sha256: hashA, builds_compared: 2, view_hashes_equal: true },
};
writeFileSync(join(work, "results.json"), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
