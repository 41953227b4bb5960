// The shipped Prometheus artifacts against the real thing: Debian's `prometheus`/`promtool` binaries and a real
// `rtt serve --demo`. Every PromQL expression in every shipped dashboard and rule file is evaluated through
// Prometheus's HTTP API and must parse and return data. Skipped, with the reason printed, when the binaries or
// the built CLI are missing (CI installs Debian's `prometheus` and builds first).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSessionV2 } from "@rtt/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify as toYaml } from "yaml";
import {
  alertOperand,
  dashboardQueries,
  FABRIC_DASHBOARD,
  parseLabelValues,
  ROOT,
  RULES_DIR,
  readText,
  ruleFiles,
  ruleQueries,
  type ShippedQuery,
  substituteGrafanaVars,
} from "./lib.js";

function which(bin: string): string | null {
  const r = spawnSync("sh", ["-c", `command -v ${bin}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

const PROMETHEUS = which("prometheus");
const PROMTOOL = which("promtool");
// RTT_CLI may point at another build of the CLI entry (e.g. an installed one); the default is this checkout's.
const RTT_CLI = process.env.RTT_CLI ?? join(ROOT, "packages/cli/dist/bin/rtt.js");

function cliServeReason(): string | null {
  if (!existsSync(RTT_CLI)) return `${RTT_CLI} is missing (run \`npm run build\`)`;
  const r = spawnSync(process.execPath, [RTT_CLI, "serve", "--help"], { encoding: "utf8", timeout: 20_000 });
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0 || !out.includes("--demo")) return "`rtt serve --demo` is not available in the built CLI yet";
  return null;
}

const noPromReason =
  PROMETHEUS && PROMTOOL ? null : "Debian's prometheus package is not installed (apt-get install -y prometheus)";
if (noPromReason) console.warn(`[deploy] SKIPPING Prometheus checks: ${noPromReason}`);
const noServeReason = noPromReason ?? cliServeReason();
if (noServeReason && !noPromReason) console.warn(`[deploy] SKIPPING the live Prometheus integration: ${noServeReason}`);

function promtool(args: string[], input?: string) {
  const r = spawnSync(PROMTOOL!, args, { encoding: "utf8", input, cwd: ROOT, timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe.skipIf(noPromReason !== null)("promtool on the shipped files", () => {
  it("check config deploy/prometheus/prometheus.yml", () => {
    const r = promtool(["check", "config", "--syntax-only", "deploy/prometheus/prometheus.yml"]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("SUCCESS");
  });

  it.each(ruleFiles())("check rules %s", (file) => {
    const r = promtool(["check", "rules", join(RULES_DIR, file)]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/SUCCESS: \d+ rules found/);
  });

  it.each(readdirSync(RULES_DIR).filter((f) => f.endsWith(".test.yml")))("test rules %s", (file) => {
    const r = promtool(["test", "rules", join(RULES_DIR, file)]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("SUCCESS");
  });
});

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

// Sessions of our own for POST /sessions: the v2 reference segments, varied operators, levels, scores, anomalies.
const REF = (
  JSON.parse(readText("spec/v2/reference_segments.json")) as {
    reference_sets: {
      device_type: string;
      scenario: string;
      difficulty: string;
      segments: Record<string, { samples: { t: number }[] }>;
    }[];
  }
).reference_sets[0]!;
const ANOMALY_TYPES = ["DECOHERENCE_SPIKE", "CORRIDOR_C_DRIFT", "OVERSHOOT_EVENT"];
const RUN_ID = `${process.pid}-${Date.now()}`;
function itSession(i: number) {
  const segments = Object.entries(REF.segments).map(([label, seg]) => ({
    segment_id: `seg-${label}`,
    label,
    samples: seg.samples,
    anomalies:
      (label === "main") === (i % 2 === 0)
        ? [{ t: seg.samples.at(-1)!.t, type: ANOMALY_TYPES[i % 3]!, severity: 1 + (i % 4) }]
        : [],
  }));
  const header = {
    session_id: `IT-${RUN_ID}-${i}`,
    timestamp: new Date(Date.now() - i * 1000).toISOString(),
    device: REF.device_type,
    scenario: REF.scenario,
    difficulty: REF.difficulty,
  };
  return buildSessionV2(header, segments as never, {
    device_type: REF.device_type as never,
    operator_id: `urn:operator:it:op${i % 3}`,
    operator_display: `IT operator ${i % 3}`,
    mastery_level: i % 5,
    scores: { stability: 70 + (i % 20), response: 60 + (i % 30), quality: 80, final: 40 + ((i * 7) % 60) },
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, logs: () => string) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${logs().slice(-4000)}`);
    await sleep(250);
  }
}

function startProcess(cmd: string, args: string[], name: string) {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: false });
  let log = "";
  const keep = (b: Buffer) => {
    log = (log + b.toString()).slice(-20_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  return { child, logs: () => `--- ${name} ---\n${log}` };
}

async function stop(child: ChildProcess | undefined) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await Promise.race([exited, sleep(5000)]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGKILL");
    await exited;
  }
}

type PromResult = { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] };
type PromAnswer = { status: string; error?: string; data: { resultType: string; result: PromResult[] } };

// Grafana's macros on a 1s scrape interval: $__rate_interval = max(4 × scrape, $__interval + scrape).
/** The PromQL of docs/rtt-sdk/labels.md's table ("The PromQL that selects them"): each must select data too. */
function labelsDocQueries(): ShippedQuery[] {
  const text = readText("docs/rtt-sdk/labels.md");
  const section = text.slice(text.indexOf("## The PromQL that selects them"));
  const rows = section.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| what"));
  return rows.flatMap((row) => {
    const [what = "", promql = ""] = row.split(" | ");
    return [...promql.matchAll(/`([^`]+)`/g)].map((m, i) => ({
      source: `docs/rtt-sdk/labels.md › ${what.replace(/^\| /, "")} › ${i + 1}`,
      lang: "promql" as const,
      expr: m[1]!,
      kind: "panel" as const,
      instant: true,
    }));
  });
}

const MACROS = { rateInterval: "10s", interval: "2s", range: "2m" };

describe.skipIf(noServeReason !== null)("real Prometheus scraping `rtt serve --demo`", () => {
  let dir = "";
  let rtt: ReturnType<typeof startProcess> | undefined;
  let prom: ReturnType<typeof startProcess> | undefined;
  let rttUrl = "";
  let promUrl = "";
  const report: string[] = [];
  const logs = () => `${rtt?.logs() ?? ""}\n${prom?.logs() ?? ""}`;

  const api = async (path: string, params: Record<string, string>) => {
    const res = await fetch(`${promUrl}${path}?${new URLSearchParams(params)}`);
    return (await res.json()) as PromAnswer & { data: unknown };
  };
  const instant = (query: string) => api("/api/v1/query", { query }) as Promise<PromAnswer>;
  const range = (query: string) => {
    const end = Date.now() / 1000;
    return api("/api/v1/query_range", {
      query,
      start: String(end - 30),
      end: String(end),
      step: "1",
    }) as Promise<PromAnswer>;
  };
  const finiteSamples = (a: PromAnswer) =>
    a.data.result
      .flatMap((r) => (r.values ?? (r.value ? [r.value] : [])).map((v) => Number(v[1])))
      .filter(Number.isFinite).length;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "rtt-prom-it-"));
    const rttPort = await freePort();
    rttUrl = `http://127.0.0.1:${rttPort}`;
    rtt = startProcess(
      process.execPath,
      [
        RTT_CLI,
        "serve",
        "--demo",
        "--host",
        "127.0.0.1",
        "--port",
        String(rttPort),
        "--db",
        join(dir, "rtt.db"),
        "--log-file",
        join(dir, "sessions.ndjson"),
      ],
      "rtt serve",
    );
    await waitFor(
      "rtt serve /healthz",
      async () => ((await fetch(`${rttUrl}/healthz`)).ok ? true : undefined),
      45_000,
      logs,
    );

    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    const config = {
      global: { scrape_interval: "1s", evaluation_interval: "1s" },
      rule_files: ruleFiles().map((f) => join(RULES_DIR, f)),
      scrape_configs: [
        {
          job_name: "rtt",
          static_configs: [{ targets: [`127.0.0.1:${rttPort}`], labels: { app: "rtt-runner" } }],
        },
      ],
    };
    writeFileSync(join(dir, "prometheus.yml"), toYaml(config));
    prom = startProcess(
      PROMETHEUS!,
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "tsdb")}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        "--log.level=warn",
      ],
      "prometheus",
    );
    await waitFor(
      "the first scrape of rtt serve",
      async () => {
        const a = await instant('up{job="rtt"} == 1');
        return a.data.result.length > 0 ? true : undefined;
      },
      30_000,
      logs,
    );

    // Traffic while Prometheus watches, so every rate, increase and quantile has something to show:
    // v1 and v2 engine runs, validations, sessions ingested for several operators (with anomalies in
    // several segments and severities), and rejected bodies.
    const post = (path: string, body: unknown, type = "application/json") =>
      fetch(`${rttUrl}${path}`, {
        method: "POST",
        headers: { "content-type": type },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
    const policies = ["novice", "competent", "expert"];
    // Seeds 001/002: the services' and clusters' signals, labelled by their profiles (docs/rtt-sdk/labels.md).
    const put = (path: string, body: unknown) =>
      fetch(`${rttUrl}${path}`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const profile = { version: "1.0", supports: ["coherence", "drift", "corridor"], contact: "infra@example.com" };
    expect((await put("/api/rtt/profile/auth-service", { ...profile, scope: "service", name: "auth" })).status).toBe(
      200,
    );
    expect((await put("/api/rtt/profile/datacenter-east", { ...profile, scope: "cluster", name: "east" })).status).toBe(
      200,
    );
    const structure = (dom_nodes: number) => ({
      url: "internal://cluster",
      title: "Cluster State",
      nav_count: 0,
      main_count: 0,
      form_count: 0,
      button_count: 0,
      dom_nodes,
    });
    let n = 0;
    for (let round = 0; round < 6; round++) {
      const ts = new Date().toISOString();
      for (const [site, event] of [
        ["auth-service", "heartbeat"],
        ["datacenter-east", "cluster_heartbeat"],
      ] as const) {
        // the structure changes every other round: structure_change drift
        const b = await post("/api/rtt/beacon", { site, session: "it", event, ts, structure: structure(round >> 1) });
        expect(b.status, await b.text()).toBe(200);
      }
      const corridor = await post("/api/rtt/corridor", {
        site: "datacenter-east",
        flows: [{ path: ["ingress", "api", "db"], latency_ms: 12 + round * 4, budget_ms: 24 }],
      });
      expect(corridor.status, await corridor.text()).toBe(200);
      const coherence = await post("/api/rtt/validate", {
        site: round % 2 ? "auth-service" : "datacenter-east",
        system_map: { services: ["auth", "api", "db"] },
        flows: round % 3 ? [{ from: "api", to: "db" }] : [],
        constraints: [],
      });
      expect(coherence.status, await coherence.text()).toBe(200);
      for (let i = 0; i < 3; i++) {
        const opts = { policy: policies[i]!, seed: round * 10 + i, operator_id: `urn:operator:it:op${i}` };
        // ?store=true: a run is kept as a session only when asked (issue 19), and these feed the session panels.
        const v2 = await post("/run/v2?store=true", opts);
        expect(v2.status, await v2.text()).toBe(200);
        const v1 = await post("/run?store=true", opts);
        expect(v1.status, await v1.text()).toBe(200);
        const ingest = await post("/sessions", itSession(n++));
        expect(ingest.status, await ingest.text()).toBe(201);
      }
      expect((await post("/validate", {})).status).toBe(200);
      expect((await post("/sessions", "{not json")).status).toBe(400);
      await sleep(700);
    }
    // a few more scrapes and rule evaluations after the last request
    await sleep(3500);
  }, 120_000);

  afterAll(async () => {
    await stop(prom?.child);
    await stop(rtt?.child);
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (report.length) console.log(`[deploy] PromQL results against rtt serve --demo:\n${report.join("\n")}`);
  });

  it("promtool check metrics passes on the server's /metrics", async () => {
    const text = await (await fetch(`${rttUrl}/metrics`)).text();
    const r = promtool(["check", "metrics"], text);
    expect(r.code, r.out).toBe(0);
  });

  it("the temporary scrape config passes promtool check config (rule files included)", () => {
    const r = promtool(["check", "config", join(dir, "prometheus.yml")]);
    expect(r.code, r.out).toBe(0);
  });

  it("Prometheus loaded every shipped rule and evaluates it without error", async () => {
    const res = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const loaded = res.data.groups.flatMap((g) => g.rules);
    expect(loaded.map((r) => r.name).sort()).toEqual(
      ruleQueries()
        .map((q) => q.source.split(" › ").at(-1))
        .sort(),
    );
    for (const r of loaded) expect(r.health, `${r.name}: ${r.lastError}`).toBe("ok");
  });

  // The fabric's dashboard reads `rtt fabric up --metrics`, not `rtt serve`: fabric-dashboard.test.ts evaluates it.
  const promql = [...dashboardQueries(), ...ruleQueries(), ...labelsDocQueries()].filter(
    (q) => q.lang === "promql" && !q.source.startsWith(`${FABRIC_DASHBOARD} `),
  );

  it.each(promql.map((q) => [q.source, q] as [string, ShippedQuery]))("%s", async (_source, q) => {
    if (q.kind === "variable") {
      const lv = parseLabelValues(q.expr);
      expect(lv, `${q.expr} is label_values(metric, label)`).not.toBeNull();
      const res = (await api(`/api/v1/label/${lv!.label}/values`, { "match[]": lv!.metric })) as unknown as {
        status: string;
        data: string[];
      };
      expect(res.status).toBe("success");
      report.push(`  ${res.data.length ? "data " : "EMPTY"} ${q.source}: ${res.data.length} values`);
      expect(res.data.length, `${q.source}: ${q.expr}`).toBeGreaterThan(0);
      return;
    }
    const expr = substituteGrafanaVars(q.expr, MACROS);
    const a = q.kind === "panel" && !q.instant ? await range(expr) : await instant(expr);
    expect(a.status, `${q.source}: ${a.error}\n${expr}`).toBe("success");
    let checked = a;
    let label = "";
    if (q.kind === "alert") {
      // A quiet alert returns nothing by design; its operand must still have data.
      const operand = alertOperand(expr);
      expect(operand, `${q.source}: alert expression is \`operand OP threshold\``).not.toBeNull();
      checked = await instant(operand!);
      expect(checked.status).toBe("success");
      label = ` (operand; alert ${a.data.result.length ? "FIRING/PENDING" : "quiet"})`;
    }
    const n = finiteSamples(checked);
    report.push(
      `  ${n ? "data " : "EMPTY"} ${q.source}${label}: ${checked.data.result.length} series, ${n} finite samples`,
    );
    expect(checked.data.result.length, `${q.source}: no series for\n${expr}`).toBeGreaterThan(0);
    expect(n, `${q.source}: only NaN/Inf for\n${expr}`).toBeGreaterThan(0);
  });
});
