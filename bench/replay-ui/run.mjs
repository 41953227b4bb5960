#!/usr/bin/env node
// Replay UI on a 1,000,000-sample session (issue 5, bench part a): time until the C/D/Q/R plots are drawn in
// Chromium, beside the time to merely fetch the full data (GET …/columns + JSON parse) in the same browser, same run,
// and the time to fetch the decimated body the UI actually loads (GET …/columns?max_points=N, N sized to the plot).
// Usage: npm run build && node bench/replay-ui/run.mjs [--samples 1000000] [--runs 5]
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prng } from "../lib/prng.mjs";
import { launchChromium, median, requireBuilt, startServer, stopServer } from "../lib/ui.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg("samples", 1_000_000);
const RUNS = arg("runs", 5);
requireBuilt();

/** One v2 session, one "main" segment of N samples at 1 kHz, full-precision doubles, a few anomalies. */
async function writeSession(file) {
  const rnd = prng(42);
  const out = createWriteStream(file);
  const write = (s) => (out.write(s) ? Promise.resolve() : new Promise((r) => out.once("drain", r)));
  await write(
    `{"spec_version":"v2","engine_version":"RTT-2.0.0","mode":"TRAINING","session_id":"BENCH-REPLAY-1M",` +
      `"timestamp":"2026-01-06T21:10:00Z","device":"COMT","device_type":"COMT","scenario":"COMT_LOCK_01",` +
      `"difficulty":"Journeyman","operator_id":"urn:operator:triadic:bench.runner","mastery_level":7,` +
      `"segments":[{"segment_id":"seg-main","label":"main","samples":[`,
  );
  let C = 0.1;
  let D = 1;
  let chunk = "";
  for (let i = 0; i < N; i++) {
    const t = i / 1000;
    C += (rnd() - 0.5) * 1e-3 - (C - 0.1) * 1e-3;
    D = Math.max(0, D - rnd() * 2e-7);
    const Q = 0.5 + 0.05 * Math.sin(t / 7);
    const R = 0.02 * Math.sin(t / 3) ** 2;
    chunk += `${i ? "," : ""}{"t":${t},"C":${C},"D":${D},"Q":${Q},"R":${R}}`;
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = "";
    }
  }
  const types = ["DECOHERENCE_SPIKE", "CORRIDOR_C_DRIFT", "OVERSHOOT_EVENT", "HUNTING_OSCILLATION"];
  const anomalies = Array.from({ length: 8 }, (_, k) => ({
    t: Math.floor(((k + 1) * N) / 9) / 1000,
    type: types[k % 4],
    severity: 1 + (k % 5),
  }));
  await write(`${chunk}],"anomalies":${JSON.stringify(anomalies)}}],`);
  await write(`"scores":{"stability":80,"response":78,"quality":85,"final":81}}`);
  await new Promise((r) => out.end(r));
}

const dir = mkdtempSync(join(tmpdir(), "rtt-bench-replay-ui-"));
let server;
let browser;
try {
  const file = join(dir, "session.json");
  let t = performance.now();
  await writeSession(file);
  const bytes = statSync(file).size;
  console.log(
    `session: ${N.toLocaleString()} samples, ${(bytes / 1e6).toFixed(1)} MB (${((performance.now() - t) / 1000).toFixed(1)} s to generate)`,
  );

  server = await startServer(dir, ["--max-body", "512mb", "--log-file", join(dir, "feed.ndjson")]);
  t = performance.now();
  const ingest = await fetch(`${server.url}/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: readFileSync(file),
  });
  if (!ingest.ok) throw new Error(`ingest failed: ${ingest.status} ${await ingest.text()}`);
  console.log(`ingested in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const id = "BENCH-REPLAY-1M";
  const colsUrl = `/replay/${id}/segment/seg-main/columns`;
  t = performance.now();
  const cold = await fetch(server.url + colsUrl);
  const colsBytes = (await cold.arrayBuffer()).byteLength;
  const coldMs = performance.now() - t;
  console.log(
    `columns: ${(colsBytes / 1e6).toFixed(1)} MB, first (cold, server builds its cache) ${coldMs.toFixed(0)} ms`,
  );

  browser = await launchChromium();
  // Warm-up view (not counted): finds the columns URL the UI asks for (…?max_points=N) and builds the server's
  // cache for it, as the warm-up request above did for the full body.
  let viewUrl;
  let viewColdMs;
  {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await page.goto(`${server.url}/?view=replay&session=${id}&segment=seg-main`);
    await page.locator('[data-testid="plots-drawn"][data-drawn="true"]').waitFor({ timeout: 120_000 });
    const e = await page.evaluate(
      () =>
        performance
          .getEntriesByType("resource")
          .filter((x) => /\/columns\?max_points=\d+$/.test(x.name))
          .map((x) => ({ name: x.name, ms: x.responseEnd - x.startTime }))[0],
    );
    await ctx.close();
    if (!e) throw new Error("the replay view made no …/columns?max_points=N request");
    viewUrl = new URL(e.name).pathname + new URL(e.name).search;
    viewColdMs = e.ms;
  }
  const viewText = await (await fetch(server.url + viewUrl)).text();
  const viewBody = JSON.parse(viewText);
  const viewBytes = Buffer.byteLength(viewText);
  console.log(
    `view columns: ${viewUrl} → ${viewBody.n.toLocaleString()} of ${viewBody.n_total.toLocaleString()} samples ` +
      `(decimated ${viewBody.decimated}), ${(viewBytes / 1e3).toFixed(0)} kB; first request (cold) ${viewColdMs.toFixed(0)} ms`,
  );

  const rows = [];
  for (let r = 0; r < RUNS; r++) {
    // (1) fetch only: a fresh page at the UI's origin; fetch + parse the columns, nothing drawn.
    const ctx1 = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p1 = await ctx1.newPage();
    await p1.goto(`${server.url}/healthz`);
    const { fetchMs, downloadMs } = await p1.evaluate(async (u) => {
      const t0 = performance.now();
      const res = await fetch(u, { cache: "no-store" });
      const j = await res.json();
      if (j.n !== j.t.length) throw new Error("short columns");
      const t1 = performance.now();
      await (await fetch(u, { cache: "no-store" })).arrayBuffer();
      return { fetchMs: t1 - t0, downloadMs: performance.now() - t1 };
    }, colsUrl);
    await ctx1.close();

    // (2) the replay view from a cold page load: time from navigation start to the plots being painted.
    const ctx2 = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p2 = await ctx2.newPage();
    await p2.goto(`${server.url}/?view=replay&session=${id}&segment=seg-main`);
    await p2.locator('[data-testid="plots-drawn"][data-drawn="true"]').waitFor({ timeout: 60_000 });
    const m = await p2.evaluate(() => {
      const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? Number.NaN;
      return {
        painted: at("rtt:plots-painted"),
        drawn: at("rtt:plots-drawn"),
        colsStart: at("rtt:columns-start"),
        colsParsed: at("rtt:columns-parsed"),
      };
    });
    await ctx2.close();

    // (3) fetch only the decimated body the view loads, same way as (1).
    const ctx3 = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p3 = await ctx3.newPage();
    await p3.goto(`${server.url}/healthz`);
    const viewFetchMs = await p3.evaluate(async (u) => {
      const t0 = performance.now();
      const j = await (await fetch(u, { cache: "no-store" })).json();
      if (j.n !== j.t.length) throw new Error("short columns");
      return performance.now() - t0;
    }, viewUrl);
    await ctx3.close();
    const row = {
      fetchMs,
      downloadMs,
      viewFetchMs,
      paintedMs: m.painted,
      inViewFetchMs: m.colsParsed - m.colsStart,
      drawMs: m.painted - m.colsParsed,
      beforeFetchMs: m.colsStart,
    };
    rows.push(row);
    console.log(
      `run ${r + 1}: fetch-only ${fetchMs.toFixed(0)} ms (bytes alone ${downloadMs.toFixed(0)}; decimated ${viewFetchMs.toFixed(0)}) | replay painted ${m.painted.toFixed(0)} ms after navigation ` +
        `(page+JS+metadata ${m.colsStart.toFixed(0)}, columns fetch+parse ${row.inViewFetchMs.toFixed(0)}, draw ${row.drawMs.toFixed(0)}) | ratio ${(m.painted / fetchMs).toFixed(2)}`,
    );
  }
  const f = median(rows.map((x) => x.fetchMs));
  const p = median(rows.map((x) => x.paintedMs));
  const summary = {
    samples: N,
    session_mb: Number((bytes / 1e6).toFixed(1)),
    columns_mb: Number((colsBytes / 1e6).toFixed(1)),
    runs: RUNS,
    fetch_only_ms: Math.round(f),
    download_bytes_only_ms: Math.round(median(rows.map((x) => x.downloadMs))),
    view_columns: viewUrl,
    view_points: viewBody.n,
    view_kb: Number((viewBytes / 1e3).toFixed(1)),
    view_cold_ms: Math.round(viewColdMs),
    fetch_view_only_ms: Math.round(median(rows.map((x) => x.viewFetchMs))),
    plot_painted_ms: Math.round(p),
    ratio: Number((p / f).toFixed(2)),
    ratio_vs_view_fetch: Number((p / median(rows.map((x) => x.viewFetchMs))).toFixed(2)),
    page_js_metadata_ms: Math.round(median(rows.map((x) => x.beforeFetchMs))),
    in_view_fetch_parse_ms: Math.round(median(rows.map((x) => x.inViewFetchMs))),
    draw_ms: Math.round(median(rows.map((x) => x.drawMs))),
    target_ms: 1000,
    met: p < 1000,
  };
  console.log(JSON.stringify(summary));
} finally {
  await browser?.close();
  await stopServer(server);
  rmSync(dir, { recursive: true, force: true });
}
