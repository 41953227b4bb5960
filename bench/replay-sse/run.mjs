// bench/replay-sse: SSE events/s at maximum speed vs writing the same bytes to a raw TCP socket.
// Run after `npm run build`:  node bench/replay-sse/run.mjs   (env: BENCH_SAMPLES=200000 BENCH_ROUNDS=3)
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSessionV2, runSimulation } from "../../packages/core/dist/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function child(args) {
  const proc = spawn(process.execPath, [join(here, "server.mjs"), ...args], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    proc.stdout.on("data", (c) => {
      out += c;
      if (out.includes("\n")) resolve({ proc, info: JSON.parse(out.split("\n")[0]) });
    });
    proc.on("exit", (code) => reject(new Error(`bench child exited ${code}`)));
  });
}
const stop = (c) =>
  new Promise((r) => {
    c.proc.once("exit", r);
    c.proc.kill("SIGTERM");
  });

function session() {
  const samples = runSimulation(SAMPLES - 1, 0.01, { t: 0, C: 0.1, D: 1, Q: 0.5, R: 0 }).map((s, i) => ({
    ...s,
    C: s.C + Math.sin(i / 50) * 0.01,
  }));
  const anomalies = Array.from({ length: Math.floor(SAMPLES / 1000) }, (_, k) => ({
    t: (k * 1000 + 500) * 0.01,
    type: "DECOHERENCE_SPIKE",
    severity: 1 + (k % 5),
  }));
  return buildSessionV2(
    {
      session_id: "SSE-BENCH",
      timestamp: "2026-01-06T21:10:00Z",
      device: "COMT",
      scenario: "COMT_LOCK_01",
      difficulty: "Journeyman",
    },
    [{ segment_id: "seg-main", label: "main", samples, anomalies }],
    { device_type: "COMT", scores: { stability: 80, response: 80, quality: 80, final: 80 } },
  );
}

function post(url, body) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Reads the whole SSE response; returns {ms, bytes, events, body}. */
function readSse(url, keep) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let bytes = 0;
    let events = 0;
    const chunks = [];
    request(url, (res) => {
      res.on("data", (c) => {
        bytes += c.length;
        for (let i = c.indexOf(0x0a); i >= 0; i = c.indexOf(0x0a, i + 1)) if (c[i + 1] === 0x0a) events++;
        if (keep) chunks.push(c);
      });
      res.on("end", () =>
        resolve({ ms: performance.now() - t0, bytes, events, body: keep ? Buffer.concat(chunks) : undefined }),
      );
    })
      .on("error", reject)
      .end();
  });
}

function readRaw(port) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let bytes = 0;
    const s = connect(port, "127.0.0.1");
    s.on("data", (c) => {
      bytes += c.length;
    });
    s.on("end", () => resolve({ ms: performance.now() - t0, bytes }));
    s.on("error", reject);
  });
}

const dir = mkdtempSync(join(tmpdir(), "rtt-bench-sse-"));
try {
  const rtt = await child(["rtt", dir]);
  const status = await post(`${rtt.info.url}/sessions`, JSON.stringify(session()));
  if (status !== 201) throw new Error(`ingest answered ${status}`);
  const url = `${rtt.info.url}/replay/SSE-BENCH/segment/seg-main/stream?speed=max`;
  const first = await readSse(url, true); // also warms the parsed-session cache
  const file = join(dir, "stream.bin");
  writeFileSync(file, first.body);
  const raw = await child(["raw", file]);
  await readRaw(raw.info.port);
  const sse = [];
  const base = [];
  for (let r = 0; r < ROUNDS; r++) {
    sse.push(await readSse(url, false));
    base.push(await readRaw(raw.info.port));
  }
  await stop(raw);
  await stop(rtt);
  const best = (xs) => xs.reduce((a, b) => (b.ms < a.ms ? b : a));
  const s = best(sse);
  const b = best(base);
  if (b.bytes !== s.bytes) throw new Error(`byte counts differ: raw ${b.bytes}, sse ${s.bytes}`);
  const evS = (n, ms) => Math.round(n / (ms / 1000));
  const table = [
    `${SAMPLES} samples + ${Math.floor(SAMPLES / 1000)} anomalies in one segment → ${s.events} SSE frames, ${(s.bytes / 1e6).toFixed(1)} MB; best of ${ROUNDS}; ${cpus().length} cores`,
    "",
    "| what | ms | events/s | MB/s | ratio (time / raw) |",
    "|---|---:|---:|---:|---:|",
    `| raw TCP socket, same bytes (baseline) | ${b.ms.toFixed(0)} | ${evS(s.events, b.ms)} | ${(b.bytes / 1e3 / b.ms).toFixed(0)} | 1.00 |`,
    `| rtt SSE stream, speed=max, first play (parse + frame build) | ${first.ms.toFixed(0)} | ${evS(s.events, first.ms)} | ${(s.bytes / 1e3 / first.ms).toFixed(0)} | ${(first.ms / b.ms).toFixed(2)} |`,
    `| rtt SSE stream, speed=max, replayed | ${s.ms.toFixed(0)} | ${evS(s.events, s.ms)} | ${(s.bytes / 1e3 / s.ms).toFixed(0)} | ${(s.ms / b.ms).toFixed(2)} |`,
  ].join("\n");
  console.log(`\n${table}\n`);
  mkdirSync(join(here, "..", "out"), { recursive: true });
  writeFileSync(
    join(here, "..", "out", "replay-sse.json"),
    JSON.stringify(
      { when: new Date().toISOString(), first: { ms: first.ms, bytes: first.bytes }, sse, raw: base },
      null,
      2,
    ),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
