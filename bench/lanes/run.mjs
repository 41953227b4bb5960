#!/usr/bin/env node
// Fabric lanes through the daemon (issue 16), all cross-process, side by side in one run:
// - control path: a call request→response over UDS through `rtt fabric up` (echo driver) beside a raw node:net UDS
//   echo of the same bytes (frame header + payload, no parsing);
// - SHM lane round trip through the daemon at 64 B / 4 KiB / 64 KiB, daemon serving the ring from a worker thread and
//   from its main loop, beside a SharedArrayBuffer ping-pong with a worker thread (the in-process limit);
// - TCP loopback round trip; throughput (pipelined, 64 in flight) at 64 B / 4 KiB / 64 KiB over UDS and SHM.
//
//   npm run build   then   node bench/lanes/run.mjs [--iterations N] [--spin MICROS] [--json]
import { fork, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { encodeFrame, FabricClient } from "@rtt/fabric";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const N = opt("iterations", 20_000);
const SPIN = opt("spin", 50);
const JSON_OUT = args.includes("--json");
const WARM = Math.min(1000, Math.ceil(N / 10));
const SIZES = [64, 4096, 65536];
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const RTT = fileURLToPath(new URL("../../packages/cli/dist/bin/rtt.js", import.meta.url));

const summary = (ns) => {
  const t = [...ns].sort((a, b) => a - b);
  const p = (q) => t[Math.min(t.length - 1, Math.floor((q / 100) * t.length))] / 1000;
  return { n: t.length, p50_us: +p(50).toFixed(1), p99_us: +p(99).toFixed(1), p999_us: +p(99.9).toFixed(1) };
};

async function timeLoop(n, once) {
  const out = [];
  for (let i = 0; i < n + WARM; i++) {
    const t0 = process.hrtime.bigint();
    await once(i);
    if (i >= WARM) out.push(Number(process.hrtime.bigint() - t0));
  }
  return summary(out);
}

function startDaemon(root, mode) {
  const child = spawn(
    process.execPath,
    [RTT, "fabric", "up", "--root", root, "--no-auth", "--tcp", "0", "--shm-mode", mode, "--spin", String(SPIN)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  return new Promise((resolve, reject) => {
    let out = "";
    child.once("exit", (c) => reject(new Error(`daemon exited ${c}`)));
    child.stdout.on("data", (c) => {
      out += c;
      const m = /tcp (\S+):(\d+)/.exec(out);
      if (m) resolve({ child, tcp: { host: m[1], port: Number(m[2]) } });
    });
  });
}

async function rawUdsEcho(dir, size) {
  const path = join(dir, `raw-${size}.sock`);
  const srv = fork(here("./raw-echo.mjs"), [path], { stdio: "inherit" });
  await new Promise((r) => srv.once("message", r));
  const s = connect(path);
  s.setNoDelay(true);
  await new Promise((r) => s.once("connect", r));
  const bytes = encodeFrame({ flags: 0, routeId: 1, frameId: 1 }, Buffer.alloc(size, 7));
  let want = 0;
  let wake;
  s.on("data", (c) => {
    want -= c.length;
    if (want <= 0) wake();
  });
  const r = await timeLoop(N, () => {
    want = bytes.length;
    return new Promise((res) => {
      wake = res;
      s.write(bytes);
    });
  });
  s.destroy();
  srv.kill();
  return r;
}

async function sabPingPong(size) {
  const sab = new SharedArrayBuffer(8 + 2 * size);
  const words = new Int32Array(sab, 0, 2);
  const reqView = new Uint8Array(sab, 8, size);
  const respView = new Uint8Array(sab, 8 + size, size);
  const w = new Worker(here("./sab-echo-worker.mjs"), { workerData: { sab, size } });
  const payload = new Uint8Array(size).fill(7);
  const out = new Uint8Array(size);
  const r = await timeLoop(N, (i) => {
    reqView.set(payload);
    Atomics.store(words, 0, i + 1);
    Atomics.notify(words, 0);
    while (Atomics.load(words, 1) !== i + 1) {}
    out.set(respView);
  });
  Atomics.store(words, 0, -1);
  Atomics.notify(words, 0);
  await w.terminate();
  return r;
}

async function throughput(callOnce, size, total) {
  const window = 64;
  let sent = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (sent < total) {
        sent++;
        await callOnce();
      }
    }),
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { frames_per_s: Math.round(total / s), gb_per_s: +((total * size) / s / 1e9).toFixed(3) };
}

/** SHM throughput: the client keeps up to 64 requests in the ring, reading answers as they come. */
async function shmThroughput(lane, size, total) {
  const payload = Buffer.alloc(size, 3);
  let sent = 0;
  let got = 0;
  const t0 = process.hrtime.bigint();
  while (got < total) {
    while (
      sent < total &&
      sent - got < 64 &&
      lane.req.tryWrite({ flags: 0, routeId: lane.info.route_id, frameId: sent + 1 }, payload)
    )
      sent++;
    let f = lane.resp.tryRead();
    if (!f) {
      await lane.resp.waitForData(SPIN, 100_000);
      f = lane.resp.tryRead();
    }
    while (f) {
      got++;
      lane.resp.release();
      f = lane.resp.tryRead();
    }
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { frames_per_s: Math.round(total / s), gb_per_s: +((total * size) / s / 1e9).toFixed(3) };
}

const dir = mkdtempSync(join(tmpdir(), "rtt-lanes-bench-"));
const root = join(dir, ".rtt");
mkdirSync(join(root, "fabric"), { recursive: true });
writeFileSync(
  join(root, "fabric", "routes.json"),
  JSON.stringify({
    plan_id: null,
    routes: [{ route_id: 1, from: "rtt://bench/call", to: "rtt://bench/echo", lane: "shm" }],
  }),
);
writeFileSync(
  join(root, "drivers.json"),
  JSON.stringify({ "rtt://bench/echo": { builtin: "echo", max_inflight: 256 } }),
);

const result = {
  iterations: N,
  warmup: WARM,
  spin_us: SPIN,
  node: process.version,
  loadavg_before: loadavg().map((x) => +x.toFixed(2)),
};
const rows = [];
try {
  for (const mode of ["worker", "loop"]) {
    const d = await startDaemon(root, mode);
    const c = await FabricClient.uds(join(root, "fabric.sock"));
    if (mode === "worker") {
      for (const size of [64]) {
        const payload = Buffer.alloc(size, 1);
        rows.push({ what: "raw node:net UDS echo (same bytes, baseline)", size, ...(await rawUdsEcho(dir, size)) });
        rows.push({
          what: "UDS call through the daemon (control path)",
          size,
          ...(await timeLoop(N, () => c.call(1, payload))),
        });
        const t = await FabricClient.tcp(d.tcp.host, d.tcp.port);
        rows.push({
          what: "TCP loopback call through the daemon",
          size,
          ...(await timeLoop(N, () => t.call(1, payload))),
        });
        t.close();
      }
      for (const size of SIZES) {
        const payload = Buffer.alloc(size, 2);
        const total = Math.max(1000, Math.min(N * 5, Math.floor(2e9 / size / 10)));
        rows.push({
          what: "throughput UDS (64 in flight)",
          size,
          total,
          ...(await throughput(() => c.call(1, payload), size, total)),
        });
      }
    }
    for (const size of SIZES) {
      const payload = Buffer.alloc(size, 3);
      const lane = await c.openShm({ route_id: 1 }, 1 << 20);
      lane.spinMicros = SPIN;
      if (mode === "worker")
        rows.push({ what: "SharedArrayBuffer ping-pong, worker thread (limit)", size, ...(await sabPingPong(size)) });
      rows.push({
        what: `SHM lane through the daemon (${mode})`,
        size,
        ...(await timeLoop(N, () => lane.call(payload))),
      });
      const total = Math.max(1000, Math.min(N * 5, Math.floor(2e9 / size / 10)));
      rows.push({
        what: `throughput SHM (${mode}, 64 in flight)`,
        size,
        total,
        ...(await shmThroughput(lane, size, total)),
      });
      await lane.close();
    }
    const st = await c.control("status");
    rows.push({ what: `daemon drops (${mode})`, drops: st.drops.total });
    c.close();
    d.child.kill("SIGTERM");
    await new Promise((r) => d.child.once("exit", r));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
result.loadavg_after = loadavg().map((x) => +x.toFixed(2));
result.rows = rows;
if (JSON_OUT) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else {
  console.log(
    `\n${N} round trips per latency row (after ${WARM} warm-up), spin ${SPIN} µs, ${process.version}, load average ${result.loadavg_before.join(" ")} → ${result.loadavg_after.join(" ")}\n`,
  );
  console.log("| payload | what | p50 µs | p99 µs | p99.9 µs | frames/s | GB/s |");
  console.log("|---:|---|---:|---:|---:|---:|---:|");
  for (const r of rows)
    if (r.drops) console.log(`| | ${r.what} | ${JSON.stringify(r.drops)} | | | | |`);
    else
      console.log(
        `| ${r.size} B | ${r.what} | ${r.p50_us ?? ""} | ${r.p99_us ?? ""} | ${r.p999_us ?? ""} | ${r.frames_per_s ?? ""} | ${r.gb_per_s ?? ""} |`,
      );
}
