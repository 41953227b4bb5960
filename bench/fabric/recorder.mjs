#!/usr/bin/env node
// Flight recorder overhead (issue 17: ≤ 5 % of a lane's throughput). Two lane loops, each measured with and without
// the daemon's telemetry hooks in the same run, in alternating rounds (off, on, off, on, …) so machine load hits both:
//  - UDS lane: 64 B request frames to an echo in another process over a Unix socket (FrameSocket, the daemon's
//    framing), 16 in flight; "on" = DaemonTelemetry.admit (breaker) + hrtime + DaemonTelemetry.done (latency
//    bucket, counters, breaker) per call — exactly what FabricDaemon.call adds;
//  - SHM ring in-process: write a 64 B frame, read it back, release — the lane's data path without any wake-up,
//    the harshest ratio (a call costs ~1 µs, so every ns of recording shows).
//
//   npm run build   then   node bench/fabric/recorder.mjs [--rounds N] [--ms MS] [--json]
import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connectUds, DaemonTelemetry, FrameSocket, ShmRing } from "@rtt/fabric";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const ROUNDS = opt("rounds", 60);
const MS = opt("ms", 100);
const DEPTH = 16;
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const route = { route_id: 1, from: "rtt://bench/a", to: "rtt://bench/b", lane: "uds" };
const tele = () => {
  const t = new DaemonTelemetry(undefined);
  t.onTable([route]);
  return t;
};

// ---- UDS echo lane -------------------------------------------------------------------------------------------
async function udsLane() {
  const dir = mkdtempSync(join(tmpdir(), "rtt-bench-rec-"));
  const path = join(dir, "echo.sock");
  const child = fork(here("./uds-echo.mjs"), [path], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  await new Promise((r) => child.once("message", r));
  const sock = await connectUds(path);
  const waiting = new Map();
  const fs = new FrameSocket(sock, {
    onFrame: (f) => {
      const w = waiting.get(f.frameId);
      waiting.delete(f.frameId);
      w?.();
    },
    onClose: () => {},
  });
  const payload = new Uint8Array(64).fill(7);
  let frameId = 0;
  let cpuPerCall = [];
  /** Calls per second over MS ms with DEPTH calls in flight; `t` the telemetry, or null for none. */
  const run = (t) =>
    new Promise((resolve) => {
      let done = 0;
      let stop = false;
      const start = performance.now();
      const cpu0 = process.cpuUsage();
      const one = () => {
        const id = ++frameId;
        if (t) {
          t.admit(1);
          const t0 = process.hrtime.bigint();
          waiting.set(id, () => {
            t.done(1, Number(process.hrtime.bigint() - t0));
            next();
          });
        } else waiting.set(id, next);
        fs.send(0, 1, id, payload);
      };
      let inflight = 0;
      const next = () => {
        done++;
        inflight--;
        if (!stop) {
          inflight++;
          one();
        } else if (inflight === 0) {
          const cpu = process.cpuUsage(cpu0);
          cpuPerCall.push(((cpu.user + cpu.system) * 1000) / done);
          resolve((done / (performance.now() - start)) * 1000);
        }
      };
      for (let i = 0; i < DEPTH; i++) {
        inflight++;
        one();
      }
      setTimeout(() => {
        stop = true;
      }, MS);
    });
  const out = { off: [], on: [], cpu_off: [], cpu_on: [] };
  await run(null); // warm-up
  await run(tele());
  for (let i = 0; i < ROUNDS; i++) {
    cpuPerCall = out.cpu_off;
    out.off.push(await run(null));
    cpuPerCall = out.cpu_on;
    out.on.push(await run(tele()));
  }
  fs.close();
  child.disconnect();
  rmSync(dir, { recursive: true, force: true });
  return out;
}

// ---- SHM ring, in process ------------------------------------------------------------------------------------
function shmLane() {
  const name = `/rtt-bench-rec-${process.pid}`;
  const w = ShmRing.create(name, 1 << 16);
  const r = ShmRing.open(name);
  const payload = new Uint8Array(64).fill(7);
  let cpuPerCall = [];
  const run = (t) => {
    let n = 0;
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    let now = start;
    while (now - start < MS) {
      for (let i = 0; i < 1000; i++) {
        if (t) {
          t.admit(1);
          const t0 = process.hrtime.bigint();
          w.tryWrite({ flags: 0, routeId: 1, frameId: n }, payload);
          r.tryRead();
          r.release();
          t.done(1, Number(process.hrtime.bigint() - t0));
        } else {
          w.tryWrite({ flags: 0, routeId: 1, frameId: n }, payload);
          r.tryRead();
          r.release();
        }
        n++;
      }
      now = performance.now();
    }
    const cpu = process.cpuUsage(cpu0);
    cpuPerCall.push(((cpu.user + cpu.system) * 1000) / n);
    return (n / (now - start)) * 1000;
  };
  const out = { off: [], on: [], cpu_off: [], cpu_on: [] };
  run(null);
  run(tele());
  for (let i = 0; i < ROUNDS; i++) {
    cpuPerCall = out.cpu_off;
    out.off.push(run(null));
    cpuPerCall = out.cpu_on;
    out.on.push(run(tele()));
  }
  w.unlink();
  return out;
}

/**
 * ns per call of the hooks alone, best of 5 rounds of 1M calls: with the two clock reads (what "with recording" adds
 * to a bare lane) and without them (what the recorder adds inside FabricDaemon, which times every call anyway).
 */
function hookCost() {
  const t = tele();
  let timed = Number.POSITIVE_INFINITY;
  let untimed = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 5; r++) {
    let s = process.hrtime.bigint();
    for (let i = 0; i < 1_000_000; i++) {
      t.admit(1);
      const t0 = process.hrtime.bigint();
      t.done(1, Number(process.hrtime.bigint() - t0));
    }
    timed = Math.min(timed, Number(process.hrtime.bigint() - s) / 1_000_000);
    s = process.hrtime.bigint();
    for (let i = 0; i < 1_000_000; i++) {
      t.admit(1);
      t.done(1, 1000 + (i & 1023));
    }
    untimed = Math.min(untimed, Number(process.hrtime.bigint() - s) / 1_000_000);
  }
  return { timed, untimed };
}

const results = { uds: await udsLane(), shm: shmLane() };
const hooks = hookCost();
const hookNs = hooks.timed;
const rows = Object.entries(results).map(([lane, x]) => {
  // Best round of each mode (the least disturbed on a shared machine), medians beside them.
  const off = Math.max(...x.off);
  const on = Math.max(...x.on);
  const nsPerCall = 1e9 / off;
  return {
    lane,
    off,
    on,
    overhead: 1 - on / off,
    median_overhead: 1 - median(x.on) / median(x.off),
    ns_per_call: nsPerCall,
    hook_share: hookNs / nsPerCall,
    marginal_share: hooks.untimed / nsPerCall,
    cpu_off_ns: median(x.cpu_off),
    cpu_on_ns: median(x.cpu_on),
    // paired: each "on" round against the "off" round just before it (same load), median over the pairs
    paired: median(x.on.map((v, i) => 1 - v / x.off[i])),
    cpu_paired: median(x.cpu_on.map((v, i) => v / x.cpu_off[i] - 1)),
  };
});
if (args.includes("--json")) console.log(JSON.stringify({ rounds: ROUNDS, ms: MS, hooks, rows, results }, null, 2));
else {
  console.log(
    `flight recorder overhead — ${ROUNDS} rounds of ${MS} ms per mode, alternating (node ${process.version}); hooks alone: ${hooks.timed.toFixed(0)} ns per call with the two clock reads, ${hooks.untimed.toFixed(0)} ns without (the daemon's marginal cost: it times calls anyway)`,
  );
  console.log(
    "| lane | calls/s without (best round) | calls/s with recording (best round) | throughput overhead: best rounds / medians / paired | CPU per call without → with (medians) | CPU overhead, paired | hooks ÷ lane cost per call: with clock reads / daemon's marginal |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|");

  for (const r of rows)
    console.log(
      `| ${r.lane === "uds" ? `UDS echo, other process, 64 B, ${DEPTH} in flight` : "SHM ring in-process write+read, 64 B"} | ${Math.round(r.off).toLocaleString("en")} | ${Math.round(r.on).toLocaleString("en")} | ${(r.overhead * 100).toFixed(1)} / ${(r.median_overhead * 100).toFixed(1)} / ${(r.paired * 100).toFixed(1)} % | ${r.cpu_off_ns.toFixed(0)} → ${r.cpu_on_ns.toFixed(0)} ns | ${(r.cpu_paired * 100).toFixed(1)} % | ${(r.hook_share * 100).toFixed(1)} / ${(r.marginal_share * 100).toFixed(1)} % of ${r.ns_per_call.toFixed(0)} ns |`,
    );
}
