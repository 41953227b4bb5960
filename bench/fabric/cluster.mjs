#!/usr/bin/env node
// Cross-node plan distribution bench (issue 17, "Performance"): the time from `apply` on one node to all three
// nodes committed, over N signed plans, on a three-server nats-server JetStream cluster on loopback ports (R3 buckets
// and stream; each server with its own store in a temp folder). Node n1 (this process) coordinates and is a member;
// n2 and n3 are child processes, each with its own .rtt root (registry, trust store, WAL, routing table). One apply =
// verify + plan body put + head kv.update(revision) → every node: watch → fetch + verifyPlan → local prepare (WAL
// record + staged table, fsyncs) → vote → the coordinator's decision (expected-sequence publish) → local commit
// record + table switch → done record; the coordinator returns when all three done records arrived.
//
//   npx tsc -p packages/fabric   then   node bench/fabric/cluster.mjs [--n 100] [--routes 10] [--json]
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ClusterNode,
  computePlanId,
  generateKeyPair,
  reconcilePaths,
  signDocument,
  trustKey,
  writeKeyPair,
} from "@rtt/fabric";

const args = process.argv.slice(2);
const SELF = fileURLToPath(import.meta.url);
const NODE_OPTS = {
  namespace: "bench",
  replicas: 3,
  members: ["n1", "n2", "n3"],
  heartbeatMs: 1000,
  connectTimeoutMs: 10000,
};

if (args[0] === "--child") {
  const [, root, name, servers] = args;
  const node = await ClusterNode.start({
    ...NODE_OPTS,
    root,
    name,
    servers,
    warn: (m) => process.stderr.write(`${m}\n`),
  });
  await node.settle();
  process.stdout.write("ready\n");
  process.on("SIGTERM", async () => {
    await node.close();
    process.exit(0);
  });
} else await main();

async function main() {
  const opt = (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const N = opt("n", 100);
  const ROUTES = opt("routes", 10);
  const JSON_OUT = args.includes("--json");
  const dir = mkdtempSync(join(tmpdir(), "rtt-bench-cluster-"));
  const nats = await startNats(dir);
  const kids = [];
  try {
    const keys = generateKeyPair();
    const pub = writeKeyPair(keys, join(dir, "keys"), "bench").publicKeyFile;
    const roots = [1, 2, 3].map((i) => {
      const r = join(dir, `n${i}`);
      trustKey(reconcilePaths(r).registry, pub);
      return r;
    });
    for (const i of [2, 3]) kids.push(await child(roots[i - 1], `n${i}`, nats.urls.join(",")));
    const n1 = await ClusterNode.start({
      ...NODE_OPTS,
      root: roots[0],
      name: "n1",
      servers: nats.urls,
      warn: () => {},
    });
    const route = (i, lane = "uds") => ({ route_id: i, from: `rtt://svc/s${i}`, to: `rtt://svc/t${i}`, lane });
    let table = Array.from({ length: ROUTES }, (_, i) => route(i + 1));
    let base = null;
    const wall = [];
    const headToDone = [];
    const vote = [];
    for (let k = 0; k < N + 5; k++) {
      if (k > 0) {
        const at = k % ROUTES;
        table = table.map((r, j) => (j === at ? { ...r, lane: r.lane === "uds" ? "shm" : "uds" } : r));
      }
      const plan = makePlan(base, table, keys.privateKey);
      const t0 = performance.now();
      const r = await n1.apply(plan);
      const ms = performance.now() - t0;
      if (r.committed.length !== 3) throw new Error(`plan ${k}: committed on ${r.committed.join(",")} only`);
      if (k >= 5) {
        // the first five warm up (JIT, connections, stream leaders)
        wall.push(ms);
        headToDone.push(r.ms.total);
        vote.push(r.ms.vote);
      }
      base = plan;
    }
    await n1.close();
    const q = (xs, p) => {
      const s = [...xs].sort((a, b) => a - b);
      return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
    };
    const row = (xs) => ({ p50: q(xs, 50), p99: q(xs, 99), max: Math.max(...xs) });
    const result = {
      plans: N,
      routes: ROUTES,
      nodes: 3,
      servers: 3,
      apply_to_all_committed_ms: row(wall),
      head_to_all_done_ms: row(headToDone),
      votes_ms: row(vote),
      load: loadavg().map((x) => Number(x.toFixed(1))),
      cpus: cpus().length,
      node: process.version,
    };
    if (JSON_OUT) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const f = (x) => `${x.toFixed(1)} ms`;
      console.log(
        `cross-node plan distribution: ${N} plans of ${ROUTES} routes, 3 nodes on a 3-server JetStream cluster`,
      );
      console.log(`| measure | p50 | p99 | max |\n|---|---:|---:|---:|`);
      for (const [name, r] of [
        ["apply on n1 → committed on all three", result.apply_to_all_committed_ms],
        ["head moved → three done records", result.head_to_all_done_ms],
        ["head moved → three votes", result.votes_ms],
      ])
        console.log(`| ${name} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.max)} |`);
      console.log(`load average ${result.load.join(" ")} on ${result.cpus} cores, ${result.node}`);
    }
  } finally {
    for (const k of kids) k.kill("SIGTERM");
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function makePlan(base, table, privateKey) {
  const key = (r) => `${r.from}\u0000${r.to}`;
  const old = new Map((base?.routes ?? []).map((r) => [key(r), r]));
  const now = new Set(table.map(key));
  const placement = {};
  for (const r of table) placement[r.from] = placement[r.to] = "node-a";
  const body = {
    inputs: { hash: `sha256:${"0".repeat(64)}`, base: base?.plan_id ?? null },
    routes_add: table.filter((r) => old.get(key(r))?.lane !== r.lane),
    routes_remove: (base?.routes ?? []).filter((r) => !now.has(key(r))),
    routes: table,
    placement,
  };
  return signDocument({ plan_id: computePlanId(body), ...body }, privateKey);
}

function child(root, name, servers) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [SELF, "--child", root, name, servers], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    c.stdout.on("data", (d) => {
      out += d;
      if (out.includes("ready\n")) resolve(c);
    });
    c.on("exit", (code) => reject(new Error(`node ${name} exited ${code}`)));
  });
}

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startNats(dir) {
  const bin = process.env.RTT_NATS_SERVER ?? "/usr/sbin/nats-server";
  const client = [await freePort(), await freePort(), await freePort()];
  const route = [await freePort(), await freePort(), await freePort()];
  const procs = client.map((p, i) => {
    const sd = join(dir, `s${i + 1}`);
    mkdirSync(sd);
    const routes = route.filter((_, j) => j !== i).map((x) => `nats://127.0.0.1:${x}`);
    return spawn(
      bin,
      ["-a", "127.0.0.1", "-p", String(p), "-js", "-sd", sd, "-n", `s${i + 1}`, "--cluster_name", "rtt-bench"].concat([
        "--cluster",
        `nats://127.0.0.1:${route[i]}`,
        "--routes",
        routes.join(","),
      ]),
      { stdio: "ignore" },
    );
  });
  const urls = client.map((p) => `nats://127.0.0.1:${p}`);
  const stop = () =>
    Promise.all(
      procs.map(
        (p) =>
          new Promise((resolve) => {
            if (p.exitCode !== null) return resolve();
            p.once("exit", resolve);
            p.kill("SIGTERM");
          }),
      ),
    );
  // JetStream in a cluster answers once a meta leader is elected: retry a start until it does.
  const end = Date.now() + 60_000;
  for (;;) {
    try {
      const probe = await ClusterNode.start({
        ...NODE_OPTS,
        servers: urls,
        name: "probe",
        participate: false,
        root: join(dir, "probe"),
        warn: () => {},
      });
      const ok = probe.mode === "cluster";
      await probe.close();
      if (ok) return { urls, stop };
    } catch {}
    if (Date.now() > end) {
      await stop();
      throw new Error("the JetStream cluster did not come up in 60 s");
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
