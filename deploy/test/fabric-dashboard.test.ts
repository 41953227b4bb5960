// deploy/grafana/dashboards/rtt-fabric.json against the real thing: Debian's `prometheus` scrapes a real fabric daemon
// (`FabricDaemon` with `metrics`, as `rtt fabric up --metrics` runs it) carrying real traffic — a fast route, a slow
// one over its breaker's max_requests, a flaky command driver that gets ejected — after a plan applied through the
// 2PC reconciler (so the WAL and the plan epoch exist). Every PromQL query of the dashboard is evaluated through
// Prometheus's HTTP API and must parse and return data; the daemon's /metrics passes `promtool check metrics`.
// Skipped, with the reason printed, when Prometheus is not installed (CI installs Debian's `prometheus`).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DaemonParticipant, FabricClient, FabricDaemon, type PlanRoute, Reconciler, reconcilePaths } from "@rtt/fabric";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify as toYaml } from "yaml";
import { makePlan } from "../../packages/fabric/test/reconcile/plans.js";
import {
  dashboardQueries,
  FABRIC_DASHBOARD,
  parseLabelValues,
  ROOT,
  type ShippedQuery,
  substituteGrafanaVars,
} from "./lib.js";

const which = (bin: string) => {
  const r = spawnSync("sh", ["-c", `command -v ${bin}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
};
const PROMETHEUS = which("prometheus");
const PROMTOOL = which("promtool");
const noProm =
  PROMETHEUS && PROMTOOL ? null : "Debian's prometheus package is not installed (apt-get install -y prometheus)";
if (noProm) console.warn(`[deploy] SKIPPING the fabric dashboard against Prometheus: ${noProm}`);

// a driver that imports nothing, so it runs under Node's permission model as it is
const DRIVER = join(ROOT, "packages/fabric/test/telemetry/fixtures/flaky-driver.mjs");
const X = "rtt://app/x";
const Y = "rtt://app/y";
const Z = "rtt://app/z";
const FAST = "rtt://svc/fast";
const SLOW = "rtt://svc/slow";
const FLAKY = "rtt://svc/flaky";
const r = (route_id: number, from: string, to: string): PlanRoute => ({ route_id, from, to, lane: "uds" });
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
// Grafana's macros on a 1 s scrape interval, as in prometheus-integration.test.ts
const MACROS = { rateInterval: "10s", interval: "2s", range: "2m" };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

type PromAnswer = {
  status: string;
  error?: string;
  data: { result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[] };
};

describe.skipIf(noProm !== null)("rtt-fabric.json against a real Prometheus scraping a real fabric daemon", () => {
  let dir = "";
  let daemon: FabricDaemon | undefined;
  let client: FabricClient | undefined;
  let prom: ChildProcess | undefined;
  let promLog = "";
  let promUrl = "";
  let stop = false;
  let traffic: Promise<void> = Promise.resolve();
  const report: string[] = [];

  const api = async (path: string, params: Record<string, string>) =>
    (await (await fetch(`${promUrl}${path}?${new URLSearchParams(params)}`)).json()) as PromAnswer & { data: unknown };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "rtt-fabric-dash-"));
    const root = join(dir, ".rtt");
    mkdirSync(root, { recursive: true });
    writeFileSync(
      join(root, "drivers.json"),
      JSON.stringify({
        [FAST]: { builtin: "echo" },
        [SLOW]: { builtin: "echo", delay_ms: 30, max_inflight: 2, queue: 64 },
        [FLAKY]: { command: [process.execPath, DRIVER], sandbox: "none" },
      }),
    );
    writeFileSync(
      join(root, "policy.json"),
      JSON.stringify({
        breakers: {
          routes: [
            { to: SLOW, max_requests: 4 },
            { to: FLAKY, consecutive_errors: 3, base_ejection_time_ms: 1500 },
          ],
          max_ejection_percent: 50,
        },
      }),
    );
    // auth "none": this is about metrics, not capability tokens (an option daemons before tokens ignore)
    daemon = await FabricDaemon.start({
      root,
      metrics: { host: "127.0.0.1", port: 0 },
      ...({ auth: "none" } as object),
    });
    // a plan through the reconciler with the daemon as participant: the WAL, its size and the plan epoch
    const plan = makePlan(null, [r(1, X, FAST), r(2, Y, SLOW), r(3, Z, FLAKY)]);
    const rec = await Reconciler.open({
      paths: reconcilePaths(root),
      participants: [new DaemonParticipant(daemon.socketPath)],
    });
    try {
      await rec.apply(plan);
    } finally {
      rec.close();
    }
    client = await FabricClient.uds(daemon.socketPath);
    const c = client;
    const metricsPort = daemon.metricsServer!.port;

    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    writeFileSync(
      join(dir, "prometheus.yml"),
      toYaml({
        global: { scrape_interval: "1s", evaluation_interval: "1s" },
        scrape_configs: [{ job_name: "rtt-fabric", static_configs: [{ targets: [`127.0.0.1:${metricsPort}`] }] }],
      }),
    );
    prom = spawn(
      PROMETHEUS!,
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "tsdb")}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const keep = (b: Buffer) => {
      promLog = (promLog + b.toString()).slice(-10_000);
    };
    prom.stdout?.on("data", keep);
    prom.stderr?.on("data", keep);

    // Traffic for as long as the test runs: steady fast calls, bursts over the slow route's max_requests, and the
    // flaky driver failing in runs of three (ejected, refused while open, probed once half-open).
    traffic = (async () => {
      let n = 0;
      while (!stop) {
        n++;
        const calls: Promise<unknown>[] = [];
        for (let i = 0; i < 8; i++) calls.push(c.call(1, json({ n, i })));
        for (let i = 0; i < 6; i++) calls.push(c.call(2, json({ n, i })));
        calls.push(c.call(3, json(n % 5 < 3 ? { fail: true } : { ok: n })));
        await Promise.allSettled(calls);
        await sleep(20);
      }
    })();

    const until = Date.now() + 40_000;
    for (;;) {
      try {
        const a = (await api("/api/v1/query", { query: 'up{job="rtt-fabric"} == 1' })) as PromAnswer;
        if (a.data.result.length > 0) break;
      } catch {
        // not up yet
      }
      if (Date.now() > until) throw new Error(`Prometheus never scraped the daemon\n${promLog}`);
      await sleep(250);
    }
    await sleep(12_000); // rates over 10 s windows, a full ejection cycle
  }, 90_000);

  afterAll(async () => {
    stop = true;
    await traffic;
    client?.close();
    if (prom && prom.exitCode === null) {
      const exited = new Promise((res) => prom!.once("exit", res));
      prom.kill("SIGTERM");
      await Promise.race([exited, sleep(5000)]);
    }
    await daemon?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (report.length)
      console.log(`[deploy] PromQL of ${FABRIC_DASHBOARD} against a fabric daemon:\n${report.join("\n")}`);
  });

  it("the daemon's /metrics passes promtool check metrics", async () => {
    const text = await (await fetch(daemon!.metricsServer!.url)).text();
    const res = spawnSync(PROMTOOL!, ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(res.status, `${res.stdout}${res.stderr}`).toBe(0);
    expect(text).toMatch(/rtt_fabric_drops_total\{lane="uds",route_id="2",reason="max_requests"\} [1-9]/);
    expect(text).toMatch(/rtt_fabric_breaker_ejections_total\{route_id="3",[^}]*\} [1-9]/);
    expect(text).toMatch(/rtt_fabric_plan_epoch 1/);
  });

  const queries = dashboardQueries().filter((q) => q.source.startsWith(`${FABRIC_DASHBOARD} `));

  it("the dashboard has queries for latency, drops, breakers, plan epoch and WAL size", () => {
    const all = queries.map((q) => q.expr).join("\n");
    for (const m of [
      "rtt_fabric_route_latency_seconds_bucket",
      "rtt_fabric_drops_total",
      "rtt_fabric_breaker_state",
      "rtt_fabric_plan_epoch",
      "rtt_fabric_wal_size_bytes",
    ])
      expect(all).toContain(m);
  });

  it.each(queries.map((q) => [q.source, q] as [string, ShippedQuery]))("%s", async (_source, q) => {
    if (q.kind === "variable") {
      const lv = parseLabelValues(q.expr);
      expect(lv, `${q.expr} is label_values(metric, label)`).not.toBeNull();
      const res = (await api(`/api/v1/label/${lv!.label}/values`, { "match[]": lv!.metric })) as unknown as {
        status: string;
        data: string[];
      };
      expect(res.status).toBe("success");
      report.push(`  ${res.data.length ? "data " : "EMPTY"} ${q.source}: ${res.data.length} values`);
      expect(res.data.length).toBeGreaterThan(0);
      return;
    }
    const expr = substituteGrafanaVars(q.expr, MACROS);
    const end = Date.now() / 1000;
    const a = (await api("/api/v1/query_range", {
      query: expr,
      start: String(end - 30),
      end: String(end),
      step: "1",
    })) as PromAnswer;
    expect(a.status, `${q.source}: ${a.error}\n${expr}`).toBe("success");
    const n = a.data.result.flatMap((s) => (s.values ?? []).map((v) => Number(v[1]))).filter(Number.isFinite).length;
    report.push(`  ${n ? "data " : "EMPTY"} ${q.source}: ${a.data.result.length} series, ${n} finite samples`);
    expect(a.data.result.length, `${q.source}: no series for\n${expr}`).toBeGreaterThan(0);
    expect(n, `${q.source}: only NaN/Inf for\n${expr}`).toBeGreaterThan(0);
  });
});
