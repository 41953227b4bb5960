import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FabricClient } from "../../src/daemon/client.js";
import { FabricDaemon } from "../../src/daemon/daemon.js";
import { DaemonParticipant } from "../../src/daemon/participant.js";
import type { FabricError } from "../../src/errors.js";
import type { PlanRoute } from "../../src/planner/types.js";
import { reconcilePaths } from "../../src/reconcile/paths.js";
import { Reconciler } from "../../src/reconcile/reconciler.js";
import { planStatus } from "../../src/reconcile/status.js";
import { captureFlight, decodeHdr, type FlightLine, type FlightSnapshot } from "../../src/telemetry/recorder.js";
import { sloGateFor } from "../../src/telemetry/slo.js";
import { makePlan } from "../reconcile/plans.js";
import { RTT } from "./harness.js";

/** A driver that imports nothing: runs under Node's permission model (and the sandbox) as it is. */
const FLAKY_DRIVER = fileURLToPath(new URL("../telemetry/fixtures/flaky-driver.mjs", import.meta.url));

// The telemetry of a real fabric daemon (in this process, so its clock and state are at hand): the flight recorder
// behind `{op: "flight"}` and `rtt tap --flight`, breakers tripping and recovering on a failing driver, Prometheus
// metrics on /metrics (promtool-clean), and an SLO gate that rolls a plan with a slow route back by itself.
const X = "rtt://app/x";
const Y = "rtt://app/y";
const FAST = "rtt://svc/fast";
const SLOW = "rtt://svc/slow";
const FLAKY = "rtt://svc/flaky";
const r = (route_id: number, from: string, to: string): PlanRoute => ({ route_id, from, to, lane: "uds" });

const dir = mkdtempSync(join(tmpdir(), "rtt-telemetry-"));
const root = join(dir, ".rtt");
const socket = join(root, "fabric.sock");
let d: FabricDaemon;
let c: FabricClient;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

beforeAll(async () => {
  mkdirSync(join(root, "fabric"), { recursive: true });
  writeFileSync(
    join(root, "fabric", "routes.json"),
    JSON.stringify({ plan_id: "sha256:telemetry-0", routes: [r(1, X, FAST), r(2, Y, FLAKY)] }),
  );
  writeFileSync(
    join(root, "drivers.json"),
    JSON.stringify({
      [FAST]: { builtin: "echo" },
      [SLOW]: { builtin: "echo", delay_ms: 40 },
      [FLAKY]: { command: [process.execPath, FLAKY_DRIVER], sandbox: "none" },
    }),
  );
  writeFileSync(
    join(root, "policy.json"),
    JSON.stringify({
      breakers: {
        routes: [{ to: FLAKY, consecutive_errors: 3, base_ejection_time_ms: 400, max_requests: 64 }],
        max_ejection_percent: 50,
      },
      slo: {
        objectives: [{ from: X, latency_p99_ms: 15, error_rate: 0.05, min_calls: 5 }],
        window_ms: 500,
        probe_calls: 12,
      },
    }),
  );
  d = await FabricDaemon.start({ root, auth: "none", metrics: { host: "127.0.0.1", port: 0 } });
  c = await FabricClient.uds(socket);
});

afterAll(async () => {
  c?.close();
  await d?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("fabric telemetry in the daemon (integration)", () => {
  it("the flight recorder: a capture of real UDS traffic, per route per interval, with mergeable histograms", async () => {
    let stop = false;
    let sent = 0;
    const traffic = (async () => {
      while (!stop) {
        await Promise.all([c.call(1, json({ n: sent++ })), c.call(1, json({ n: sent++ }))]);
      }
    })();
    const lines: FlightLine[] = [];
    const footer = await captureFlight({
      windowMs: 900,
      intervalMs: 300,
      snapshot: () => c.control<FlightSnapshot>("flight"),
      write: (l) => {
        lines.push(JSON.parse(JSON.stringify(l)) as FlightLine);
      },
    });
    stop = true;
    await traffic;
    expect(lines[0]).toMatchObject({ type: "header", plan_id: "sha256:telemetry-0", pid: process.pid });
    const x = lines.filter((l) => l.type === "route" && l.route_id === 1);
    expect(x).toHaveLength(3);
    for (const l of x) {
      if (l.type !== "route") continue;
      expect(l).toMatchObject({ from: X, to: FAST, lane: "uds", errors: 0, breaker: { state: "closed" } });
      expect(l.calls).toBeGreaterThan(5);
      expect(decodeHdr(l.hdr).totalCount).toBe(l.calls);
      expect(l.latency_us!.p99).toBeGreaterThanOrEqual(l.latency_us!.p50);
    }
    const total = x.reduce((s, l) => s + (l.type === "route" ? l.calls : 0), 0);
    expect(footer.routes.find((f) => f.route_id === 1)?.calls).toBe(total);
    const proc = lines.find((l) => l.type === "process");
    if (proc?.type === "process" && proc.syscalls) expect(proc.syscalls.read + proc.syscalls.write).toBeGreaterThan(0);
  });

  it("a breaker trips on consecutive driver errors, fails fast while open, half-opens and recovers", async () => {
    for (let i = 0; i < 3; i++)
      await expect(c.call(2, json({ fail: true }))).rejects.toMatchObject({ code: "RTT_FABRIC_DRIVER" });
    const refused = await c.call(2, json({})).catch((e: FabricError) => e);
    expect(refused).toMatchObject({ code: "RTT_FABRIC_OVERLOAD", message: expect.stringMatching(/ejected/) });
    let snap = await c.control<FlightSnapshot>("flight");
    let y = snap.routes.find((x) => x.route_id === 2)!;
    expect(y.breaker).toMatchObject({ state: "open", ejections: 1 });
    expect(y.drops).toMatchObject({ ejected: 1 });
    expect(y.errors_by_code).toEqual({ RTT_FABRIC_DRIVER: 3 });
    const metrics = await (await fetch(d.metricsServer!.url)).text();
    expect(metrics).toMatch(
      /rtt_fabric_breaker_state\{route_id="2",from="rtt:\/\/app\/y",to="rtt:\/\/svc\/flaky",lane="uds",state="open"\} 1/,
    );
    expect(metrics).toMatch(/rtt_fabric_drops_total\{lane="uds",route_id="2",reason="ejected"\} 1/);

    await sleep(450);
    snap = await c.control<FlightSnapshot>("flight");
    expect(snap.routes.find((x) => x.route_id === 2)?.breaker?.state).toBe("half-open");
    const ok = JSON.parse((await c.call(2, json({ hello: 1 }))).toString()) as { driver: string };
    expect(ok.driver).toBe("flaky");
    snap = await c.control<FlightSnapshot>("flight");
    y = snap.routes.find((x) => x.route_id === 2)!;
    expect(y.breaker).toMatchObject({ state: "closed", consecutive_errors: 0 });
  });

  it("/metrics: the fabric's metrics, promtool-clean when promtool is installed", async () => {
    const res = await fetch(d.metricsServer!.url);
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const name of [
      "rtt_fabric_route_latency_seconds_bucket",
      "rtt_fabric_route_calls_total",
      "rtt_fabric_route_errors_total",
      "rtt_fabric_drops_total",
      "rtt_fabric_breaker_state",
      "rtt_fabric_breaker_cap_open",
      "rtt_fabric_plan_info",
    ])
      expect(text).toContain(name);
    expect((await fetch(d.metricsServer!.url.replace("/metrics", "/other"))).status).toBe(404);
    const promtool = spawnSync("sh", ["-c", "command -v promtool"], { encoding: "utf8" }).stdout.trim();
    if (!promtool) {
      console.warn("[telemetry] promtool not installed: skipping `promtool check metrics`");
      return;
    }
    const r = spawnSync(promtool, ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });

  it("SLO gate: a plan that moves a route onto a slow driver breaks its p99 objective and is rolled back by itself", async () => {
    const paths = reconcilePaths(root);
    const gate = sloGateFor(paths.policy, socket);
    expect(gate).toBeDefined();
    const open = () => Reconciler.open({ paths, participants: [new DaemonParticipant(socket)], verifiers: [gate!] });
    const p1 = makePlan(null, [r(1, X, FAST), r(2, Y, FLAKY)]);
    let rec = await open();
    try {
      const ok = await rec.apply(p1);
      expect(ok.outcome).toBe("committed");
      expect(ok.ms.verify).toBeGreaterThanOrEqual(450); // the gate watched its window
    } finally {
      rec.close();
    }
    const p2 = makePlan(p1, [r(2, Y, FLAKY), r(3, X, SLOW)]);
    rec = await open();
    let err: unknown;
    try {
      await rec.apply(p2);
    } catch (e) {
      err = e;
    } finally {
      rec.close();
    }
    expect(err).toMatchObject({ code: "RTT_FABRIC_VERIFY_FAILED" });
    expect((err as Error).message).toMatch(
      new RegExp(`slo: route 3 ${X} -> ${SLOW}: p99 \\d+(\\.\\d+)? ms > 15 ms .*rolled back to ${p1.plan_id}`),
    );
    // the daemon serves the earlier plan again, and the WAL says why
    expect(d.state()).toEqual({ plan_id: p1.plan_id, routes: p1.routes });
    const s = await planStatus({ paths, participants: [new DaemonParticipant(socket)] });
    expect(s.current).toBe(p1.plan_id);
    const last = s.recent.at(-1)!;
    expect(last).toMatchObject({ type: "rollback", plan_id: p2.plan_id, to: p1.plan_id });
    expect(String(last.reason)).toMatch(/verify failed: slo: route 3 .* p99/);
    // calls go to the fast endpoint again
    expect(JSON.parse((await c.callSymbol(X, json("back"))).toString())).toBe("back");
  });
});

describe.skipIf(!existsSync(RTT))("rtt tap --flight (the built CLI)", () => {
  const tap = (...args: string[]) =>
    spawnSync(process.execPath, [RTT, "tap", ...args, "--root", root], { encoding: "utf8", timeout: 30_000 });

  it("captures a window as NDJSON on stdout: header, route and process lines, footer", async () => {
    const stop = { v: false };
    const traffic = (async () => {
      while (!stop.v) await c.callSymbol(X, json(1)).catch(() => {});
    })();
    const child = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const p = spawn(process.execPath, [RTT, "tap", "--flight", "1s", "--interval", "250ms", "--root", root]);
      let out = "";
      let err = "";
      p.stdout.on("data", (b: Buffer) => {
        out += b;
      });
      p.stderr.on("data", (b: Buffer) => {
        err += b;
      });
      p.on("exit", (code) => resolve({ code, out, err }));
    });
    stop.v = true;
    await traffic;
    expect(child.code, child.err).toBe(0);
    const lines = child.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as FlightLine);
    expect(lines[0]?.type).toBe("header");
    expect(lines.at(-1)?.type).toBe("footer");
    const routeLines = lines.filter((l) => l.type === "route");
    expect(routeLines.length).toBeGreaterThanOrEqual(4 * d.state().routes.length);
    expect(routeLines.some((l) => l.type === "route" && l.calls > 0)).toBe(true);
  });

  it.each([
    ["0s", /longer than 0/],
    ["10h", /longer than the 1h cap/],
    ["soon", /expected a duration/],
  ])("refuses --flight %s with a clear error and exit 1", (w, why) => {
    const res = tap("--flight", w);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(why);
    expect(res.stdout).toBe("");
  });
});
