#!/usr/bin/env node
// Takes the screenshots in docs/img/ for docs/observability.md: a real Prometheus (Debian's package) scraping a real
// `rtt serve --demo`, with the shipped rules loaded, showing the dashboards' PromQL on Prometheus's own graph page,
// plus RTT's own web UI. (Grafana itself is not installable on the build machines; the queries are the same.)
//   npm run build && node deploy/scripts/screenshots.mjs [seconds-of-traffic, default 150]
// Needs: prometheus on PATH, /usr/bin/chromium, playwright-core (a devDependency).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OUT = join(ROOT, "docs/img");
const TRAFFIC_S = Number(process.argv[2] ?? 150);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const dir = mkdtempSync(join(tmpdir(), "rtt-shots-"));
const children = [];
const start = (cmd, args) => {
  const c = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  children.push(c);
  return c;
};
const cleanup = () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
};
process.on("exit", cleanup);
process.on("SIGINT", () => process.exit(130));

async function until(what, fn, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {}
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(300);
  }
}

const rttPort = await freePort();
const rtt = `http://127.0.0.1:${rttPort}`;
start(process.execPath, [
  join(ROOT, "packages/cli/dist/bin/rtt.js"),
  "serve",
  "--demo",
  "--port",
  String(rttPort),
  "--db",
  join(dir, "rtt.db"),
  "--log-file",
  join(dir, "sessions.ndjson"),
]);
await until("rtt serve", async () => (await fetch(`${rtt}/healthz`)).ok);

const promPort = await freePort();
const prom = `http://127.0.0.1:${promPort}`;
const rules = join(ROOT, "deploy/prometheus/rules/rtt-alerts.yml");
writeFileSync(
  join(dir, "prometheus.yml"),
  `global: {scrape_interval: 2s, evaluation_interval: 2s}\nrule_files: ["${rules}"]\nscrape_configs:\n  - job_name: rtt\n    static_configs: [{targets: ["127.0.0.1:${rttPort}"], labels: {app: rtt-runner}}]\n`,
);
start("prometheus", [
  `--config.file=${join(dir, "prometheus.yml")}`,
  `--storage.tsdb.path=${join(dir, "tsdb")}`,
  `--web.listen-address=127.0.0.1:${promPort}`,
  "--log.level=warn",
]);
await until("prometheus", async () => (await fetch(`${prom}/-/ready`)).ok);

mkdirSync(OUT, { recursive: true });
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });

// RTT's own UI on the demo data alone (before the traffic below adds look-alike runs): the session browser with
// a session's summary open, its replay and curriculum views, and an operator's mastery view.
const uiShot = async (file, query) => {
  await page.goto(`${rtt}/${query}`, { waitUntil: "networkidle" });
  await sleep(1500);
  await page.screenshot({ path: join(OUT, file) });
  console.log("wrote", file);
};
{
  const list = await (await fetch(`${rtt}/replay/sessions?has_anomalies=true&limit=50`)).json();
  const rows = Array.isArray(list) ? list : list.sessions;
  // The most telling replay: a v2 session with the most anomalies, severe ones included.
  const pick = [...rows].filter((r) => r.spec_version === "v2").sort((a, b) => b.anomaly_count - a.anomaly_count)[0];
  await uiShot("rtt-ui-sessions.png", `?sel=${encodeURIComponent(pick.session_id)}`);
  const meta = await (await fetch(`${rtt}/replay/${encodeURIComponent(pick.session_id)}`)).json();
  const seg = meta.segments.reduce((a, b) => (b.anomaly_count > a.anomaly_count ? b : a));
  const at = `session=${encodeURIComponent(pick.session_id)}&segment=${encodeURIComponent(seg.segment_id)}`;
  await uiShot("rtt-ui-replay.png", `?view=replay&${at}&t=${seg.t_min}`);
  await uiShot("rtt-ui-curriculum.png", `?view=curriculum&${at}`);
  await uiShot("rtt-ui-mastery.png", `?view=mastery&operator=${encodeURIComponent(pick.operator_id)}`);
}

// Traffic: runs of three operators with different policies, in waves, so the graphs have shape.
const post = (path, body) =>
  fetch(`${rtt}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
const policies = ["novice", "competent", "expert"];
const t0 = Date.now();
let i = 0;
console.log(`traffic for ${TRAFFIC_S}s …`);
while (Date.now() - t0 < TRAFFIC_S * 1000) {
  const wave = Math.sin((Date.now() - t0) / 20_000) + 1.2;
  for (let k = 0; k < Math.round(wave * 3); k++) {
    const p = i % 3;
    const r = await post(i % 4 === 0 ? "/run" : "/run/v2", {
      policy: policies[p],
      seed: i,
      operator_id: `urn:operator:triadic:trainee-${p}`,
      operator_display: `Trainee ${p}`,
    });
    await r.arrayBuffer();
    i++;
  }
  if (i % 10 === 0) await (await post("/validate", {})).arrayBuffer();
  await sleep(500);
}
await sleep(5000);

const dash = (file) => JSON.parse(readFileSync(join(ROOT, "deploy/grafana/dashboards", file), "utf8"));
const exprOf = (file, title) => {
  const p = dash(file).panels.find((x) => x.title === title);
  return p.targets[0].expr
    .replaceAll("$__rate_interval", "30s")
    .replaceAll("$__interval", "10s")
    .replaceAll("$__range", "5m")
    .replace(/\$\{?[A-Za-z_]+\}?/g, ".*");
};
const shots = [
  ["prom-ops-sessions-by-device.png", exprOf("rtt-inside-qeb-dashboard.json", "Sessions Ingested by Device Type")],
  ["prom-ops-run-throughput.png", exprOf("rtt-inside-qeb-dashboard.json", "v2 Segmented Runs (/run/v2)")],
  ["prom-ops-p95-run-latency.png", exprOf("rtt-inside-qeb-dashboard.json", "p95 Run Latency")],
  ["prom-mastery-level.png", exprOf("qeb-mastery-dashboard.json", "Mastery Level Over Time")],
  [
    "prom-heatmap-segment-severity.png",
    exprOf("qeb-segment-anomaly-heatmap.json", "Anomalies by Segment and Severity"),
  ],
];

for (const [file, expr] of shots) {
  const q = new URLSearchParams({
    "g0.expr": expr,
    "g0.tab": "0",
    "g0.stacked": "0",
    "g0.range_input": `${Math.ceil(TRAFFIC_S / 60) + 1}m`,
  });
  await page.goto(`${prom}/graph?${q}`, { waitUntil: "networkidle" });
  await page.waitForSelector(".graph-legend", { timeout: 10_000 }).catch(() => {});
  await sleep(1000);
  await page.screenshot({ path: join(OUT, file), fullPage: true });
  console.log("wrote", file);
}
// Debian builds Prometheus with the classic UI only.
await page.goto(`${prom}/classic/alerts`, { waitUntil: "networkidle" });
await sleep(1000);
await page.screenshot({ path: join(OUT, "prom-alerts.png"), fullPage: true });
console.log("wrote prom-alerts.png");

await browser.close();
process.exit(0);
