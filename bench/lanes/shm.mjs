#!/usr/bin/env node
// SHM lane round trip (issue 16): a request frame to another process over one shared-memory ring and the echo back
// over another, at 64 B, 4 KiB and 64 KiB — beside the in-process limit, a SharedArrayBuffer ping-pong with a worker
// thread (Atomics.wait/notify) carrying the same bytes. Both measured in this run, interleaved per size.
//
//   npm run build   then   node bench/lanes/shm.mjs [--iterations N] [--spin MICROS]
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { ShmRing } from "@rtt/fabric";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const N = opt("iterations", 20_000);
const SPIN = opt("spin", 200);
const SIZES = [64, 4096, 65536];
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const us = (ns) => (ns / 1000).toFixed(1);

async function shmRoundTrips(size) {
  const name = `/rtt-bench-${process.pid}-${size}`;
  const req = ShmRing.create(`${name}-req`, 1 << 20);
  const resp = ShmRing.create(`${name}-resp`, 1 << 20);
  const child = fork(here("./shm-echo.mjs"), [name, String(SPIN)], { stdio: "inherit" });
  await new Promise((r) => child.once("message", r));
  const payload = new Uint8Array(size).fill(7);
  const times = [];
  for (let i = 0; i < N + 1000; i++) {
    const t0 = process.hrtime.bigint();
    while (!req.tryWrite({ flags: 0, routeId: 1, frameId: i }, payload)) {}
    let f = resp.tryRead();
    while (!f) {
      await resp.waitForData(SPIN, 1_000_000);
      f = resp.tryRead();
    }
    if (f.frameId !== i || f.payload.length !== size) throw new Error(`echo mismatch at ${i}`);
    resp.release();
    if (i >= 1000) times.push(Number(process.hrtime.bigint() - t0));
  }
  req.tryWrite({ flags: 0, routeId: 1, frameId: 0xffffffff }, new Uint8Array(0));
  await new Promise((r) => child.once("exit", r));
  req.unlink();
  resp.unlink();
  return times.sort((a, b) => a - b);
}

async function sabRoundTrips(size) {
  const sab = new SharedArrayBuffer(8 + 2 * size);
  const words = new Int32Array(sab, 0, 2);
  const reqView = new Uint8Array(sab, 8, size);
  const respView = new Uint8Array(sab, 8 + size, size);
  const w = new Worker(here("./sab-echo-worker.mjs"), { workerData: { sab, size } });
  const payload = new Uint8Array(size).fill(7);
  const out = new Uint8Array(size);
  const times = [];
  for (let i = 1; i <= N + 1000; i++) {
    const t0 = process.hrtime.bigint();
    reqView.set(payload);
    Atomics.store(words, 0, i);
    Atomics.notify(words, 0);
    while (Atomics.load(words, 1) !== i) {}
    out.set(respView);
    if (i > 1000) times.push(Number(process.hrtime.bigint() - t0));
  }
  Atomics.store(words, 0, -1);
  Atomics.notify(words, 0);
  await w.terminate();
  return times.sort((a, b) => a - b);
}

console.log(`\n${N} round trips per row (after 1,000 warm-up), spin budget ${SPIN} µs\n`);
console.log("| payload | what | p50 µs | p99 µs | p99.9 µs |");
console.log("|---:|---|---:|---:|---:|");
for (const size of SIZES) {
  const sab = await sabRoundTrips(size);
  const ring = await shmRoundTrips(size);
  for (const [what, t] of [
    ["SharedArrayBuffer ping-pong, worker thread (limit)", sab],
    ["SHM lane: frame + CRC-32C, ring per direction, other process", ring],
  ])
    console.log(`| ${size} B | ${what} | ${us(pct(t, 50))} | ${us(pct(t, 99))} | ${us(pct(t, 99.9))} |`);
}
