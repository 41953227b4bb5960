#!/usr/bin/env node
// CTF trace view on a 1,000,000-event trace (issue 18: 2): time from navigation until the lanes are painted in
// Chromium, beside the time to merely fetch + parse the lanes' data the view loads (GET /ctf/:id/columns?max_points=N,
// decimated on the server, min/max per bucket) in the same browser, same run. The server's replay of the trace (kept
// until the file changes) is built by a warm-up view first, as the replay bench's warm-up builds its cache.
// Usage: npm run build && node bench/ctf-ui/run.mjs [--events 1000000] [--runs 5]
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateTrace } from "../ctf/gen.mjs";
import { launchChromium, median, requireBuilt, startServer, stopServer } from "../lib/ui.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const EVENTS = arg("events", 1_000_000);
const RUNS = arg("runs", 5);
const TARGET_MS = 1500;
requireBuilt();

const dir = mkdtempSync(join(tmpdir(), "rtt-bench-ctf-ui-"));
let server;
let browser;
const ID = "bench-ctf-ui";
try {
  const file = join(dir, "trace.ctf");
  let t = performance.now();
  const events = generateTrace(file, { events: EVENTS, seed: 7 });
  const bytes = statSync(file).size;
  console.log(
    `trace: ${events.toLocaleString()} events, ${(bytes / 1e6).toFixed(1)} MB (${((performance.now() - t) / 1000).toFixed(1)} s to generate)`,
  );
  server = await startServer(dir, ["--max-body", "1gb"]);
  t = performance.now();
  const up = await fetch(`${server.url}/ctf?id=${ID}`, {
    method: "POST",
    headers: { "content-type": "application/x-ndjson" },
    body: readFileSync(file),
  });
  if (!up.ok) throw new Error(`upload failed: ${up.status} ${(await up.text()).slice(0, 500)}`);
  const upBody = await up.json();
  console.log(`uploaded (validated) in ${((performance.now() - t) / 1000).toFixed(1)} s: ${upBody.steps} steps`);

  browser = await launchChromium();
  const pageUrl = `${server.url}/?view=trace&trace=${ID}`;
  const drawn = '[data-testid="ctf-lanes"][data-drawn="true"]';
  // Warm-up view (not counted): the server replays the trace once and keeps it; finds the columns URL the view asks.
  let colsUrl;
  {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    t = performance.now();
    await page.goto(pageUrl);
    await page.locator(drawn).waitFor({ timeout: 300_000 });
    console.log(`warm-up view (server replays the trace): ${((performance.now() - t) / 1000).toFixed(1)} s`);
    colsUrl = await page.evaluate(
      () =>
        performance
          .getEntriesByType("resource")
          .map((x) => x.name)
          .filter((n) => /\/columns\?max_points=\d+$/.test(n))[0],
    );
    await ctx.close();
    if (!colsUrl) throw new Error("the trace view made no …/columns?max_points=N request");
    colsUrl = new URL(colsUrl).pathname + new URL(colsUrl).search;
  }
  const colsText = await (await fetch(server.url + colsUrl)).text();
  const cols = JSON.parse(colsText);
  console.log(
    `view columns: ${colsUrl} → ${cols.n.toLocaleString()} of ${cols.n_total.toLocaleString()} steps ` +
      `(decimated ${cols.decimated}), ${(colsText.length / 1e3).toFixed(0)} kB`,
  );

  const rows = [];
  for (let r = 0; r < RUNS; r++) {
    // (1) fetch only: a fresh page at the UI's origin fetches + parses the columns the view loads; nothing drawn.
    const ctx1 = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p1 = await ctx1.newPage();
    await p1.goto(`${server.url}/healthz`);
    const fetchMs = await p1.evaluate(async (u) => {
      const t0 = performance.now();
      const j = await (await fetch(u, { cache: "no-store" })).json();
      if (j.n !== j.ord.length) throw new Error("short columns");
      return performance.now() - t0;
    }, colsUrl);
    await ctx1.close();

    // (2) the trace view from a cold page load: navigation start → lanes painted (the frame after their draw).
    const ctx2 = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p2 = await ctx2.newPage();
    await p2.goto(pageUrl);
    await p2.locator(drawn).waitFor({ timeout: 60_000 });
    await p2.waitForFunction(() => performance.getEntriesByName("rtt:ctf-painted").length > 0);
    const m = await p2.evaluate(() => {
      const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? Number.NaN;
      return {
        painted: at("rtt:ctf-painted"),
        colsStart: at("rtt:ctf-columns-start"),
        colsParsed: at("rtt:ctf-columns-parsed"),
      };
    });
    await ctx2.close();
    const row = {
      fetchMs,
      paintedMs: m.painted,
      beforeFetchMs: m.colsStart,
      inViewFetchMs: m.colsParsed - m.colsStart,
      drawMs: m.painted - m.colsParsed,
    };
    rows.push(row);
    console.log(
      `run ${r + 1}: fetch-only ${fetchMs.toFixed(0)} ms | trace view painted ${m.painted.toFixed(0)} ms after navigation ` +
        `(page+JS ${m.colsStart.toFixed(0)}, columns fetch+parse ${row.inViewFetchMs.toFixed(0)}, draw ${row.drawMs.toFixed(0)})`,
    );
  }
  const p = median(rows.map((x) => x.paintedMs));
  const f = median(rows.map((x) => x.fetchMs));
  console.log(
    JSON.stringify({
      events,
      trace_mb: Number((bytes / 1e6).toFixed(1)),
      steps: cols.n_total,
      runs: RUNS,
      view_columns: colsUrl,
      view_points: cols.n,
      view_kb: Number((colsText.length / 1e3).toFixed(1)),
      fetch_only_ms: Math.round(f),
      lanes_painted_ms: Math.round(p),
      page_js_ms: Math.round(median(rows.map((x) => x.beforeFetchMs))),
      in_view_fetch_parse_ms: Math.round(median(rows.map((x) => x.inViewFetchMs))),
      draw_ms: Math.round(median(rows.map((x) => x.drawMs))),
      ratio: Number((p / f).toFixed(2)),
      target_ms: TARGET_MS,
      met: p < TARGET_MS,
    }),
  );
} finally {
  await browser?.close();
  await stopServer(server);
  rmSync(dir, { recursive: true, force: true });
}
