#!/usr/bin/env node
// State updates per second of a long simulated session (all detectors, sensor model, S-E-T, S-N-R and an RTT-12
// dimensional core on) against a bare loop of the reference rule, in the same process. Run after `npm run build`:
//   node bench/engine/run.mjs [--pairs 5] [--seconds 3600] [--dt 0.001] [--scenario CLFC_MICROGRID_02] [--policy expert]
// Targets: the simulated session costs less than 5x the bare arithmetic per state update (issue 3) and at most 3x the
// loop that stores every sample (issue 21). The session's samples are stored in columns and built as objects only when
// read, so the last lines print, beside it, what that defers: serialising the log (streaming writer) against the
// storing loop's samples through JSON.stringify, and building the sample objects.
import { spawnSync } from "node:child_process";
import { performance } from "node:perf_hooks";

if (!process.execArgv.some((a) => a.startsWith("--max-old-space-size"))) {
  // A 1 h session at 1 ms holds 3.6 M samples in memory: give the child enough heap.
  // --expose-gc: every measurement starts from a collected heap, so none pays for the garbage of the one before.
  const r = spawnSync(process.execPath, ["--max-old-space-size=8192", "--expose-gc", ...process.argv.slice(1)], {
    stdio: "inherit",
  });
  process.exit(r.status ?? 1);
}

const { REFERENCE_INITIAL_STATE, getScenario, runSimulation, simulateScenario, update, writeSessionLog } = await import(
  new URL("../../packages/core/dist/index.js", import.meta.url).href
);

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const seconds = Number(arg("seconds", "3600"));
const dt = Number(arg("dt", "0.001"));
const scenarioId = arg("scenario", "CLFC_MICROGRID_02");
const policy = arg("policy", "expert");
const steps = Math.round(seconds / dt);

const base = getScenario(scenarioId);
if (!base) throw new Error(`unknown scenario ${scenarioId}`);
// The scenario's corridor, nodes, dimensional core, inputs and disturbances, stretched over one long main segment.
const def = { ...base, segments: [{ segment_id: "seg-main", label: "main", duration: seconds, dt }] };

// CPU time of the whole process (main thread + GC helpers) beside wall time: on a shared, loaded machine a long
// measurement waits for a core longer than a short one, so the CPU ratio is the steadier of the two.
const cpuMs = (c0) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};
function bare() {
  let s = { ...REFERENCE_INITIAL_STATE };
  globalThis.gc?.();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) s = update(s, dt);
  const ms = performance.now() - t0;
  const cpu = cpuMs(c0);
  if (!Number.isFinite(s.C)) throw new Error("bare loop diverged");
  return { ms, cpu };
}
function bareStored() {
  globalThis.gc?.();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const samples = runSimulation(steps, dt);
  const ms = performance.now() - t0;
  const cpu = cpuMs(c0);
  if (samples.length !== steps + 1) throw new Error("runSimulation length");
  return { ms, cpu };
}
// Everything a caller needs to have the result ready: the samples stored (in columns), anomalies, scores, S-E-T,
// the triadic snapshots and the log's counts. Sample objects are built only when read (see `materialised`).
function simulated() {
  globalThis.gc?.();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const log = simulateScenario(def, { policy, seed: 1 });
  const ms = performance.now() - t0;
  const cpu = cpuMs(c0);
  return { ms, cpu, log, samples: log.sample_count, anomalies: log.anomaly_count };
}
// The cost the columns defer, shown so it is not hidden: the log's bytes from the streaming writer (into a sink that
// counts them), against the storing loop's samples through JSON.stringify; and building the sample objects.
function timed(fn) {
  globalThis.gc?.();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  return { ms: performance.now() - t0, cpu: cpuMs(c0), value };
}
function serialised(log) {
  return timed(() => {
    let chars = 0;
    writeSessionLog(log, (chunk) => {
      chars += chunk.length;
    });
    return chars;
  });
}
const storedAndStringified = () => timed(() => JSON.stringify(runSimulation(steps, dt)).length);
const materialised = (log) => timed(() => log.segments.reduce((n, seg) => n + seg.samples.length, 0));
const fastest = (runs) => runs.reduce((a, b) => (b.ms < a.ms ? b : a));

const rate = (ms) => steps / (ms / 1000);
const fmt = (x) => `${(x / 1e6).toFixed(2)} M/s`;
// Warm up the JIT on a short run of each.
{
  const short = { ...def, segments: [{ segment_id: "seg-main", label: "main", duration: 20, dt }] };
  writeSessionLog(simulateScenario(short, { policy, seed: 1 }), () => {});
  JSON.stringify(runSimulation(20_000, dt));
  let s = { ...REFERENCE_INITIAL_STATE };
  for (let i = 0; i < 200_000; i++) s = update(s, dt);
  runSimulation(200_000, dt);
}
const bareRun = fastest([bare(), bare(), bare()]);
const storedRun = fastest([bareStored(), bareStored()]);
const sim = simulated();
const bareMs = bareRun.ms;
const storedMs = storedRun.ms;

console.log(
  `# bench/engine: ${scenarioId} / ${policy}, ${seconds} s at dt = ${dt} s → ${steps.toLocaleString("en")} state updates`,
);
console.log(`node ${process.version}, ${process.arch}`);
console.log(`bare reference loop (update only)       ${bareMs.toFixed(0).padStart(7)} ms  ${fmt(rate(bareMs))}`);
console.log(`reference loop storing samples          ${storedMs.toFixed(0).padStart(7)} ms  ${fmt(rate(storedMs))}`);
console.log(
  `simulated session (all detectors on)    ${sim.ms.toFixed(0).padStart(7)} ms  ${fmt(rate(sim.ms))}  (${sim.samples.toLocaleString("en")} samples, ${sim.anomalies} anomalies)`,
);
const ratio = sim.ms / bareMs;
console.log(
  `ratio simulated / bare update loop      ${ratio.toFixed(2)}x  (target < 5x: ${ratio < 5 ? "met" : "NOT met"})`,
);
console.log(`ratio simulated / storing loop          ${(sim.ms / storedMs).toFixed(2)}x`);
console.log(
  `CPU time: storing loop ${storedRun.cpu.toFixed(0)} ms, simulated ${sim.cpu.toFixed(0)} ms → ratio ${(sim.cpu / storedRun.cpu).toFixed(2)}x (target ≤ 3x)`,
);
// One run's ratio is not evidence on a shared VM: the storing loop alone takes 480–1030 ms CPU for identical work
// depending on the collector's state. So also run `--pairs` back-to-back pairs (storing loop, then simulated session)
// and report the median of their CPU ratios — the number to compare with the target. They run before the lines below
// build the log's 3.6 M sample objects: with those alive, every collection marked them, and the pairs measured the
// collector (storing loop 775 → 3,265 ms CPU over five pairs, simulated session 4.4 s instead of 1.3 s).
{
  const pairs = Number(arg("pairs", "5"));
  const ratios = [];
  const inOrder = [];
  for (let i = 0; i < pairs; i++) {
    const st = bareStored();
    const si = simulated();
    ratios.push(si.cpu / st.cpu);
    inOrder.push(`${st.cpu.toFixed(0)}/${si.cpu.toFixed(0)}`);
  }
  if (ratios.length) {
    const sorted = [...ratios].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    console.log(
      `CPU ratio over ${pairs} back-to-back pairs: median ${median.toFixed(2)}x (${sorted.map((r) => r.toFixed(2)).join(", ")}) (target ≤ 3x: ${median <= 3 ? "met" : "NOT met"})`,
    );
    console.log(`  pairs in run order, storing loop / simulated session CPU ms: ${inOrder.join(", ")}`);
  }
}
const write = serialised(sim.log);
const storeJson = storedAndStringified();
const build = materialised(sim.log);
const line = (label, r, extra = "") =>
  console.log(
    `${label.padEnd(40)}${r.ms.toFixed(0).padStart(7)} ms wall ${r.cpu.toFixed(0).padStart(7)} ms CPU${extra}`,
  );
line("serialise the simulated log (writer)", write, `  (${(write.value / 1e6).toFixed(0)} M chars)`);
line("storing loop + JSON.stringify(samples)", storeJson, `  (${(storeJson.value / 1e6).toFixed(0)} M chars)`);
line("build the simulated log's sample objects", build, `  (${build.value.toLocaleString("en")} samples)`);
console.log(
  `CPU time: simulated + writer ${(sim.cpu + write.cpu).toFixed(0)} ms vs storing loop + JSON.stringify ${storeJson.cpu.toFixed(0)} ms → ratio ${((sim.cpu + write.cpu) / storeJson.cpu).toFixed(2)}x`,
);
