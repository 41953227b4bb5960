// End-to-end test of the Fabric view (issue 17 item 6) in Debian's Chromium against the real `rtt serve
// --fabric-root`: a fabric root built with the CLI (signed plans from `rtt plan build`, applied with `rtt plan apply`,
// signed WAL checkpoints), a daemon (`rtt fabric up`, a child process) serving three routes — two to echo drivers,
// one to a symbol without a driver whose breaker opens after two failed calls. Checks the routes table (lane,
// placement, p50/p99, breaker, drops; live), the plan in force and its history (signatures, inclusion proofs), and the
// d3 graph of symbols by placement. Screenshots: test-artifacts/e2e/fabric-*.png.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { artifactPath, CLI, chromiumSuite } from "./harness.js";

const A = "rtt://ui/hook/refresh";
const B = "rtt://core/api/metrics";
const C = "rtt://core/api/health";
const F = "rtt://core/api/flaky";

interface StatusRow {
  route_id: number;
  to: string;
  lane: string;
  placement: { from: string | null; to: string | null };
  breaker: string | null;
  calls: number | null;
}

let dir = "";
let daemon: ChildProcess | undefined;

const rtt = (args: string[], check = true) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  if (check && r.status !== 0) throw new Error(`rtt ${args.join(" ")} exited ${r.status}:\n${r.stderr}`);
  return r;
};
const writeJson = (file: string, v: unknown) => writeFileSync(join(dir, file), JSON.stringify(v));
const planId = (file: string) => (JSON.parse(readFileSync(join(dir, file), "utf8")) as { plan_id: string }).plan_id;

/** The planner's inputs (two topology nodes, two manifests), drivers and a breaker policy; synchronous. */
function project(): string {
  dir = mkdtempSync(join(tmpdir(), "rtt-e2e-fabric-"));
  mkdirSync(join(dir, ".rtt", "manifests"), { recursive: true });
  writeJson(".rtt/topology.json", {
    nodes: [
      { id: "node0", cpu: 4, memory_mb: 4096, numa: 0 },
      { id: "node1", cpu: 4, memory_mb: 4096, numa: 1 },
    ],
    numa_distance: [
      [10, 21],
      [21, 10],
    ],
  });
  writeJson(".rtt/manifests/ui.json", {
    manifest: "ui",
    version: "1.0.0",
    symbols: [{ symbol: A, role: "consumes", qos: { cpu: 3 } }],
  });
  writeJson(".rtt/manifests/core.json", {
    manifest: "core",
    version: "2.3.0",
    symbols: [
      { symbol: B, version: "2.3.0", qos: { cpu: 2 } },
      { symbol: C, version: "2.3.0", qos: { cpu: 2 } },
      { symbol: F, version: "2.3.0", qos: { cpu: 1 } },
    ],
  });
  // F has no driver: its calls fail, and after two in a row its breaker ejects the route (open).
  writeJson(".rtt/drivers.json", { [B]: { builtin: "echo" }, [C]: { builtin: "echo" } });
  writeJson(".rtt/policy.json", {
    breakers: { routes: [{ to: F, consecutive_errors: 2 }], max_ejection_percent: 100 },
  });
  return join(dir, ".rtt");
}

function startDaemon(): Promise<void> {
  const child = spawn(process.execPath, [CLI, "fabric", "up", "--root", join(dir, ".rtt"), "--no-auth"], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  daemon = child;
  let out = "";
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`rtt fabric up did not start:\n${out}`)), 30_000);
    const onData = (c: Buffer) => {
      out += c.toString();
      if (/^fabric up: pid \d+/m.test(out)) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`rtt fabric up exited ${code}:\n${out}`));
    });
  });
}

chromiumSuite(
  "Fabric view in Chromium",
  {
    label: "Fabric view",
    serverArgs: () => ["--fabric-root", project()],
    teardown: () => {
      daemon?.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  },
  (ui) => {
    let base: string;
    let p1: string;
    let p2: string;
    const testid = (id: string) => ui.page.locator(`[data-testid="${id}"]`);
    const api = async <T>(path: string): Promise<T> => {
      const r = await fetch(`${base}${path}`);
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
      return (await r.json()) as T;
    };
    const row = (to: string) =>
      ui.page.locator(`[data-testid="fabric-route-row"]:has([data-testid="route-to"]:text-is("${to}"))`);

    beforeAll(async () => {
      base = ui.server.url;
      rtt(["keys", "gen", "--name", "ci", "--trust"]);
      const key = join(".rtt", "keys", "ci.key");
      // Plan 1 is applied with no daemon; the daemon starts on its table and takes part in plan 2's 2PC.
      writeJson(".rtt/routes.json", { routes: [{ from: A, to: B }] });
      rtt(["plan", "build", "--sign", key, "--out", "p1.json"]);
      rtt(["plan", "apply", "p1.json", "--strict"]);
      rtt(["wal", "checkpoint", "--key", key]);
      await startDaemon();
      writeJson(".rtt/routes.json", {
        routes: [
          { from: A, to: B },
          { from: A, to: C },
          { from: A, to: F },
        ],
      });
      rtt(["plan", "build", "--sign", key, "--out", "p2.json"]);
      rtt(["plan", "apply", "p2.json", "--strict"]);
      rtt(["wal", "checkpoint", "--key", key]);
      p1 = planId("p1.json");
      p2 = planId("p2.json");
      for (let i = 0; i < 3; i++) rtt(["call", B, "--json", `{"i":${i}}`]);
      for (let i = 0; i < 3; i++) expect(rtt(["call", F, "--json", "{}"], false).status).not.toBe(0);
    }, 180_000);

    it("opens from the navigation; routes with lane, placement, p50/p99, breaker state and drops, updated live", async () => {
      const status = await api<{ plan_id: string; routes: StatusRow[] }>("/fabric/status");
      expect(status.plan_id).toBe(p2);
      expect(status.routes.map((r) => r.to).sort()).toEqual([B, C, F].sort());

      await ui.page.goto(`${base}/`);
      await testid("nav-fabric").click();
      await testid("fabric-route-row").first().waitFor();
      expect(new URL(ui.page.url()).searchParams.get("view")).toBe("fabric");
      expect(await testid("nav-fabric").getAttribute("aria-current")).toBe("page");
      expect(await testid("fabric-daemon").getAttribute("data-state")).toBe("up");
      expect(await testid("fabric-route-row").count()).toBe(3);
      for (const r of status.routes) {
        const tr = row(r.to);
        expect(await tr.locator('[data-testid="route-lane"]').textContent()).toBe(r.lane);
        expect(r.placement.from).toMatch(/^node[01]$/);
        expect(await tr.locator('[data-testid="route-placement"]').textContent()).toBe(
          `${r.placement.from} → ${r.placement.to}`,
        );
      }
      // Three echo calls: a latency and a closed breaker.
      const b = row(B);
      expect(await b.locator('[data-testid="route-calls"]').textContent()).toBe("3");
      expect(await b.locator('[data-testid="route-p50"]').textContent()).toMatch(/^[\d.]+ (µs|ms)$/);
      expect(await b.locator('[data-testid="route-p99"]').textContent()).toMatch(/^[\d.]+ (µs|ms)$/);
      expect(await b.locator('[data-testid="route-breaker"]').getAttribute("data-state")).toBe("closed");
      expect(await b.locator('[data-testid="route-health"]').textContent()).toBe("healthy");
      // No calls yet: no latency.
      expect(await row(C).locator('[data-testid="route-p50"]').textContent()).toBe("—");
      // No driver: two failures eject the route; the third call was refused by the breaker (a drop).
      const f = row(F);
      expect(await f.locator('[data-testid="route-breaker"]').getAttribute("data-state")).toBe("open");
      expect(await f.locator('[data-testid="route-drops"]').textContent()).toMatch(/ejected 1/);
      expect(await f.locator('[data-testid="route-health"]').textContent()).toBe("unhealthy");
      await ui.page.screenshot({ path: artifactPath("fabric-01-view.png"), fullPage: true });

      // Live: calls made now show up without a reload (the table asks every 2 s).
      for (let i = 0; i < 2; i++) rtt(["call", B, "--json", "{}"]);
      await expect.poll(() => b.locator('[data-testid="route-calls"]').textContent(), { timeout: 10_000 }).toBe("5");
    });

    it("shows the plan in force and its history: each plan's signature and a valid inclusion proof per commit", async () => {
      const plans = await api<{
        current: string;
        history: Array<{ plan_id: string; proof: { ok: boolean; root: string; tree_size: number } }>;
        checkpoints: Array<{ tree_size: number; root: string; root_ok: boolean }>;
        problems: string[];
      }>("/fabric/plans");
      expect(plans.current).toBe(p2);
      expect(plans.problems).toEqual([]);
      expect(plans.history.map((c) => c.plan_id)).toEqual([p2, p1]);
      // Both commits prove into the newest signed checkpoint (2 commits).
      const newest = plans.checkpoints[0];
      expect(newest).toMatchObject({ tree_size: 2, root_ok: true });
      for (const c of plans.history) expect(c.proof).toMatchObject({ ok: true, tree_size: 2, root: newest?.root });

      await ui.page.goto(`${base}/?view=fabric`);
      await testid("fabric-commit").first().waitFor();
      expect(await testid("fabric-plan").getAttribute("data-plan")).toBe(p2);
      expect(await testid("plan-signature").getAttribute("data-status")).toBe("valid");
      const commits = testid("fabric-commit");
      expect(await commits.count()).toBe(2);
      expect(await commits.nth(0).getAttribute("data-plan")).toBe(p2);
      expect(await commits.nth(0).getAttribute("data-in-force")).toBe("true");
      expect(await commits.nth(1).getAttribute("data-plan")).toBe(p1);
      expect(await commits.nth(1).getAttribute("data-in-force")).toBe("false");
      for (let i = 0; i < 2; i++) {
        const c = commits.nth(i);
        expect(await c.locator('[data-testid="commit-signature"]').getAttribute("data-status")).toBe("valid");
        const proof = c.locator('[data-testid="commit-proof"]');
        expect(await proof.getAttribute("data-ok")).toBe("true");
        expect(await proof.getAttribute("data-checkpoint-signature")).toBe("valid");
      }
      await testid("fabric-history").screenshot({ path: artifactPath("fabric-02-history.png") });
    });

    it("draws the graph of symbols by placement with the routes as edges, breaker state on each", async () => {
      const graph = await api<{
        placements: string[];
        symbols: Array<{ id: string; placement: string }>;
        routes: Array<{ route_id: number; to: string; lane: string }>;
      }>("/fabric/graph");
      expect(graph.symbols.map((s) => s.id).sort()).toEqual([A, B, C, F].sort());

      await ui.page.goto(`${base}/?view=fabric`);
      await ui.page.locator('[data-testid="fabric-graph"][data-drawn="true"]').waitFor();
      expect(await ui.page.locator('[data-testid="graph-placement"]').count()).toBe(graph.placements.length);
      expect(await testid("graph-node").count()).toBe(4);
      for (const s of graph.symbols)
        expect(
          await ui.page.locator(`[data-testid="graph-node"][data-symbol="${s.id}"]`).getAttribute("data-placement"),
        ).toBe(s.placement);
      expect(await testid("graph-edge").count()).toBe(3);
      for (const r of graph.routes) {
        const edge = ui.page.locator(`[data-testid="graph-edge"][data-route="${r.route_id}"]`);
        expect(await edge.getAttribute("data-lane")).toBe(r.lane);
        expect(await edge.getAttribute("data-breaker")).toBe(r.to === F ? "open" : "closed");
      }
      await ui.page.locator(".fabric-graph").screenshot({ path: artifactPath("fabric-03-graph.png") });
    });
  },
);
