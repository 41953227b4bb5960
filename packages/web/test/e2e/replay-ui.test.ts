// End-to-end tests of the replay UI in Debian's Chromium against the real server (`rtt serve --demo`).
// Flows: browse, filter, open a replay, play (SSE), jump to an anomaly, switch segment, keyboard stepping,
// add a note, curriculum mode, mastery view, shareable URLs and error states. Screenshots: test-artifacts/e2e/.
// The server and the browser are shared; each test opens its own page in a fresh context, so it runs alone with -t.
import { beforeAll, expect, it } from "vitest";
import { artifactPath, chromiumSuite, freshPage } from "./harness.js";

interface Row {
  session_id: string;
  operator_id: string;
  anomaly_count: number;
  segment_count: number;
  max_severity: number | null;
}

chromiumSuite("replay UI in Chromium", { label: "replay UI" }, (ui) => {
  let base: string;
  const api = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${base}${path}`);
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  };
  const shot = (name: string) => ui.page.screenshot({ path: artifactPath(`${name}.png`) });
  const testid = (id: string) => ui.page.locator(`[data-testid="${id}"]`);
  const currentT = async () => Number(await testid("inspector-t").textContent());
  const param = (name: string) => new URL(ui.page.url()).searchParams.get(name);
  /** The target session's replay, plots drawn. */
  const openReplay = async () => {
    await ui.page.goto(`${base}/?view=replay&session=${encodeURIComponent(target.session_id)}`);
    await ui.page.locator('[data-testid="plots-drawn"][data-drawn="true"]').waitFor();
  };

  // A session with anomalies in a multi-segment run, picked from the API the UI itself uses.
  let target: Row;

  beforeAll(async () => {
    base = ui.server.url;
    const rows = await api<Row[]>("/replay/sessions?has_anomalies=true&limit=200");
    const multi = rows.filter((r) => r.segment_count > 1);
    target = (multi.length ? multi : rows).sort((a, b) => b.anomaly_count - a.anomaly_count)[0]!;
    expect(target, "the demo data has a session with anomalies").toBeTruthy();
  }, 120_000);

  it("browses sessions of several operators and shows the summary of the selected row", async () => {
    await ui.page.goto(`${base}/`);
    await testid("session-row").first().waitFor();
    const count = await testid("session-row").count();
    expect(count).toBeGreaterThan(3);
    const facets = await api<{ operators: unknown[] }>("/replay/facets");
    expect(facets.operators.length).toBeGreaterThan(1);
    // operator filter lists every operator (+ "All")
    expect(await testid("filter-operator").locator("option").count()).toBe(facets.operators.length + 1);

    const row = ui.page.locator(`[data-testid="session-row"][data-session="${target.session_id}"]`);
    if (await row.count()) await row.click();
    else await ui.page.goto(`${base}/?sel=${encodeURIComponent(target.session_id)}`);
    await testid("summary-loaded").waitFor();
    expect(await testid("sum-anomaly-count").textContent()).toBe(String(target.anomaly_count));
    expect(await testid("sum-segment-count").textContent()).toBe(String(target.segment_count));
    expect(await testid("sum-max-severity").locator(".sev").getAttribute("data-severity")).toBe(
      String(target.max_severity),
    );
    expect(await testid("export-json").getAttribute("href")).toBe(
      `/replay/${encodeURIComponent(target.session_id)}/export`,
    );
    expect(param("sel")).toBe(target.session_id);
    await shot("01-session-browser");
  });

  it("filters by operator and by has-anomalies, and the filters live in the URL", async () => {
    const op = target.operator_id;
    await ui.page.goto(`${base}/`);
    await testid("session-row").first().waitFor();
    await testid("filter-operator").selectOption(op);
    await ui.page.waitForFunction((o) => new URL(location.href).searchParams.get("operator") === o, op);
    await testid("session-row").first().waitFor();
    const expected = await api<Row[]>(`/replay/sessions?operator=${encodeURIComponent(op)}&limit=50`);
    await expect.poll(() => testid("session-row").count()).toBe(expected.length);
    const ids = await testid("session-row").evaluateAll((els) => els.map((e) => e.getAttribute("data-session")));
    expect(ids).toEqual(expected.map((r) => r.session_id));

    await testid("filter-has-anomalies").check();
    await ui.page.waitForFunction(() => new URL(location.href).searchParams.get("anom") === "1");
    const withAnoms = await api<Row[]>(
      `/replay/sessions?operator=${encodeURIComponent(op)}&has_anomalies=true&limit=50`,
    );
    await expect.poll(() => testid("session-row").count()).toBe(withAnoms.length);
    await shot("02-filtered");

    // A filter that matches nothing shows an empty state that says what to do.
    await ui.page.goto(`${base}/?operator=${encodeURIComponent(op)}&level_min=30&level_max=30&anom=1&range=24h`);
    const none = await api<Row[]>(
      `/replay/sessions?operator=${encodeURIComponent(op)}&level_min=30&level_max=30&has_anomalies=true&from=${encodeURIComponent(new Date(Date.now() - 86_400_000).toISOString())}`,
    );
    if (none.length === 0) {
      await testid("empty-sessions").waitFor();
      expect(await testid("empty-sessions").textContent()).toMatch(/clear the filters/i);
      await testid("empty-sessions").getByRole("button", { name: "Clear filters" }).click();
      await testid("session-row").first().waitFor();
      expect(new URL(ui.page.url()).search).toBe("");
    }
  });

  it("opens a replay: header, segment tabs, timeline with severity-coloured anomaly markers, four plots", async () => {
    await ui.page.goto(`${base}/?sel=${encodeURIComponent(target.session_id)}`);
    await testid("open-replay").click();
    await testid("replay-view").waitFor();
    expect(param("view")).toBe("replay");
    expect(param("session")).toBe(target.session_id);
    expect(await testid("replay-header").textContent()).toContain(target.session_id);
    await ui.page.locator('[data-testid="plots-drawn"][data-drawn="true"]').waitFor();
    expect(await ui.page.locator('[data-testid="plots"] canvas').count()).toBe(4);
    const detail = await api<{ segments: { segment_id: string }[] }>(
      `/replay/${encodeURIComponent(target.session_id)}`,
    );
    expect(await testid("segment-tab").count()).toBe(detail.segments.length);
    expect(await testid("timeline-segment").count()).toBe(detail.segments.length);
    // every anomaly has a marker; colours follow the severity rubric
    await expect.poll(() => testid("timeline-anomaly").count()).toBe(target.anomaly_count);
    const colours = await testid("timeline-anomaly").evaluateAll((els) =>
      els.map((e) => [e.getAttribute("data-severity"), e.getAttribute("fill")]),
    );
    const rubric: Record<string, string> = {
      "1": "#8a8f98",
      "2": "#3b82f6",
      "3": "#eab308",
      "4": "#f97316",
      "5": "#dc2626",
    };
    for (const [sev, fill] of colours) expect(fill).toBe(rubric[sev ?? "1"]);
    await shot("03-replay-timeline");
  });

  it("plays through the SSE stream and pauses with the space key", async () => {
    await openReplay();
    await testid("speed").selectOption("4");
    const t0 = await currentT();
    await testid("play").click();
    await ui.page.locator('[data-testid="play"][aria-pressed="true"]').waitFor();
    await expect.poll(currentT, { timeout: 10_000 }).not.toBe(t0);
    await ui.page.locator("body").press(" ");
    await ui.page.locator('[data-testid="play"][aria-pressed="false"]').waitFor();
    const paused = await currentT();
    await ui.page.waitForTimeout(400);
    expect(await currentT()).toBe(paused);
    expect(paused).toBeGreaterThan(t0);
    await shot("04-paused-after-play");
  });

  it("steps with the arrow keys", async () => {
    await openReplay();
    const before = await currentT();
    await ui.page.locator("body").press("ArrowRight");
    await expect.poll(currentT).toBeGreaterThan(before);
    const after = await currentT();
    await ui.page.locator("body").press("ArrowLeft");
    await expect.poll(currentT).toBeLessThan(after);
  });

  it("jumps to an anomaly: inspector shows it, URL carries segment and t", async () => {
    await openReplay();
    const options = await testid("jump-anomaly")
      .locator("option")
      .evaluateAll((els) => els.map((e): [string, string] => [(e as HTMLOptionElement).value, e.textContent ?? ""]));
    const choices = options.filter(([v]) => v);
    expect(choices.length).toBe(target.anomaly_count);
    const [value, label] = choices[choices.length - 1]!;
    await testid("jump-anomaly").selectOption(value);
    await testid("inspector-anomaly").first().waitFor();
    const type = label.split(" · ")[1];
    expect(await testid("inspector-anomaly").first().textContent()).toContain(type);
    const segId = value.split("|")[0];
    await ui.page.waitForFunction(
      (s) => new URL(location.href).searchParams.get("segment") === s && new URL(location.href).searchParams.has("t"),
      segId,
    );
    expect(
      await ui.page.locator(`[data-testid="segment-tab"][data-segment="${segId}"]`).getAttribute("aria-selected"),
    ).toBe("true");
    await shot("05-jump-to-anomaly");

    // The URL is shareable: a fresh page at the same address lands on the same anomaly.
    const url = ui.page.url();
    const other = await freshPage(ui.browser);
    await other.page.goto(url);
    await other.page.locator('[data-testid="inspector-anomaly"]').first().waitFor();
    expect(await other.page.locator('[data-testid="inspector-anomaly"]').first().textContent()).toContain(type);
    await other.context.close();
    expect(other.errors).toEqual([]);
  });

  it("switches segment with the tabs", async () => {
    await openReplay();
    const tabs = testid("segment-tab");
    const n = await tabs.count();
    if (n < 2) return;
    const current = await ui.page
      .locator('[data-testid="segment-tab"][aria-selected="true"]')
      .getAttribute("data-segment");
    const next = (await tabs.evaluateAll((els) => els.map((e) => e.getAttribute("data-segment")))).find(
      (s) => s !== current,
    )!;
    await ui.page.locator(`[data-testid="segment-tab"][data-segment="${next}"]`).click();
    await ui.page.waitForFunction((s) => new URL(location.href).searchParams.get("segment") === s, next);
    expect(
      await ui.page.locator(`[data-testid="segment-tab"][data-segment="${next}"]`).getAttribute("aria-selected"),
    ).toBe("true");
    await ui.page.locator('[data-testid="plots-drawn"][data-drawn="true"]').waitFor();
    const seg = (
      await api<{ segments: { segment_id: string; t_min: number; sample_count: number }[] }>(
        `/replay/${encodeURIComponent(target.session_id)}`,
      )
    ).segments.find((s) => s.segment_id === next)!;
    expect(await ui.page.locator('[data-testid="plots-drawn"]').getAttribute("data-n")).toBe(String(seg.sample_count));
    await expect.poll(currentT).toBeCloseTo(seg.t_min, 6);
    await shot("06-switched-segment");
  });

  it("curriculum mode: objectives with pass/fail and evidence on the timeline, drills", async () => {
    await openReplay();
    await testid("mode-switch").click();
    await testid("curriculum").waitFor();
    expect(param("view")).toBe("curriculum");
    const report = await api<{
      objectives: { passed: boolean; evidence: unknown[] }[];
      drills: unknown[];
    }>(`/replay/${encodeURIComponent(target.session_id)}/curriculum`);
    expect(await testid("objective").count()).toBe(report.objectives.length);
    const verdicts = await testid("objective").evaluateAll((els) => els.map((e) => e.getAttribute("data-passed")));
    expect(verdicts).toEqual(report.objectives.map((o) => String(o.passed)));
    const evidence = report.objectives.reduce((a, o) => a + o.evidence.length, 0);
    const drawn = await testid("timeline-evidence").evaluateAll((els) =>
      els.map((e) => e.getAttribute("data-evidence")),
    );
    expect(new Set(drawn).size).toBe(evidence);
    const drills = report.drills as { anomaly_type: string; drill: string }[];
    if (drills.length) {
      const types = new Set(drills.map((d) => d.anomaly_type));
      expect(await testid("drills").locator("li").count()).toBe(types.size);
      expect(await testid("drill").count()).toBe(new Set(drills.map((d) => `${d.anomaly_type}|${d.drill}`)).size);
    } else await testid("no-drills").waitFor();
    await shot("07-curriculum-mode");
  });

  it("adds an instructor note at the current t; it is stored and drawn on the timeline", async () => {
    await openReplay();
    const notesBefore = await testid("timeline-note").count();
    const text = `Overcorrection before the spike ${Date.now()}`;
    await testid("note-text").fill(text);
    await testid("note-author").fill("Instructor Kim");
    await testid("note-submit").click();
    await ui.page.locator('[data-testid="note"]', { hasText: text }).waitFor();
    expect(await testid("timeline-note").count()).toBe(notesBefore + 1);
    const stored = await api<{ text: string; author: string; t: number }[]>(
      `/replay/${encodeURIComponent(target.session_id)}/notes`,
    );
    const mine = stored.find((n) => n.text === text);
    expect(mine?.author).toBe("Instructor Kim");
    expect(mine?.t).toBeCloseTo(await currentT(), 6);
    // survives a reload (it came from the server, not from page state)
    await ui.page.reload();
    await ui.page.locator('[data-testid="note"]', { hasText: text }).waitFor();
    await shot("08-note-added");
  });

  it("mastery view: operators, level over time, score vs mastery, anomalies per session", async () => {
    await ui.page.goto(`${base}/`);
    await testid("nav-mastery").click();
    await testid("mastery-view").waitFor();
    const ops = await api<{ operator_id: string }[]>("/api/operators");
    expect(await testid("operator").count()).toBe(ops.length);
    await testid("operator").nth(1).click();
    await ui.page.waitForFunction(
      (o) => new URL(location.href).searchParams.get("operator") === o,
      ops[1]!.operator_id,
    );
    for (const c of ["chart-level", "chart-score", "chart-anomalies"])
      await ui.page.locator(`[data-testid="${c}"] canvas`).first().waitFor();
    const points = await api<unknown[]>(`/api/operators/${encodeURIComponent(ops[1]!.operator_id)}/mastery`);
    expect(await testid("chart-scatter").locator("circle").count()).toBeLessThanOrEqual(points.length);
    expect(await testid("mastery-table").locator("tbody tr").count()).toBe(points.length);
    await shot("09-mastery");
  });

  it("overlays: SNR node graph with each node's local corridor, SET values", async () => {
    const rows = await api<Row[]>("/replay/sessions?limit=200");
    let found: { id: string; nodes: unknown[] } | undefined;
    for (const r of rows) {
      const d = await api<{ triadic: { snr?: { nodes: unknown[] } } | null }>(
        `/replay/${encodeURIComponent(r.session_id)}`,
      );
      if (d.triadic?.snr?.nodes?.length) {
        found = { id: r.session_id, nodes: d.triadic.snr.nodes };
        break;
      }
    }
    if (!found) return; // the demo data carries no SNR nodes: nothing to draw
    await ui.page.goto(`${base}/?view=replay&session=${encodeURIComponent(found.id)}`);
    await testid("overlay-snr-toggle").check();
    await ui.page.waitForFunction(() => (new URL(location.href).searchParams.get("ov") ?? "").includes("snr"));
    await expect.poll(() => testid("snr-node").count()).toBe(found.nodes.length);
    expect(await testid("overlay-snr").locator("tbody tr").count()).toBe(found.nodes.length);
    if (await testid("overlay-set-toggle").isEnabled()) {
      await testid("overlay-set-toggle").check();
      await testid("overlay-set").waitFor();
    }
    await testid("overlays").screenshot({ path: artifactPath("11-overlays-snr-set.png") });
  });

  it("replays a time slip (t goes backwards): plots drawn in time order, the slip marked as a severity-5 anomaly (issue 19: 2)", async () => {
    const id = "E2E-TIME-SLIP";
    // 0.0 … 2.0 s at 10 Hz, then the clock jumps back 1 s and runs on to 2.5 s: 46 samples, one slip at index 21.
    const samples = Array.from({ length: 46 }, (_, i) => ({
      t: Number(((i <= 20 ? i : i - 10) / 10).toFixed(3)),
      C: Number((0.1 + 0.01 * i).toFixed(4)),
      D: 1,
      Q: 0.5,
      R: 0,
    }));
    const log = {
      spec_version: "v2",
      session_id: id,
      timestamp: "2026-01-06T21:10:00Z",
      device: "COMT",
      scenario: "COMT_LOCK_01",
      difficulty: "Journeyman",
      segments: [{ segment_id: "seg-main", label: "main", samples, anomalies: [] }],
      scores: { stability: 80, response: 78, quality: 85, final: 81 },
    };
    const posted = await fetch(`${base}/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(log),
    });
    expect([200, 201], await posted.text()).toContain(posted.status);
    const errors: string[] = [];
    ui.page.on("pageerror", (e) => errors.push(e.message));

    await ui.page.goto(`${base}/?view=replay&session=${id}`);
    const drawn = ui.page.locator('[data-testid="plots-drawn"][data-drawn="true"]');
    await drawn.waitFor();
    expect(await ui.page.locator('[data-testid="plots"] canvas').count()).toBe(4);
    const plots = testid("plots");
    await expect.poll(() => plots.getAttribute("data-points")).toBe("46");
    // The x axis runs from the first t to the last, forwards: the slip is held at 2.0 s, not drawn backwards.
    expect(Number(await plots.getAttribute("data-x-min"))).toBe(0);
    expect(Number(await plots.getAttribute("data-x-max"))).toBe(3.5);
    await expect.poll(() => testid("timeline-anomaly").count()).toBe(1);
    expect(await testid("timeline-anomaly").first().getAttribute("data-severity")).toBe("5");
    // The marker stands where the held samples are drawn: at 2.0 s, the time reached when the clock jumped back.
    await testid("jump-anomaly").selectOption({ index: 1 });
    await testid("inspector-anomaly").first().waitFor();
    expect(await testid("inspector-anomaly").first().textContent()).toContain("RESONANCE_TIME_SLIP");
    await expect.poll(currentT).toBe(2);
    expect(errors).toEqual([]);
    await shot("11b-time-slip");
  });

  it("shows clear error states for an unknown session", async () => {
    await ui.page.goto(`${base}/?view=replay&session=NO-SUCH-SESSION`);
    await testid("error").waitFor();
    expect(await testid("error").textContent()).toMatch(/not found/i);
    await shot("10-unknown-session");
  });

  it("zooming a large session fetches the visible range and redraws; the inspector stays exact", async () => {
    // 60,000 samples at 100 Hz: more than the plot's point budget, so the overview is decimated.
    const id = "E2E-LARGE-ZOOM";
    const n = 60_000;
    const sample = (i: number) => ({
      t: i / 100,
      C: Number((0.1 + 0.05 * Math.sin(i / 700) + (i === 31_337 ? 0.5 : 0) + ((i * 7919) % 101) * 1e-4).toFixed(6)),
      D: Number((1 - i * 1e-6).toFixed(6)),
      Q: Number((0.5 + 0.05 * Math.sin(i / 300)).toFixed(6)),
      R: Number((0.02 * Math.sin(i / 90) ** 2).toFixed(6)),
    });
    const log = {
      spec_version: "v2",
      engine_version: "RTT-2.0.0",
      mode: "TRAINING",
      session_id: id,
      timestamp: "2026-01-06T21:10:00Z",
      device: "COMT",
      device_type: "COMT",
      scenario: "COMT_LOCK_01",
      difficulty: "Journeyman",
      segments: [
        {
          segment_id: "seg-main",
          label: "main",
          samples: Array.from({ length: n }, (_, i) => sample(i)),
          anomalies: [{ t: 300, type: "DECOHERENCE_SPIKE", severity: 3 }],
        },
      ],
      scores: { stability: 80, response: 78, quality: 85, final: 81 },
    };
    const posted = await fetch(`${base}/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(log),
    });
    expect([200, 201], await posted.text()).toContain(posted.status);

    await ui.page.goto(`${base}/?view=replay&session=${id}`);
    const drawn = ui.page.locator('[data-testid="plots-drawn"][data-drawn="true"]');
    await drawn.waitFor();
    expect(await drawn.getAttribute("data-decimated")).toBe("true");
    expect(await drawn.getAttribute("data-n-total")).toBe(String(n));
    const overviewN = Number(await drawn.getAttribute("data-n"));
    expect(overviewN).toBeLessThan(n / 4);
    const plots = testid("plots");
    await expect.poll(() => plots.getAttribute("data-points")).toBe(String(overviewN));
    const xMin0 = Number(await plots.getAttribute("data-x-min"));
    const xMax0 = Number(await plots.getAttribute("data-x-max"));
    expect([xMin0, xMax0]).toEqual([0, (n - 1) / 100]);

    // Drag across a tenth of plot C: all four plots zoom, the visible range is fetched and drawn.
    const over = ui.page.locator('[data-testid="plot-C"] .u-over');
    const box = (await over.boundingBox())!;
    const ranged = ui.page.waitForRequest((r) => /\/columns\?/.test(r.url()) && r.url().includes("from_t="));
    const y = box.y + box.height / 2;
    await ui.page.mouse.move(box.x + box.width * 0.45, y);
    await ui.page.mouse.down();
    await ui.page.mouse.move(box.x + box.width * 0.5, y, { steps: 4 });
    await ui.page.mouse.move(box.x + box.width * 0.55, y, { steps: 4 });
    await ui.page.mouse.up();
    const req = await ranged;
    const q = new URL(req.url()).searchParams;
    const from = Number(q.get("from_t"));
    const to = Number(q.get("to_t"));
    expect(Number(q.get("max_points"))).toBeGreaterThanOrEqual(2000);
    expect(from).toBeGreaterThan(xMin0);
    expect(to).toBeLessThan(xMax0);
    expect(to - from).toBeLessThan((xMax0 - xMin0) * 0.2);
    const body = (await (await req.response())!.json()) as { n: number; n_total: number; decimated: boolean };
    expect(body.decimated).toBe(false); // ~6,000 samples: below the budget, full detail
    expect(body.n).toBe(body.n_total);
    await expect.poll(() => plots.getAttribute("data-detail")).not.toBeNull();
    await expect.poll(() => plots.getAttribute("data-points")).toBe(String(body.n));
    const xMin = Number(await plots.getAttribute("data-x-min"));
    const xMax = Number(await plots.getAttribute("data-x-max"));
    expect(xMin).toBeGreaterThanOrEqual(from);
    expect(xMax).toBeLessThanOrEqual(to);
    expect(xMax - xMin).toBeLessThan((xMax0 - xMin0) * 0.2);
    await testid("reset-zoom").waitFor();
    await shot("12-zoomed-large-session");

    // The zoom is part of the address: opening the link again shows the same range, refined.
    await expect.poll(() => new URL(ui.page.url()).searchParams.get("zoom")).not.toBeNull();
    const [zMin = Number.NaN, zMax = Number.NaN] = new URL(ui.page.url()).searchParams
      .get("zoom")!
      .split(",")
      .map(Number);
    expect(zMin).toBeCloseTo(xMin, 5);
    expect(zMax).toBeCloseTo(xMax, 5);
    await ui.page.goto(ui.page.url());
    await drawn.waitFor();
    await expect.poll(() => plots.getAttribute("data-detail")).not.toBeNull();
    expect(Number(await plots.getAttribute("data-x-min"))).toBeCloseTo(zMin, 5);
    expect(Number(await plots.getAttribute("data-x-max"))).toBeCloseTo(zMax, 5);
    await testid("reset-zoom").waitFor();

    // Reset: back to the overview, nothing refetched, and the address forgets the zoom.
    await testid("reset-zoom").click();
    await expect.poll(() => plots.getAttribute("data-points")).toBe(String(overviewN));
    expect(await plots.getAttribute("data-detail")).toBeNull();
    expect(Number(await plots.getAttribute("data-x-max"))).toBe(xMax0);
    await expect.poll(() => new URL(ui.page.url()).searchParams.get("zoom")).toBeNull();

    // The inspector shows real samples (not decimated neighbours) and steps sample by sample.
    await over.click({ position: { x: box.width * 0.3, y: box.height / 2 } });
    const isSample = async () => {
      const v = await currentT();
      return Math.abs(v * 100 - Math.round(v * 100)) < 1e-6 && (await testid("inspector-sample").count()) === 1;
    };
    await expect.poll(isSample).toBe(true);
    const at = Math.round((await currentT()) * 100);
    expect(at / 100).toBeGreaterThan(xMax0 * 0.2);
    expect(at / 100).toBeLessThan(xMax0 * 0.4);
    expect(Number(await testid("inspector-C").textContent())).toBeCloseTo(sample(at).C, 6);
    await ui.page.locator("body").press("ArrowRight");
    await expect.poll(currentT).toBeCloseTo((at + 1) / 100, 9);
    expect(Number(await testid("inspector-D").textContent())).toBeCloseTo(sample(at + 1).D, 6);
    await ui.page.locator("body").press("Shift+ArrowLeft");
    await expect.poll(currentT).toBeCloseTo((at - 9) / 100, 9);
    expect(Number(await testid("inspector-Q").textContent())).toBeCloseTo(sample(at - 9).Q, 6);
  });
});
