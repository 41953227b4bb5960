// End-to-end tests of the CTF viewer (issue 18: 1-3) in Debian's Chromium against the real server (`rtt serve
// --demo`, which stores the example agent's traces). Flows: the traces list (filters and deep links in the URL), the
// trace view (lanes, threshold bands, rewind markers, heatmap, branching graph with the abandoned branch greyed) and
// the step debugger (step / back along the lineage, a breakpoint hit, the inspector, playback). Screenshots:
// test-artifacts/e2e/ctf-*.png; with RTT_UPDATE_DOCS_IMG=1 also the README's docs/img/rtt-ui-ctf-trace.png (a test run
// does not rewrite tracked files otherwise).
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { artifactPath, chromiumSuite, ROOT } from "./harness.js";

interface TraceRow {
  id: string;
  steps: number;
  rewinds: number;
  final_status: string;
  live: boolean;
}
interface Step {
  ord: number;
  step_id: number;
  tool: string | null;
  valid: boolean;
  on_lineage: boolean;
  crossed: string[];
}

chromiumSuite("CTF viewer in Chromium", { label: "CTF viewer" }, (ui) => {
  let base: string;
  const api = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${base}${path}`);
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  };
  const testid = (id: string) => ui.page.locator(`[data-testid="${id}"]`);
  const param = (name: string) => new URL(ui.page.url()).searchParams.get(name);
  const ord = async () => Number(await testid("dbg-ord").textContent());
  const openTrace = async (id: string, step?: number) => {
    await ui.page.goto(`${base}/?view=trace&trace=${id}${step === undefined ? "" : `&step=${step}`}`);
    await ui.page.locator('[data-testid="ctf-lanes"][data-drawn="true"]').waitFor();
    await testid("graph-node").first().waitFor();
  };

  // The demo's flaky run: a rewind abandons one step; picked from the API the UI itself uses.
  let traces: TraceRow[];
  let flaky: TraceRow;
  let steps: Step[];

  beforeAll(async () => {
    base = ui.server.url;
    traces = (await api<{ traces: TraceRow[] }>("/ctf/overview")).traces;
    flaky = traces.find((t) => t.rewinds > 0 && t.final_status !== "stable") ?? traces[0]!;
    expect(flaky, "the demo stores the example agent's traces").toBeTruthy();
    steps = (await api<{ steps: Step[] }>(`/ctf/${flaky.id}/steps`)).steps;
    expect(steps.some((s) => !s.valid)).toBe(true);
  }, 120_000);

  it("lists every trace from the navigation, filters by status and text in the URL, and deep-links each", async () => {
    await ui.page.goto(`${base}/`);
    await testid("nav-traces").click();
    await testid("trace-row").first().waitFor();
    expect(param("view")).toBe("traces");
    expect(await testid("trace-row").count()).toBe(traces.length);
    const row = ui.page.locator(`[data-testid="trace-row"][data-trace="${flaky.id}"]`);
    expect(await row.locator('[data-testid="trace-steps"]').textContent()).toBe(String(flaky.steps));
    expect(await row.locator('[data-testid="trace-rewinds"]').textContent()).toBe(String(flaky.rewinds));
    expect(await row.locator('[data-testid="status-badge"]').getAttribute("data-status")).toBe(flaky.final_status);
    expect(await row.locator('[data-testid="trace-state"]').textContent()).toBe(flaky.live ? "live" : "complete");
    await ui.page.screenshot({ path: artifactPath("ctf-01-traces.png") });

    await testid("trace-filter-status").selectOption(flaky.final_status);
    await ui.page.waitForFunction((s) => new URL(location.href).searchParams.get("status") === s, flaky.final_status);
    const sameStatus = traces.filter((t) => t.final_status === flaky.final_status);
    await expect.poll(() => testid("trace-row").count()).toBe(sameStatus.length);

    await testid("trace-clear-filters").click();
    await testid("trace-filter-text").fill("steady");
    await ui.page.waitForFunction(() => new URL(location.href).searchParams.get("q") === "steady");
    await expect.poll(() => testid("trace-row").count()).toBe(traces.filter((t) => t.id.includes("steady")).length);
    await testid("trace-filter-text").fill("no-such-trace");
    await testid("traces-empty").waitFor();

    // A shared link with a filter opens filtered; each row's link is the trace's deep link.
    await ui.page.goto(`${base}/?view=traces&status=${flaky.final_status}`);
    await testid("trace-row").first().waitFor();
    expect(await testid("trace-row").count()).toBe(sameStatus.length);
    const link = ui.page.locator(`[data-testid="trace-row"][data-trace="${flaky.id}"] [data-testid="trace-link"]`);
    expect(await link.getAttribute("href")).toBe(`/?view=trace&trace=${flaky.id}`);
    await link.click();
    await testid("trace-view").waitFor();
    expect(param("trace")).toBe(flaky.id);
  });

  it("draws the waveforms: a lane per Q-metric with its threshold band, status, tool and latency lanes, rewind markers on every lane", async () => {
    const view = await api<{ header: { corridor_spec: Record<string, number> }; rewind_count: number }>(
      `/ctf/${flaky.id}/view`,
    );
    await openTrace(flaky.id);
    const lanes = [
      "status",
      "semantic_drift",
      "tool_entropy",
      "tool",
      "latency_drift",
      "latency_ms",
      "branching_pressure",
      "retry_ratio",
    ];
    for (const k of lanes) await testid(`lane-${k}`).locator("canvas").first().waitFor();
    expect(await ui.page.locator('[data-testid="ctf-lanes"] canvas').count()).toBe(lanes.length);
    for (const [k, spec] of [
      ["semantic_drift", "max_semantic_drift"],
      ["tool_entropy", "max_tool_entropy"],
      ["latency_drift", "max_latency_drift"],
      ["branching_pressure", "max_branching_pressure"],
      ["retry_ratio", "max_retry_ratio"],
    ] as const)
      expect(await testid(`lane-${k}`).getAttribute("data-band")).toBe(String(view.header.corridor_spec[spec]));
    for (const k of lanes)
      expect(await testid(`lane-${k}`).getAttribute("data-rewind-markers")).toBe(String(view.rewind_count));
    // The flaky run's retry ratio is over its threshold: the lane shades where.
    expect(Number(await testid("lane-retry_ratio").getAttribute("data-over"))).toBeGreaterThan(0);
    expect(Number(await testid("drift-heatmap").getAttribute("data-rows"))).toBeGreaterThan(1);
  });

  it("shows the branching graph: parent links, the rewind as a back-edge, the abandoned branch greyed and the lineage bold", async () => {
    await openTrace(flaky.id);
    expect(await testid("graph-node").count()).toBe(steps.length);
    expect(await testid("graph-rewind").count()).toBe(flaky.rewinds);
    const gone = steps.filter((s) => !s.valid);
    for (const s of gone)
      expect(await ui.page.locator(`[data-testid="graph-node"][data-ord="${s.ord}"]`).getAttribute("data-state")).toBe(
        "abandoned",
      );
    expect(await ui.page.locator('[data-testid="graph-node"][data-lineage="true"]').count()).toBe(
      steps.filter((s) => s.on_lineage).length,
    );
    expect(await ui.page.locator('[data-testid="graph-edge"][data-state="abandoned"]').count()).toBe(gone.length);
    // The README's picture: the whole trace, its abandoned branch greyed.
    await ui.page.screenshot({ path: artifactPath("ctf-trace-graph.png"), fullPage: true });
    if (process.env.RTT_UPDATE_DOCS_IMG === "1")
      await ui.page.screenshot({ path: join(ROOT, "docs/img/rtt-ui-ctf-trace.png"), fullPage: true });
    // Before the rewind was written, its branch was still alive: the graph shows the trace as of the cursor.
    const first = gone[0]!;
    await openTrace(flaky.id, first.ord);
    expect(
      await ui.page.locator(`[data-testid="graph-node"][data-ord="${first.ord}"]`).getAttribute("data-state"),
    ).not.toBe("abandoned");
    await ui.page.screenshot({ path: artifactPath("ctf-02-trace.png"), fullPage: true });
  });

  it("steps along the lineage (skipping the abandoned step), back, and with the keyboard; the inspector shows the step", async () => {
    const gone = steps.find((s) => !s.valid)!;
    const before = steps.filter((s) => s.on_lineage && s.ord < gone.ord).at(-1)!;
    const after = steps.find((s) => s.on_lineage && s.ord > gone.ord)!;
    await openTrace(flaky.id, before.ord);
    expect(await ord()).toBe(before.ord);
    await testid("dbg-step").click();
    await expect.poll(ord).toBe(after.ord);
    expect(await testid("insp-step").textContent()).toBe(String(after.step_id));
    await testid("dbg-back").click();
    await expect.poll(ord).toBe(before.ord);
    await ui.page.locator("body").press("ArrowRight");
    await expect.poll(ord).toBe(after.ord);
    // Shift+← walks the steps as written: the abandoned one, marked so in the inspector.
    await ui.page.locator("body").press("Shift+ArrowLeft");
    await expect.poll(ord).toBe(gone.ord);
    expect(await testid("insp-lineage").textContent()).toMatch(/abandoned/);
    await ui.page.waitForFunction((o) => new URL(location.href).searchParams.get("step") === String(o), gone.ord);
  });

  it("continues to a breakpoint on a tool and shows the step's action, tool, Q values and crossed thresholds", async () => {
    const target = steps.find((s) => s.on_lineage && s.tool && s.ord > 0 && s.tool !== steps[0]!.tool)!;
    await openTrace(flaky.id, 0);
    await testid("bp-kind").selectOption("tool");
    await testid("bp-tool").selectOption(target.tool!);
    await testid("bp-add").click();
    await testid("bp").first().waitFor();
    expect(param("bp")).toBe(`tool=${target.tool}`);
    await testid("dbg-continue").click();
    await expect.poll(ord).toBe(target.ord);
    expect(await testid("dbg-message").textContent()).toContain(`Breakpoint hit: tool=${target.tool}`);
    expect(await testid("insp-tool").textContent()).toBe(target.tool);
    expect(await testid("insp-action").textContent()).toContain(`${target.tool}(`);
    for (const k of ["semantic_drift", "tool_entropy", "latency_drift", "branching_pressure", "retry_ratio"])
      expect(await testid(`insp-q-${k}`).getAttribute("data-over")).toBe(String(target.crossed.includes(k)));
    await ui.page.screenshot({ path: artifactPath("ctf-03-breakpoint.png"), fullPage: true });

    // A metric breakpoint no lineage step reaches: continue says so and stays.
    await testid("bp-kind").selectOption("metric");
    await testid("bp-metric").selectOption("semantic_drift");
    await testid("bp-value").fill("0.99");
    await ui.page.goto(`${base}/?view=trace&trace=${flaky.id}&step=0&bp=semantic_drift>0.99`);
    await ui.page.locator('[data-testid="ctf-lanes"][data-drawn="true"]').waitFor();
    await testid("dbg-continue").click();
    await expect.poll(() => testid("dbg-message").textContent()).toMatch(/No breakpoint hit/);
    expect(await ord()).toBe(0);
  });

  it("plays the trace's evolution at a chosen speed and snaps back to the lineage at the rewind", async () => {
    await openTrace(flaky.id, 0);
    await testid("dbg-speed").selectOption("16");
    await ui.page.waitForFunction(() => new URL(location.href).searchParams.get("speed") === "16");
    await testid("dbg-play").click();
    await ui.page.locator('[data-testid="dbg-play"][aria-pressed="true"]').waitFor();
    await expect.poll(() => testid("dbg-message").textContent(), { timeout: 5_000 }).toMatch(/snapped back|last step/);
    await expect.poll(ord, { timeout: 5_000 }).toBe(steps.length - 1);
    await ui.page.locator('[data-testid="dbg-play"][aria-pressed="false"]').waitFor();
  });
});
