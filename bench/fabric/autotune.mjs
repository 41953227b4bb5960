// Autotune bench (issue 17: 4): the tuned profile's p99 against the daemon's defaults, same run.
//
//   npx tsc -b packages/fabric && node bench/fabric/autotune.mjs [--trials 48] [--repeats 3] [--confirm 10] [--rate 10000] [--payload 256]
//
// Runs the autotune climb on a live SHM ring pair (an echo worker thread, the load from this thread), then confirms
// the result with --confirm alternating defaults/tuned trial pairs, so both see the same machine load. Prints one
// JSON line with both sides' median p50/p99, the spread of the p99s (noise), and the load average before and after.
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { readMachine, runAutotune, suggestPinning, syntheticLoad } from "../../packages/fabric/dist/index.js";

const { values: a } = parseArgs({
  options: {
    trials: { type: "string", default: "48" },
    repeats: { type: "string", default: "3" },
    confirm: { type: "string", default: "10" },
    rate: { type: "string", default: "10000" },
    payload: { type: "string", default: "256" },
    seed: { type: "string", default: "4" },
  },
});
const la0 = loadavg();
const load = syntheticLoad({ rate: Number(a.rate), payload: Number(a.payload) });
const t0 = Date.now();
const r = await runAutotune({
  load,
  trials: Number(a.trials),
  repeats: Number(a.repeats),
  confirm: Number(a.confirm),
  seed: Number(a.seed),
  onTrial: (d, t, w) => process.stderr.write(`\r${d}/${t} ${w}`.padEnd(90)),
});
process.stderr.write("\n");
const m = readMachine();
const side = (x) => ({
  params: x.params,
  p50_us: x.p50_us,
  p99_us: x.p99_us,
  p99s: x.trials.map((t) => t.p99_us),
  noise_pct: x.noise_pct,
  throughput_hz: x.throughput_hz,
});
const out = {
  machine: `${m.cpu_model}, ${m.cpus} CPUs, ${m.numa.length} NUMA node(s)`,
  load: { rate_hz: load.rate_hz, payload: Number(a.payload), frames_per_trial: load.frames },
  trials: r.trials_run,
  climb: r.climb.path.map((p) => ({ ...p.params, p99_us: p.p99_us, noise_pct: p.noise_pct })),
  stopped: r.climb.stopped,
  defaults: side(r.defaults),
  tuned: side(r.tuned),
  p99_gain_pct: r.p99_gain_pct,
  kept: r.kept,
  pinning: suggestPinning(m).notes,
  seconds: Math.round((Date.now() - t0) / 100) / 10,
  loadavg_before: la0.map((x) => Math.round(x * 100) / 100),
  loadavg_after: loadavg().map((x) => Math.round(x * 100) / 100),
};
console.log(JSON.stringify(out, null, 2));
