#!/usr/bin/env node
// POST /api/rtt/validate on a 17,000-node flow graph (issue 13): the analysis as it was before the fix (built from
// git, the baseline) against the current build, in the same process on the same request objects; then the whole
// HTTP path (JSON parse, schema, analysis, answer) of the current plugin, and the response sizes of a request that
// used to amplify. Run after `npx tsc -b packages/diagnostics`:
//   node bench/diagnostics/run.mjs [--runs 3] [--baseline-rev 296f4d1] [--nodes 17000]
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { prng } from "../lib/prng.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const runs = Number(arg("runs", "3"));
const rev = arg("baseline-rev", "296f4d1"); // the last commit before issue 13's diagnostics fixes
const N = Number(arg("nodes", "17000"));

// The baseline: graph.ts and coherence.ts at `rev`, transpiled (their only other import is a type).
const ts = (await import("typescript")).default;
const baseDir = join(ROOT, "bench/out/diagnostics", `baseline-${rev}`);
mkdirSync(baseDir, { recursive: true });
for (const f of ["graph", "coherence"]) {
  const src = execFileSync("git", ["show", `${rev}:packages/server/src/diagnostics/${f}.ts`], { cwd: ROOT }).toString();
  const out = ts.transpileModule(src, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  writeFileSync(join(baseDir, `${f}.js`), out.outputText);
}
const old = await import(join(baseDir, "coherence.js"));
const cur = await import(join(ROOT, "packages/diagnostics/dist/coherence.js"));
const { diagnosticsPlugin } = await import(join(ROOT, "packages/diagnostics/dist/plugin.js"));
const { default: Fastify } = await import("fastify");
const { Registry } = await import("prom-client");

/** The shape: a 17,000-service chain, one latency budget end to end. */
function chainRequest(n) {
  const flows = [];
  for (let i = 1; i < n; i++) flows.push({ from: `svc-${i - 1}`, to: `svc-${i}`, latency_ms: 1 });
  return {
    system_map: {},
    flows,
    constraints: [{ type: "latency_budget_ms", from: "svc-0", to: `svc-${n - 1}`, budget_ms: 5 }],
  };
}

/**
 * A datacenter-like graph: 16 gateways → 1,000 services → the rest as hosts, 3 edges per node on average,
 * declared inventory, and 50 constraints of every path kind from the gateways.
 */
function datacenterRequest(n) {
  const rnd = prng(13);
  const name = (i) => (i < 16 ? `gw-${i}` : i < 1016 ? `svc-${i}` : `host-${i}`);
  const services = Array.from({ length: n }, (_, i) => name(i));
  const flows = [];
  for (let i = 16; i < n; i++) {
    const tier = i < 1016 ? 16 : 1016;
    const callers = i < 1016 ? 2 : 3;
    for (let k = 0; k < callers; k++) {
      const from = Math.floor(rnd() * Math.min(tier, i));
      flows.push({ from: name(from), to: name(i), latency_ms: Math.round(rnd() * 200) / 10 });
    }
  }
  const constraints = [];
  for (let c = 0; c < 50; c++) {
    const from = name(c % 16);
    const to = name(1016 + Math.floor(rnd() * (n - 1016)));
    const type = ["latency_budget_ms", "max_hops", "requires", "no_path"][c % 4];
    constraints.push({ type, from, to, max: 2, budget_ms: 25 });
  }
  return { system_map: { services, entrypoints: services.slice(0, 16) }, flows, constraints };
}

/** The amplification probe: 1,000 violated path constraints over a 5,000-node chain (~280 KB of JSON). */
function amplifyRequest() {
  const n = 5000;
  const { flows } = chainRequest(n);
  const constraints = [];
  for (let i = 0; i < 500; i++) constraints.push({ type: "no_path", from: "svc-0", to: `svc-${n - 1}` });
  for (let i = 0; i < 500; i++) constraints.push({ type: "max_hops", from: "svc-0", to: `svc-${n - 1}`, max: 1 });
  return { system_map: { entrypoints: ["svc-0"] }, flows, constraints };
}

/** Every constraint needs its own full search: the most work a request can ask for within the size limits. */
function workRequest(shape, type) {
  const rnd = prng(7);
  const flows = [];
  if (shape === "chain") {
    for (let i = 1; i < 50_000; i++) flows.push({ from: `n${i - 1}`, to: `n${i}`, latency_ms: 1 });
  } else {
    for (let i = 0; i < 99_998; i++)
      flows.push({
        from: `n${Math.floor(rnd() * 30_000)}`,
        to: `n${Math.floor(rnd() * 30_000)}`,
        latency_ms: Math.floor(rnd() * 100),
      });
    flows.push({ from: "x", to: "sink" });
  }
  const to = shape === "chain" ? "n49999" : "sink";
  const constraints = Array.from({ length: 1000 }, (_, i) => ({ type, from: `n${i}`, to, budget_ms: 1 }));
  return { system_map: {}, flows, constraints };
}

function time(fn) {
  const t0 = performance.now();
  const r = fn();
  return { ms: performance.now() - t0, r };
}
const min = (xs) => Math.min(...xs);
const fmt = (ms) => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`.padStart(10);
const row = (what, a, b) => console.log(`${what.padEnd(58)} ${a}${b ?? ""}`);

console.log(`# bench/diagnostics: POST /api/rtt/validate, baseline = ${rev}, min of ${runs} run(s)`);
console.log(`node ${process.version}, ${process.arch}`);

for (const [label, req] of [
  [`${N}-node chain, latency_budget_ms end to end`, chainRequest(N)],
  [`${N}-node datacenter graph, 50 path constraints`, datacenterRequest(N)],
]) {
  const body = JSON.stringify(req);
  console.log(`\n## ${label}: ${req.flows.length} flows, ${(body.length / 1e6).toFixed(2)} MB of JSON`);
  const parse = [];
  const before = [];
  const after = [];
  let same = true;
  let identical = true;
  for (let k = 0; k < runs; k++) {
    parse.push(time(() => JSON.parse(body)).ms);
    const o = time(() => old.validateCoherence(JSON.parse(body)));
    const c = time(() => cur.validateCoherence(JSON.parse(body)));
    before.push(o.ms);
    after.push(c.ms);
    // Same verdict and score; findings may differ only where long paths are now elided.
    same &&= o.r.coherent === c.r.coherent && o.r.score === c.r.score && o.r.findings.length === c.r.findings.length;
    identical &&= JSON.stringify(o.r.findings) === JSON.stringify(c.r.findings);
  }
  const p = min(parse);
  row("JSON.parse of the body (for scale)", fmt(p));
  row(`validateCoherence, baseline ${rev} (incl. a parse)`, fmt(min(before)));
  row("validateCoherence, now (incl. a parse)", fmt(min(after)));
  const verdict = !same
    ? "  RESULTS DIFFER"
    : identical
      ? "  (identical findings)"
      : "  (same verdict, score and findings; long paths now elided in messages)";
  row("speed-up", `${(min(before) / min(after)).toFixed(1)}x`.padStart(10), verdict);
}

// The whole HTTP path of the current plugin (no store needed for validate).
const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });
await app.register(diagnosticsPlugin, { store: {}, registry: new Registry(), requireWrite: () => {} });
await app.ready();

/** One row: the fastest of `runs` timed POSTs of `req` to /api/rtt/validate after `warmup` untimed ones. */
async function timeValidate(label, req, warmup = 0) {
  const payload = JSON.stringify(req);
  const ms = [];
  let status = 0;
  for (let k = 0; k < warmup + runs; k++) {
    const t0 = performance.now();
    const r = await app.inject({
      method: "POST",
      url: "/api/rtt/validate",
      payload,
      headers: { "content-type": "application/json" },
    });
    if (k >= warmup) ms.push(performance.now() - t0);
    status = r.statusCode;
  }
  row(`${label}: status ${status}`, fmt(min(ms)));
}

console.log("\n## HTTP: POST /api/rtt/validate through Fastify inject, current build");
for (const [label, req] of [
  [`${N}-node chain`, chainRequest(N)],
  [`${N}-node datacenter graph`, datacenterRequest(N)],
]) {
  await timeValidate(label, req, 1); // the first request compiles the schema
}

console.log(
  "\n## Worst case inside the size limits: 1,000 path constraints from distinct sources (413 at the work limit)",
);
for (const [label, req] of [
  ["no_path over a 50,000-node chain", workRequest("chain", "no_path")],
  ["latency_budget_ms over a random 30,000-node, 99,999-edge graph", workRequest("random", "latency_budget_ms")],
]) {
  await timeValidate(label, req);
}

console.log("\n## Amplification: response size of 1,000 violated path constraints over a 5,000-node chain");
{
  const req = amplifyRequest();
  const inBytes = JSON.stringify(req).length;
  const o = time(() => JSON.stringify(old.validateCoherence(req)).length);
  const r = await app.inject({
    method: "POST",
    url: "/api/rtt/validate",
    payload: JSON.stringify(req),
    headers: { "content-type": "application/json" },
  });
  row("request", `${(inBytes / 1e3).toFixed(0)} kB`.padStart(10));
  row(`response, baseline ${rev}`, `${(o.r / 1e6).toFixed(1)} MB`.padStart(10), `  (${o.ms.toFixed(0)} ms)`);
  row(
    `response, now (status ${r.statusCode}, findings_omitted ${r.json().findings_omitted})`,
    `${(r.rawPayload.length / 1e3).toFixed(0)} kB`.padStart(10),
  );
}
await app.close();
