import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalBytes, sha256Hex } from "../../src/canonical.js";
import { readClusterState } from "../../src/cluster/connect.js";
import { ClusterNode, type ClusterNodeOptions } from "../../src/cluster/node.js";
import { isFabricError } from "../../src/errors.js";
import type { Plan } from "../../src/planner/types.js";
import { readTable } from "../../src/reconcile/participant.js";
import { reconcilePaths } from "../../src/reconcile/paths.js";
import { openRegistry } from "../../src/registry/registry.js";
import { generateKeyPair, writeKeyPair } from "../../src/trust/keys.js";
import { trustKey } from "../../src/trust/store.js";
import { PlanLog } from "../../src/wal/plan-log.js";
import { makePlan, routes } from "../reconcile/plans.js";
import { freePort, type NatsCluster, natsAvailable, startNatsCluster } from "./nats.js";

/**
 * Multi-node on NATS JetStream (issue 17: 7; spec/fabric/cluster.md): three nodes, each with its own .rtt root
 * (registry, trust store, WAL, routing table), on a three-server JetStream cluster on loopback ports (R3 buckets and
 * stream). Two nodes run in this process; the one killed at fault points is a child process (node-child.mjs, the
 * built package).
 */

const CHILD = fileURLToPath(new URL("./node-child.mjs", import.meta.url));
const DIST = fileURLToPath(new URL("../../dist/cluster/index.js", import.meta.url));
const RTT = fileURLToPath(new URL("../../../cli/dist/bin/rtt.js", import.meta.url));
const rtt = (args: string[]) => spawnSync(process.execPath, [RTT, ...args], { encoding: "utf8", timeout: 30_000 });
const RUN = natsAvailable("cluster tests");

const dir = mkdtempSync(join(tmpdir(), "rtt-cluster-"));
const keys = generateKeyPair();
const pub = writeKeyPair(keys, join(dir, "keys"), "ci").publicKeyFile;
let nats: NatsCluster | undefined;
const open: ClusterNode[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (RUN) nats = await startNatsCluster(3);
}, 90_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await Promise.all(open.map((n) => n.close().catch(() => {})));
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

let roots = 0;
function root(name: string): string {
  const r = join(dir, `${name}-${++roots}`);
  trustKey(reconcilePaths(r).registry, pub);
  return r;
}

const sign = (base: Plan | null, n: number, tag = "") => makePlan(base, routes(n), { sign: keys.privateKey, tag });
const tableAt = (r: string) => readTable(reconcilePaths(r).table);

async function node(ns: string, name: string, r: string, extra: Partial<ClusterNodeOptions> = {}) {
  const warnings: string[] = [];
  const n = await ClusterNode.start({
    root: r,
    name,
    servers: nats?.urls,
    namespace: ns,
    members: ["n1", "n2", "n3"],
    replicas: 3,
    voteTimeoutMs: 4000,
    decisionTimeoutMs: 20000,
    doneTimeoutMs: 8000,
    heartbeatMs: 500,
    connectTimeoutMs: 5000,
    warn: (m) => warnings.push(m),
    ...extra,
  });
  open.push(n);
  return Object.assign(n, { warnings });
}

async function fails(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (e) {
    if (isFabricError(e) && e.code === code) return e;
    throw e;
  }
  throw new Error(`expected ${code}`);
}

/** Starts node-child.mjs; resolves with its handle once it printed "ready". */
function child(ns: string, name: string, r: string, env: Record<string, string> = {}) {
  const c = spawn(process.execPath, [CHILD, r, name, (nats as NatsCluster).urls.join(","), ns, "n1,n2,n3", "3"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  children.push(c);
  let out = "";
  let err = "";
  c.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  c.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    c.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<string>((resolve, reject) => {
    const t = setInterval(() => {
      const m = /^ready (\S+)$/m.exec(out);
      if (m) {
        clearInterval(t);
        resolve(m[1] as string);
      }
    }, 20);
    void exited.then((x) => {
      clearInterval(t);
      reject(new Error(`child ${name} exited ${JSON.stringify(x)} before ready: ${err}`));
    });
  });
  return { c, ready, exited, err: () => err, out: () => out };
}

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!RUN)("cluster: three nodes on a three-server JetStream cluster", () => {
  it("a plan applied on one node commits on all three; any node can coordinate; status shows them in sync", async () => {
    const [r1, r2, r3] = [root("a1"), root("a2"), root("a3")];
    const n1 = await node("basic", "n1", r1);
    const n2 = await node("basic", "n2", r2);
    const n3 = await node("basic", "n3", r3);
    const p1 = sign(null, 3);
    const a = await n1.apply(p1);
    expect(a.mode).toBe("cluster");
    expect(a.decision?.outcome).toBe("commit");
    expect(a.committed).toEqual(["n1", "n2", "n3"]);
    for (const r of [r1, r2, r3]) expect(tableAt(r)?.plan_id).toBe(p1.plan_id);
    const p2 = sign(p1, 5);
    const b = await n2.apply(p2);
    expect(b.committed).toEqual(["n1", "n2", "n3"]);
    for (const r of [r1, r2, r3]) {
      expect(tableAt(r)).toEqual({ plan_id: p2.plan_id, routes: p2.routes });
      const log = PlanLog.open(reconcilePaths(r).wal, { readOnly: true });
      expect(log.state.current).toBe(p2.plan_id);
      expect(log.state.commits.map((c) => c.plan_id)).toEqual([p1.plan_id, p2.plan_id]);
      log.close();
    }
    await Promise.all([n1.settle(), n2.settle(), n3.settle()]);
    const s = await n3.status();
    expect(s.head?.plan_id).toBe(p2.plan_id);
    expect(s.nodes.map((x) => [x.node, x.plan_id, x.in_sync, x.lag_revisions])).toEqual([
      ["n1", p2.plan_id, true, 0],
      ["n2", p2.plan_id, true, 0],
      ["n3", p2.plan_id, true, 0],
    ]);

    // A stale revision: the head moved past the revision a coordinator read, the server refuses its update.
    const rev = (s.head as { revision: number }).revision;
    const p3 = sign(p2, 6);
    const p3b = sign(p2, 7, "other");
    await n1.apply(p3, { revision: rev });
    const e = await fails(n3.apply(p3b, { revision: rev }), "RTT_FABRIC_STALE");
    expect(e.message).toMatch(new RegExp(`plan head revision ${rev} is stale`));
    expect(n3.counters.stale_rejected).toBe(1);
    // Without an explicit revision the base is checked against the head first.
    await fails(n3.apply(p3b), "RTT_FABRIC_STALE");
    for (const r of [r1, r2, r3]) expect(tableAt(r)?.plan_id).toBe(p3.plan_id);

    // A node that was not running catches up from the head at start (p1 → p2 → p3, each decided commit).
    const r4 = root("a4");
    const n4 = await node("basic", "n4", r4);
    await n4.settle();
    expect(tableAt(r4)?.plan_id).toBe(p3.plan_id);
    const log4 = PlanLog.open(reconcilePaths(r4).wal, { readOnly: true });
    expect(log4.state.commits.map((c) => c.plan_id)).toEqual([p1.plan_id, p2.plan_id, p3.plan_id]);
    log4.close();

    // `rtt cluster status` (the built CLI) sees the four nodes, in sync with the head.
    if (existsSync(RTT)) {
      const st = rtt([
        "cluster",
        "status",
        "--json",
        "--namespace",
        "basic",
        "--servers",
        (nats as NatsCluster).urls.join(","),
        "--root",
        r1,
      ]);
      expect(st.status, st.stderr).toBe(0);
      const js = JSON.parse(st.stdout) as {
        head: { plan_id: string };
        nodes: Array<{ node: string; in_sync: boolean }>;
      };
      expect(js.head.plan_id).toBe(p3.plan_id);
      expect(js.nodes.map((x) => [x.node, x.in_sync])).toEqual([
        ["n1", true],
        ["n2", true],
        ["n3", true],
        ["n4", true],
      ]);
    }
  }, 120_000);

  it("registry replication: push what a node has, pull what it lacks, every object verified on arrival", async () => {
    const [r1, r2] = [root("c1"), root("c2")];
    const n1 = await node("cas", "n1", r1, { participate: false });
    const n2 = await node("cas", "n2", r2, { participate: false });
    const reg1 = openRegistry(reconcilePaths(r1).registry);
    const hashes = [1, 2, 3].map((i) => reg1.put({ id: `agent-${i}`, v: i }).hash);
    const big = reg1.put({ id: "big", blob: "x".repeat(300_000) }).hash; // several Object Store chunks
    const s1 = await n1.sync();
    expect(s1.pushed).toBe(4);
    const reg2 = openRegistry(reconcilePaths(r2).registry);
    const only2 = reg2.put({ id: "only-on-2" }).hash;
    // Bad objects in the bucket: bytes under another hash's name, and non-canonical JSON under its true hash.
    const store = await (
      n1 as unknown as { conn: { cas: () => Promise<import("@nats-io/obj").ObjectStore> } }
    ).conn.cas();
    const liar = "0".repeat(64);
    await store.putBlob({ name: liar }, new TextEncoder().encode('{"id":"forged"}'));
    const loose = Buffer.from('{ "id": "spaced" }');
    await store.putBlob({ name: sha256Hex(loose) }, loose);
    const s2 = await n2.sync();
    expect(s2.pulled).toBe(4);
    expect(s2.pushed).toBe(1);
    expect(s2.rejected.map((x) => x.name).sort()).toEqual([liar, sha256Hex(loose)].sort());
    expect(s2.rejected.find((x) => x.name === liar)?.reason).toMatch(/hash to .* not to their name/);
    expect(s2.rejected.find((x) => x.name !== liar)?.reason).toMatch(/not canonical/);
    for (const h of [...hashes, big]) expect(reg2.getBytes(h)?.equals(reg1.getBytes(h) as Buffer)).toBe(true);
    expect(reg2.has(liar)).toBe(false);
    const s3 = await n1.sync();
    expect(s3.pulled).toBe(1);
    expect(reg1.get(only2)).toEqual({ id: "only-on-2" });
    expect(canonicalBytes(reg1.get(only2)).length).toBeGreaterThan(0);
  }, 60_000);

  it("a node that lies in prepare (yes, with another table hash) is detected: the plan aborts everywhere, named", async () => {
    const [r1, r2, r3] = [root("l1"), root("l2"), root("l3")];
    const n1 = await node("liar", "n1", r1);
    const n2 = await node("liar", "n2", r2);
    const n3 = await node("liar", "n3", r3, { lie: true });
    const p1 = sign(null, 3);
    const e = await fails(n1.apply(p1), "RTT_FABRIC_NACK");
    expect(e.message).toMatch(/lying-participant/);
    expect(e.message).toMatch(/node n3 voted yes but staged table/);
    await Promise.all([n1.settle(), n2.settle(), n3.settle()]);
    for (const r of [r1, r2, r3]) {
      expect(tableAt(r)).toBeNull();
      const log = PlanLog.open(reconcilePaths(r).wal, { readOnly: true });
      expect(log.state.current).toBeNull();
      expect(log.state.pending).toBeNull();
      const aborts = [...log.wal.records("abort")].map((x) => String(x.payload.reason));
      expect(aborts.at(-1)).toMatch(/lying-participant/);
      log.close();
    }
    expect(n1.counters.lies_detected).toBeGreaterThanOrEqual(1);
    const s = await n1.status();
    expect(s.head?.plan_id).toBeNull();
    expect(s.head?.aborted).toBe(p1.plan_id);
  }, 60_000);

  describe.skipIf(!existsSync(DIST))("a node SIGKILLed mid-apply resolves the plan the same way as the others", () => {
    const cases = [
      // Killed after its yes vote and the commit decision, before its own commit record: commit everywhere.
      { point: "after-votes", ns: "kill-a", outcome: "commit" },
      // Killed after its yes vote, before any decision: the others decide commit; it follows on restart.
      { point: "cluster-after-vote", ns: "kill-b", outcome: "commit" },
      // Killed after its prepare record, before voting: no vote, the coordinator aborts; it follows on restart.
      { point: "after-prepare-record", ns: "kill-c", outcome: "abort" },
    ] as const;
    for (const k of cases) {
      it(`killed at ${k.point}: ${k.outcome} on all three`, async () => {
        const [r1, r2, r3] = [root(`${k.ns}-1`), root(`${k.ns}-2`), root(`${k.ns}-3`)];
        const n1 = await node(k.ns, "n1", r1);
        const n2 = await node(k.ns, "n2", r2);
        const victim = child(k.ns, "n3", r3, { RTT_FABRIC_CRASH_AT: k.point });
        expect(await victim.ready).toBe("null");
        const p1 = sign(null, 4);
        const applied = n1.apply(p1);
        const died = await victim.exited;
        expect(died.signal).toBe("SIGKILL");
        // The killed node's WAL holds the plan prepared and undecided.
        const log = PlanLog.open(reconcilePaths(r3).wal, { readOnly: true });
        expect(log.state.pending?.plan_id).toBe(p1.plan_id);
        log.close();
        if (k.outcome === "commit") {
          const a = await applied;
          expect(a.decision?.outcome).toBe("commit");
          expect(a.committed).toEqual(["n1", "n2"]);
          expect(a.waiting).toEqual(["n3"]);
        } else {
          const e = await fails(applied, "RTT_FABRIC_NACK");
          expect(e.message).toMatch(/vote-timeout|recovered-undecided/);
        }
        // Restart without the fault: it reads the decision from the stream and resolves its prepare the same way.
        const again = child(k.ns, "n3", r3);
        const serving = await again.ready;
        // (stderr is its own pipe: it may arrive after the "ready" line on stdout)
        const resolved = new RegExp(`resolved ${p1.plan_id} from the stream: ${k.outcome}`);
        await until("the restarted node's resolution message", () => resolved.test(again.err()), 10_000);
        const want = k.outcome === "commit" ? p1.plan_id : null;
        expect(serving).toBe(String(want));
        await Promise.all([n1.settle(), n2.settle()]);
        for (const r of [r1, r2, r3]) {
          const l = PlanLog.open(reconcilePaths(r).wal, { readOnly: true });
          expect([r, l.state.current, l.state.pending]).toEqual([r, want, null]);
          l.close();
          expect(tableAt(r)?.plan_id ?? null).toBe(want);
        }
        // And the cluster moves on with the restarted node voting again.
        const base = k.outcome === "commit" ? p1 : null;
        const p2 = sign(base, 2, "next");
        const b = await n2.apply(p2);
        expect(b.committed).toEqual(["n1", "n2", "n3"]);
        await until("n3 serving p2", () => tableAt(r3)?.plan_id === p2.plan_id);
        again.c.kill("SIGTERM");
        await again.exited;
      }, 90_000);
    }
  });
});

describe("cluster: NATS unreachable", () => {
  it("runs alone with a counted warning, within the connect timeout, and still applies plans", async () => {
    const r = root("solo");
    const port = await freePort();
    const warnings: string[] = [];
    const t0 = Date.now();
    const n = await ClusterNode.start({
      root: r,
      name: "solo",
      servers: `nats://127.0.0.1:${port}`,
      connectTimeoutMs: 800,
      warn: (m) => warnings.push(m),
    });
    open.push(n);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(n.mode).toBe("single");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/unreachable .*single-node mode/);
    expect(readClusterState(reconcilePaths(r).root).single_node_warnings).toBe(1);
    const p1 = sign(null, 2);
    const a = await n.apply(p1);
    expect(a.mode).toBe("single");
    expect(tableAt(r)?.plan_id).toBe(p1.plan_id);
    const s = await n.status();
    expect(s.mode).toBe("single");
    expect(s.warning).toMatch(/single-node mode/);
    await expect(n.sync()).rejects.toMatchObject({ code: "RTT_FABRIC_CLUSTER" });
    // A second start counts a second warning.
    const again = await ClusterNode.start({
      root: r,
      name: "solo",
      servers: `nats://127.0.0.1:${port}`,
      connectTimeoutMs: 500,
      warn: () => {},
    });
    expect(again.mode).toBe("single");
    expect(readClusterState(reconcilePaths(r).root).single_node_warnings).toBe(2);
    await again.close();

    // The CLI says so too, and does not hang: status works alone, sync refuses (nothing to sync with).
    if (existsSync(RTT)) {
      const t1 = Date.now();
      const st = rtt([
        "cluster",
        "status",
        "--root",
        r,
        "--servers",
        `nats://127.0.0.1:${port}`,
        "--connect-timeout",
        "500",
      ]);
      expect(st.status).toBe(0);
      expect(st.stderr).toMatch(/warning: cluster: NATS .* unreachable/);
      expect(st.stdout).toMatch(/mode: single node/);
      expect(st.stdout).toMatch(/single-node warnings so far: 3/);
      const sy = rtt([
        "cluster",
        "sync",
        "--root",
        r,
        "--servers",
        `nats://127.0.0.1:${port}`,
        "--connect-timeout",
        "500",
      ]);
      expect(sy.status).toBe(1);
      expect(sy.stderr).toMatch(/nothing synced/);
      expect(Date.now() - t1).toBeLessThan(15_000);
    }
  }, 40_000);
});
