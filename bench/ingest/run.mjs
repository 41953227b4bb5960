// bench/ingest: durable session ingest (POST /sessions) vs a bare Fastify route that only parses the same body.
// Run after `npm run build`:  node bench/ingest/run.mjs
// (env: BENCH_DURATION=10 BENCH_CONNECTIONS=100 BENCH_ROUNDS=3 BENCH_PG_URL=…)
// Each round measures bare, the append reference, SQLite and PostgreSQL back to back, each on a fresh server and
// fresh storage; the ratio is taken within a round (same conditions) and the median over rounds is reported,
// because the bench machine is shared and its speed drifts between minutes.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import pg from "pg";
import { buildSessionV2, runSimulation } from "../../packages/core/dist/index.js";
import { startChild, stopChild } from "./child.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PG_URL = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A realistic v2 log: 200 samples in warmup (20) + main (180), operator fields, two typed anomalies. */
function template() {
  const init = { t: 0, C: 0.1, D: 1, Q: 0.5, R: 0 };
  const noisy = (s, i) => ({ ...s, C: s.C + Math.sin(i) * 0.003, Q: s.Q + Math.cos(i) * 0.01 });
  const warm = runSimulation(19, 0.1, init).map(noisy);
  const main = runSimulation(179, 0.1, init).map(noisy);
  return buildSessionV2(
    {
      session_id: "__ID__",
      timestamp: "2026-01-06T21:10:00Z",
      device: "COMT",
      scenario: "COMT_LOCK_01",
      difficulty: "Journeyman",
    },
    [
      { segment_id: "seg-warmup", label: "warmup", samples: warm, anomalies: [] },
      {
        segment_id: "seg-main",
        label: "main",
        samples: main,
        anomalies: [
          { t: 4.2, type: "DECOHERENCE_SPIKE", severity: 3 },
          { t: 9.9, type: "OVERSHOOT_EVENT", severity: 2 },
        ],
      },
    ],
    {
      device_type: "COMT",
      operator_id: "urn:operator:bench:__OP__",
      operator_display: "Bench Operator",
      mastery_level: 7,
      scores: { stability: 82, response: 78, quality: 88, final: 83 },
    },
  );
}

/**
 * CPU time a process has used, in ms: in all (`total`), of it in the kernel (`sys`: writes to the page cache,
 * sockets, wake-ups), and per thread (`threads`, by thread id); null where /proc is not there (not Linux).
 */
function cpuMs(pid) {
  const fields = (stat) => stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = (n) => (Number(n) * 1000) / 100; // clock ticks to ms; USER_HZ is 100 on Linux
  const ms = (f) => ticks(f[11]) + ticks(f[12]);
  try {
    const threads = new Map();
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        threads.set(tid, ms(fields(readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8"))));
      } catch {} // the thread ended
    }
    const f = fields(readFileSync(`/proc/${pid}/stat`, "utf8"));
    return { total: ms(f), sys: ticks(f[12]), threads, written: bytesWritten(pid) };
  } catch {
    return null;
  }
}

/** Bytes the process handed to write calls (files, sockets, pipes) so far; null if /proc/PID/io is not readable. */
function bytesWritten(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/io`, "utf8")
      .split("\n")
      .find((l) => l.startsWith("wchar:"));
    return line ? Number(line.slice(6)) : null;
  } catch {
    return null;
  }
}

async function measure(label, url, body, run, pid) {
  let n = 0;
  const cpu0 = cpuMs(pid);
  const result = await autocannon({
    url: `${url}/sessions`,
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        setupRequest: (req) => {
          n++;
          return { ...req, body: body.replace("__ID__", `BENCH-${run}-${n}`).replace("__OP__", String(n % 50)) };
        },
      },
    ],
  });
  const cpu = cpuMs(pid);
  const ok = result["2xx"];
  const seconds = result.duration || DURATION;
  return {
    label,
    // What the server spent per session, and how many of the cores it kept busy: a server short of both is
    // waiting on something (the disk, a hand-off between its threads), not on CPU.
    server_cpu_ms: cpu0 === null || cpu === null || ok === 0 ? null : (cpu.total - cpu0.total) / ok,
    // The kernel's part of it: writing to files and sockets and waking threads is work the bare route mostly skips.
    server_sys_ms: cpu0 === null || cpu === null || ok === 0 ? null : (cpu.sys - cpu0.sys) / ok,
    server_kib_written:
      cpu0?.written == null || cpu?.written == null || ok === 0 ? null : (cpu.written - cpu0.written) / 1024 / ok,
    server_cores: cpu0 === null || cpu === null ? null : (cpu.total - cpu0.total) / 1000 / seconds,
    // The busiest thread's share of a core: near 1, that thread is the bound; well below, no thread is.
    busiest_thread_cores:
      cpu0 === null || cpu === null
        ? null
        : Math.max(...[...cpu.threads].map(([tid, ms]) => ms - (cpu0.threads.get(tid) ?? 0))) / 1000 / seconds,
    sessions_per_s: Math.round(ok / (result.duration || DURATION)),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    ok,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

async function pgAvailable() {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  c.on("error", () => {});
  try {
    await c.connect();
    await c.end();
    return true;
  } catch (e) {
    console.warn(`PostgreSQL at ${PG_URL} unreachable (${e.message}); PostgreSQL row skipped`);
    return false;
  }
}

const body = JSON.stringify(template());
const dir = mkdtempSync(join(tmpdir(), "rtt-bench-ingest-"));
const schemas = [];
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const targets = [
  ["bare", "bare JSON parse (baseline)"],
  ["append", "bare JSON parse + append to a file, fsync'ed (reference)"],
  ["sqlite", "rtt ingest, SQLite (WAL, synchronous=FULL)"],
];
if (await pgAvailable()) targets.push(["postgres", "rtt ingest, PostgreSQL"]);
const runs = []; // one entry per round and target
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [mode, label] of targets) {
      const where = join(dir, `round-${round}`);
      mkdirSync(where, { recursive: true });
      const schema = `rtt_bench_${process.pid}_${round}`;
      if (mode === "postgres") schemas.push(schema);
      const child = await startChild([mode, where, PG_URL, schema]);
      try {
        await measure(`${label} warmup`, child.url, body, `${mode}-${round}-warm`, child.proc.pid).catch(() => {});
        runs.push({ round, mode, ...(await measure(label, child.url, body, `${mode}-${round}`, child.proc.pid)) });
      } finally {
        await stopChild(child);
        // Gigabytes of an earlier run's files left in the page cache (dirty, being written back) slow the next
        // run's writes: every run starts on storage of its own and leaves none behind.
        rmSync(where, { recursive: true, force: true });
      }
      console.log(`round ${round}, ${label}: ${JSON.stringify(runs.at(-1))}`);
    }
  }
} finally {
  if (schemas.length) {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    for (const schema of schemas) await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
  rmSync(dir, { recursive: true, force: true });
}

const rows = targets.map(([mode, label]) => {
  const mine = runs.filter((r) => r.mode === mode);
  const ratios = mine.map((r) => {
    const bare = runs.find((b) => b.mode === "bare" && b.round === r.round);
    return r.sessions_per_s / bare.sessions_per_s;
  });
  // The round whose throughput is the median one gives the latencies shown.
  const mid = [...mine].sort((a, b) => a.sessions_per_s - b.sessions_per_s)[Math.floor((mine.length - 1) / 2)];
  const cpu = mine.map((r) => r.server_cpu_ms).filter((x) => x !== null);
  const sys = mine.map((r) => r.server_sys_ms).filter((x) => x !== null);
  const written = mine.map((r) => r.server_kib_written).filter((x) => x !== null);
  const cores = mine.map((r) => r.server_cores).filter((x) => x !== null);
  const busiest = mine.map((r) => r.busiest_thread_cores).filter((x) => x !== null);
  return {
    mode,
    label,
    sessions_per_s: Math.round(median(mine.map((r) => r.sessions_per_s))),
    server_cpu_ms: cpu.length ? median(cpu) : null,
    server_sys_ms: sys.length ? median(sys) : null,
    server_kib_written: written.length ? median(written) : null,
    server_cores: cores.length ? median(cores) : null,
    busiest_thread_cores: busiest.length ? median(busiest) : null,
    p50_ms: mid.p50_ms,
    p99_ms: mid.p99_ms,
    failed: mine.reduce((n, r) => n + r.non2xx + r.errors, 0),
    ratio: median(ratios),
    ratios,
  };
});
const table = [
  `body: ${body.length} bytes (200 samples, 2 segments, 2 anomalies); ${CONNECTIONS} connections, ${DURATION} s each; ${ROUNDS} rounds; ${cpus().length} cores`,
  "",
  "| what | sessions/s (median) | p50 ms | p99 ms | non-2xx | server CPU ms/session (in the kernel) | KiB written/session (files, sockets) | server cores busy (busiest thread) | ratio to bare parse (median of rounds) | per round |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ...rows.map(
    (r) =>
      `| ${r.label} | ${r.sessions_per_s} | ${r.p50_ms} | ${r.p99_ms} | ${r.failed} | ${r.server_cpu_ms?.toFixed(3) ?? "n/a"} (${r.server_sys_ms?.toFixed(3) ?? "n/a"}) | ${r.server_kib_written?.toFixed(1) ?? "n/a"} | ${r.server_cores?.toFixed(2) ?? "n/a"} (${r.busiest_thread_cores?.toFixed(2) ?? "n/a"}) | ${r.ratio.toFixed(2)} | ${r.ratios.map((x) => x.toFixed(2)).join(", ")} |`,
  ),
].join("\n");
console.log(`\n${table}\n`);
mkdirSync(join(here, "..", "out"), { recursive: true });
writeFileSync(
  join(here, "..", "out", "ingest.json"),
  JSON.stringify({ when: new Date().toISOString(), connections: CONNECTIONS, rounds: ROUNDS, rows, runs }, null, 2),
);
