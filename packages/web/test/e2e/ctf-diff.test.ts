// End-to-end tests of the CTF diff view (issue 18: 4) in Debian's Chromium against the real server (`rtt serve
// --demo`): two traces picked in the traces list, the first divergence (the demo's is in the observation only),
// the per-metric delta waveforms B − A, the lineages side by side and the steps only in A / only in B; a pair of long
// generated runs for the window around the divergence and paging. Screenshots: test-artifacts/e2e/ctf-diff-*.png.
import { createCorridor, MemorySink } from "@rtt/ctf";
import { beforeAll, expect, it } from "vitest";
import { artifactPath, chromiumSuite } from "./harness.js";

const A = "boiling-point-steady";
const B = "boiling-point-flaky";
const Q = ["semantic_drift", "tool_entropy", "latency_drift", "branching_pressure", "retry_ratio"] as const;

interface DiffBody {
  length: number;
  diff: {
    same: boolean;
    common_prefix: number;
    divergence: { index: number; differs: string[] } | null;
    metrics: Record<string, { final_delta: number | null }>;
    only_in_a: { count: number; steps: unknown[] };
    only_in_b: { count: number; steps: unknown[] };
  };
  rows: { from: number; to: number; rows: Array<{ index: number; a: { observation: string } | null; b: unknown }> };
  deltas: { n: number; decimated: boolean };
}

/** A run of `steps` searches; from `diverge` on the queries are about something else. */
function run(taskId: string, steps: number, diverge: number): string {
  const sink = new MemorySink();
  let t = 1736280000;
  const c = createCorridor({
    taskId,
    spec: {
      max_steps: 10_000,
      max_semantic_drift: 0.95,
      max_tool_entropy: 3,
      max_latency_drift: 2,
      max_branching_pressure: 8,
      max_retry_ratio: 0.9,
    },
    writer: sink,
    task: "survey quantum turbulence",
    now: () => (t += 0.01),
  });
  for (let i = 0; i < steps; i++)
    c.step({
      action: i < diverge ? `search('quantum turbulence ${i % 7}')` : `search('cake recipe ${i % 5}')`,
      observation: `hits ${i % 3}`,
      tool: i % 4 ? "search" : "browser",
      latencyMs: 100 + (i % 5) * 10,
    });
  c.end();
  return sink.text();
}

chromiumSuite("CTF diff view in Chromium", { label: "CTF diff view" }, (ui) => {
  let base: string;
  const api = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const r = await fetch(`${base}${path}`, init);
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  };
  const testid = (id: string) => ui.page.locator(`[data-testid="${id}"]`);
  const param = (name: string) => new URL(ui.page.url()).searchParams.get(name);
  let demo: DiffBody;

  beforeAll(async () => {
    base = ui.server.url;
    demo = await api<DiffBody>(`/ctf/diff?a=${A}&b=${B}`);
    for (const [id, diverge] of [
      ["long-a", 10_000],
      ["long-b", 300],
    ] as const)
      await api(`/ctf?id=${id}`, {
        method: "POST",
        headers: { "content-type": "application/x-ndjson" },
        body: run(id, id === "long-a" ? 500 : 540, diverge),
      });
  }, 120_000);

  it("picks two traces in the list and shows the first divergence, in the observation only, along the lineage", async () => {
    await ui.page.goto(`${base}/?view=traces`);
    await testid("trace-row").first().waitFor();
    expect(await testid("trace-diff-selected").isDisabled()).toBe(true);
    await ui.page.locator(`[data-testid="trace-row"][data-trace="${A}"] [data-testid="trace-pick"]`).check();
    await ui.page.locator(`[data-testid="trace-row"][data-trace="${B}"] [data-testid="trace-pick"]`).check();
    expect(param("view")).toBe("traces"); // ticking does not open a trace
    await testid("trace-diff-selected").click();
    await testid("diff-divergence").waitFor();
    expect([param("view"), param("a"), param("b")]).toEqual(["trace-diff", A, B]);

    expect(demo.diff.divergence).toMatchObject({ index: 0, differs: ["observation"] });
    const div = testid("diff-divergence");
    expect(await div.getAttribute("data-index")).toBe("0");
    expect(await div.getAttribute("data-differs")).toBe("observation");
    expect(await div.textContent()).toContain("differ in observation");
    expect(await testid("diff-verdict").getAttribute("data-same")).toBe("false");

    // Side by side: the divergence row is highlighted; same action on both sides, the observations differ and are
    // marked as what differs.
    const row = ui.page.locator('[data-testid="diff-row"][data-state="divergence"]');
    expect(await row.getAttribute("data-index")).toBe("0");
    const actions = await row.locator('[data-testid="diff-action"]').allTextContents();
    expect(actions[0]).toBe(actions[1]);
    const obs = row.locator('[data-testid="diff-observation"]');
    const [oa, ob] = await obs.allTextContents();
    expect(oa).not.toBe(ob);
    expect(ob).toMatch(/timed out/);
    expect(await obs.nth(1).getAttribute("class")).toContain("differs");
    expect(await row.locator('[data-testid="diff-action"].differs').count()).toBe(0);
    expect(await testid("diff-row").count()).toBe(demo.length);
    await ui.page.screenshot({ path: artifactPath("ctf-diff-01-demo.png"), fullPage: true });
  });

  it("draws a delta waveform per Q-metric (B − A along the aligned lineage) with the divergence marked", async () => {
    await ui.page.goto(`${base}/?view=trace-diff&a=${A}&b=${B}`);
    await ui.page.locator('[data-testid="delta-lanes"][data-drawn="true"]').waitFor();
    for (const m of Q) {
      const lane = testid(`delta-${m}`);
      await lane.locator("canvas").first().waitFor();
      expect(await lane.getAttribute("data-points")).toBe(String(demo.deltas.n));
      expect(await lane.getAttribute("data-divergence")).toBe("0");
      const fd = demo.diff.metrics[m]!.final_delta;
      expect(await testid(`diff-final-delta-${m}`).textContent()).toBe(
        fd === null ? "—" : String(Number(fd.toFixed(4))),
      );
    }
    // The flaky run retried: its retry ratio is above the steady run's somewhere along the lineage.
    expect(Number(await testid("delta-retry_ratio").getAttribute("data-max-abs"))).toBeGreaterThan(0);
  });

  it("lists the steps only in A and only in B, and swaps A and B", async () => {
    await ui.page.goto(`${base}/?view=trace-diff&a=${A}&b=${B}`);
    await testid("only-a").waitFor();
    expect(await testid("only-a").getAttribute("data-count")).toBe(String(demo.diff.only_in_a.count));
    expect(await testid("only-b").getAttribute("data-count")).toBe(String(demo.diff.only_in_b.count));
    expect(await testid("only-a-step").count()).toBe(demo.diff.only_in_a.steps.length);
    expect(await testid("only-b-step").count()).toBe(demo.diff.only_in_b.steps.length);
    await testid("diff-swap").click();
    await ui.page.waitForFunction((b) => new URL(location.href).searchParams.get("a") === b, B);
    await expect.poll(() => testid("only-a").getAttribute("data-count")).toBe(String(demo.diff.only_in_b.count));
  });

  it("opens long runs at their divergence, marks the steps after it, and pages along the lineage", async () => {
    const long = await api<DiffBody>("/ctf/diff?a=long-a&b=long-b");
    expect(long.diff.divergence).toMatchObject({ index: 300, differs: ["action"] });
    await ui.page.goto(`${base}/?view=trace-diff&a=long-a&b=long-b`);
    await ui.page.locator('[data-testid="diff-row"][data-state="divergence"]').waitFor();
    const first = testid("diff-row").first();
    expect(await first.getAttribute("data-index")).toBe(String(long.rows.from));
    expect(long.rows.from).toBeLessThan(300);
    expect(await ui.page.locator('[data-testid="diff-row"][data-state="common"]').count()).toBe(300 - long.rows.from);
    expect(await ui.page.locator('[data-testid="diff-row"][data-state="after"]').count()).toBeGreaterThan(0);
    expect(await testid("only-b").getAttribute("data-count")).toBe("240");
    await testid("diff-later").click();
    await ui.page.waitForFunction(() => new URL(location.href).searchParams.get("from") !== null);
    await expect.poll(() => testid("diff-row").first().getAttribute("data-index")).toBe(String(long.rows.to));
    // Past A's end only B has steps.
    expect(await ui.page.locator('[data-testid="diff-row"][data-state="only-b"]').count()).toBe(40);
    await ui.page.screenshot({ path: artifactPath("ctf-diff-02-long.png"), fullPage: true });
  });
});
