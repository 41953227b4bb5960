import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { seededRandom } from "@rtt/core";
import { afterAll, describe, expect, it } from "vitest";
import { readTable, sameTable } from "../../src/reconcile/participant.js";
import { reconcilePaths } from "../../src/reconcile/paths.js";
import { Reconciler } from "../../src/reconcile/reconciler.js";
import { tableOf } from "../../src/reconcile/store.js";
import { PlanLog } from "../../src/wal/plan-log.js";
import { chain } from "./plans.js";

/**
 * Crash recovery under SIGKILL at random moments (issue 15: 6). A child process (kill-child.mjs, the built package)
 * applies, rolls back and fails VERIFY in a loop; the test kills it after a seeded random delay, then checks what a
 * restart must give: the WAL's plan in force unchanged by recovery, no undecided plan, every acknowledged transition
 * still there, the routing table equal to the plan in force, the WAL verifying. RTT_FUZZ_SCALE scales the number of
 * kills (1 → 200). The phase boundaries one by one are in packages/cli/test/fabric-plan-apply.test.ts.
 */

const CHILD = fileURLToPath(new URL("./kill-child.mjs", import.meta.url));
const DIST = fileURLToPath(new URL("../../dist/reconcile/reconciler.js", import.meta.url));
const RTT = fileURLToPath(new URL("../../../cli/dist/bin/rtt.js", import.meta.url));
const SCALE = Number(process.env.RTT_FUZZ_SCALE ?? "1");
const KILLS = Math.max(1, Math.round(200 * SCALE));
const MAX_DELAY_MS = 80;
const LANES = 2;

const dir = mkdtempSync(join(tmpdir(), "rtt-reconcile-kill-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the child, resolves once it printed "ready"; `out()` is everything it printed so far. */
function start(args: string[]): Promise<{ child: ChildProcess; out: () => string; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.stdout?.on("data", (d: Buffer) => {
      const had = out.startsWith("ready\n");
      out += d.toString();
      if (!had && out.startsWith("ready\n")) resolve({ child, out: () => out, exited });
    });
    child.on("exit", (code) => {
      if (!out.startsWith("ready\n")) reject(new Error(`child exited ${code} before ready: ${err}`));
    });
    exited.then(() => {
      if (err && !/SIGKILL/.test(err)) reject(new Error(err));
    });
  });
}

/** The plan in force after the first n records (commit → its plan, rollback → its `to`). */
function inForceAfter(log: PlanLog, n: number): string | null {
  let cur: string | null = null;
  for (let i = 0; i < n; i++) {
    const r = log.wal.record(i);
    if (r.type === "commit") cur = r.payload.plan_id as string;
    else if (r.type === "rollback") cur = (r.payload.to as string | null) ?? null;
  }
  return cur;
}

interface Seen {
  pending: number;
  torn: number;
  lockLeft: number;
  stagedLeft: number;
  tableBehind: number;
  acks: number;
  noAck: number;
}

/** One lane: its own fabric root, its own seeded delays; `kills` kill-restart-check rounds. */
async function lane(l: number, kills: number, chainFile: string, seen: Seen): Promise<string> {
  const paths = reconcilePaths(join(dir, `lane${l}`, ".rtt"));
  const rand = seededRandom(0x2bc15 + l);
  for (let k = 0; k < kills; k++) {
    const { child, out, exited } = await start(["loop", paths.root, chainFile, String(l * 100_000 + k + 1)]);
    await new Promise((r) => setTimeout(r, rand() * MAX_DELAY_MS));
    child.kill("SIGKILL");
    expect(await exited).toMatchObject({ signal: "SIGKILL" });
    const at = `lane ${l} kill ${k}`;

    // What the kill left, read-only.
    let before: { current: string | null; pending: boolean } = { current: null, pending: false };
    if (existsSync(paths.wal)) {
      const ro = PlanLog.open(paths.wal, { readOnly: true });
      before = { current: ro.state.current, pending: ro.state.pending !== null };
      if (ro.wal.repairedBytes > 0) seen.torn++;
      ro.close();
    }
    if (before.pending) seen.pending++;
    if (existsSync(paths.lock)) seen.lockLeft++;
    if (existsSync(`${paths.table}.prepared`)) seen.stagedLeft++;
    if (!sameTable(readTable(paths.table), before.current, before.current ? tableOf(paths.plans, before.current) : []))
      seen.tableBehind++;

    // Restart: recovery.
    const r = await Reconciler.open({ paths });
    const current = r.state.current;
    expect(current, `${at}: recovery changed the plan in force`).toBe(before.current);
    expect(r.state.pending).toBeNull();
    r.close();
    const routes = current ? tableOf(paths.plans, current) : [];
    expect(sameTable(readTable(paths.table), current, routes), `${at}: table is not the plan in force`).toBe(true);
    expect(existsSync(`${paths.table}.prepared`)).toBe(false);
    expect(existsSync(paths.lock)).toBe(false);

    // Every acknowledged transition survived, with the plan it reported.
    const log = PlanLog.open(paths.wal, { readOnly: true });
    expect(log.verifyCheckpoints()).toEqual([]);
    const last = out()
      .split("\n")
      .filter((line) => line.startsWith("ack "))
      .at(-1);
    if (last) {
      seen.acks++;
      const [, records, acked] = last.split(" ");
      expect(log.wal.size).toBeGreaterThanOrEqual(Number(records));
      expect(inForceAfter(log, Number(records)) ?? "null", `${at}: acknowledged state lost`).toBe(acked);
    } else seen.noAck++;
    log.close();
  }
  return paths.wal;
}

describe("SIGKILL at random moments of apply, rollback and recovery", () => {
  it(`${KILLS} kills: a restart always restores the last committed state, never half-applied`, async () => {
    expect(existsSync(DIST), `${DIST} is missing: run \`npm run build\` first`).toBe(true);
    const chainFile = join(dir, "chain.json");
    writeFileSync(chainFile, JSON.stringify(chain(60, 20)));
    const seen: Seen = { pending: 0, torn: 0, lockLeft: 0, stagedLeft: 0, tableBehind: 0, acks: 0, noAck: 0 };
    const t0 = performance.now();
    // Two lanes at once (separate roots): a kill round is mostly process start and fsync waits, which overlap.
    const per = [Math.ceil(KILLS / LANES), Math.floor(KILLS / LANES)];
    const wals = await Promise.all(per.map((n, l) => lane(l, n, chainFile, seen)));
    const seconds = (performance.now() - t0) / 1000;
    const types: string[] = [];
    for (const wal of wals) {
      if (!existsSync(wal)) continue;
      const ro = PlanLog.open(wal, { readOnly: true });
      for (const r of ro.wal.records()) types.push(r.type);
      ro.close();
    }
    const count = (t: string) => types.filter((x) => x === t).length;
    console.log(
      `reconcile kill test: ${KILLS} kills in ${seconds.toFixed(1)} s (${LANES} lanes); WAL ${types.length} records (${count("commit")} commits, ${count("abort")} aborts, ${count("rollback")} rollbacks); at the kill: ${seen.pending} undecided prepares, ${seen.torn} torn tails, ${seen.lockLeft} locks left, ${seen.stagedLeft} staged tables, ${seen.tableBehind} tables not the plan in force; ${seen.acks} kills after an acknowledged transition, ${seen.noAck} before the first`,
    );
    // The kills must land inside transitions, not only between them.
    if (KILLS >= 100) {
      expect(seen.pending).toBeGreaterThan(0);
      expect(seen.lockLeft).toBeGreaterThan(0);
      expect(seen.acks).toBeGreaterThan(0);
      expect(count("abort")).toBeGreaterThan(0);
    }
    if (existsSync(RTT))
      for (const wal of wals) {
        const v = spawnSync(process.execPath, [RTT, "wal", "verify", "--wal", wal], { encoding: "utf8" });
        expect(v.status, v.stderr).toBe(0);
        expect(v.stdout).toContain(": ok — ");
      }
  }, 180_000);
});
