import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type DriverHealth,
  type DriverProcessSpec,
  DriverSupervisor,
  isFabricError,
  probeSandbox,
  type SupervisorOptions,
} from "@rtt/fabric";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const probe = probeSandbox();
const required = process.env.RTT_REQUIRE_SANDBOX === "1";
if (!probe.ok)
  console.warn(`supervisor tests skipped: ${probe.reason}${required ? " (RTT_REQUIRE_SANDBOX=1: failing)" : ""}`);
const run = probe.ok || required;

const root = mkdtempSync(join(tmpdir(), "rtt-sup-"));
const dir = join(root, "drivers");
beforeAll(() => {
  mkdirSync(dir);
  // Says hello, then crashes.
  writeFileSync(join(dir, "crash.mjs"), `process.stdout.write("up\\n"); setTimeout(() => process.exit(3), 30);`);
  // Says hello once, then hangs without a heartbeat.
  writeFileSync(join(dir, "hang.mjs"), `process.stdout.write("up\\n"); setInterval(() => {}, 1e6);`);
  // Beats every 50 ms.
  writeFileSync(join(dir, "beat.mjs"), `setInterval(() => process.stdout.write("."), 50);`);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const spec = (name: string, script: string): DriverProcessSpec => ({ name, kind: "node", command: script, dir });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function watch(sup: DriverSupervisor) {
  const events: Array<DriverHealth & { at: number }> = [];
  const spawns: number[] = [];
  sup.on("health", (h: DriverHealth) => events.push({ ...h, at: performance.now() }));
  sup.on("spawn", () => spawns.push(performance.now()));
  return { events, spawns };
}

async function until(cond: () => boolean, ms: number, what: string) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe.runIf(run)("driver supervision", () => {
  const opts: SupervisorOptions = { tmpRoot: root, heartbeat: { timeoutMs: 3000 } };

  it("a crashing driver is restarted with growing back-off and reported unhealthy in between", async () => {
    const sup = new DriverSupervisor(spec("crasher", "crash.mjs"), {
      ...opts,
      backoff: { initialMs: 150, maxMs: 600, factor: 2, jitter: 0 },
    });
    const { events, spawns } = watch(sup);
    sup.start();
    await until(() => spawns.length >= 4, 15_000, "3 restarts");
    await sup.stop(200);
    const off = events.filter((e) => e.state === "backing_off");
    expect(off.length).toBeGreaterThanOrEqual(3);
    for (const e of off) {
      expect(e.healthy).toBe(false);
      expect(e.reason).toBe("exited with code 3");
    }
    // No jitter: the delays are exactly the ceilings, 150, 300, 600.
    expect(off.slice(0, 3).map((e) => e.nextStartAt! - e.since)).toEqual([150, 300, 600]);
    // And the restarts really waited that long.
    const exitAt = off.map((e) => e.at);
    for (let i = 0; i < 3; i++) expect(spawns[i + 1]! - exitAt[i]!).toBeGreaterThanOrEqual([150, 300, 600][i]! - 5);
    expect(events.some((e) => e.state === "healthy")).toBe(true); // "up" was a heartbeat
    expect(sup.health()).toMatchObject({ state: "stopped", healthy: false, sandboxed: true });
    expect(sup.health().restarts).toBeGreaterThanOrEqual(3);
    expect(sup.health().consecutiveFailures).toBeGreaterThanOrEqual(3);
  });

  it("a hanging driver is marked unhealthy, killed after the deadline and restarted", async () => {
    const sup = new DriverSupervisor(spec("hanger", "hang.mjs"), {
      ...opts,
      heartbeat: { timeoutMs: 600, lateMs: 200 },
      backoff: { initialMs: 100, jitter: 0 },
    });
    const { events, spawns } = watch(sup);
    const t0 = performance.now();
    sup.start();
    await until(() => spawns.length >= 2, 10_000, "a restart");
    const killed = events.find((e) => e.state === "backing_off")!;
    await sup.stop(200);
    expect(events.map((e) => e.state).slice(0, 4)).toEqual(["starting", "healthy", "unhealthy", "unhealthy"]);
    expect(killed.reason).toMatch(/^no heartbeat for \d+ ms \(deadline 600 ms\): killed$/);
    expect(killed.at - t0).toBeGreaterThanOrEqual(600);
    expect(killed.at - t0).toBeLessThan(3000);
  });

  it("stopping a driver in the instant after it was spawned leaves no process behind", async () => {
    for (let i = 0; i < 3; i++) {
      const sup = new DriverSupervisor(spec(`instant${i}`, "hang.mjs"), opts);
      sup.start();
      const tmp = sup.tmpDir!;
      await sup.stop(0);
      await sleep(100);
      const left = readdirSync("/proc")
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(tmp);
          } catch {
            return false;
          }
        });
      expect(left, `processes still running for ${tmp}`).toEqual([]);
    }
  });

  it("a driver that keeps beating stays healthy", async () => {
    const sup = new DriverSupervisor(spec("beater", "beat.mjs"), { ...opts, heartbeat: { timeoutMs: 400 } });
    const { events } = watch(sup);
    sup.start();
    await sleep(1200);
    expect(sup.health()).toMatchObject({ state: "healthy", healthy: true, restarts: 0 });
    expect(sup.health().pid).toBeGreaterThan(0);
    await sup.stop(200);
    expect(events.filter((e) => e.state === "backing_off")).toEqual([]);
  });
});

describe("supervision without bubblewrap", () => {
  it("start() throws the sandbox error at once instead of restarting forever", () => {
    const sup = new DriverSupervisor(spec("nobwrap", "beat.mjs"), { tmpRoot: root, bwrapPath: "/nonexistent/bwrap" });
    let err: unknown;
    try {
      sup.start();
    } catch (e) {
      err = e;
    }
    expect(isFabricError(err) && err.code).toBe("RTT_FABRIC_SANDBOX");
    expect(sup.health().state).toBe("stopped");
  });
});
