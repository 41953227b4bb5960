import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import semver from "semver";
import { describe, expect, it, onTestFinished } from "vitest";
import { canonicalText, fabricPaths, prettyJson } from "../../src/index.js";
import { diffPlans, diffSize } from "../../src/planner/diff.js";
import { loadInputs } from "../../src/planner/inputs.js";
import { meet } from "../../src/planner/semver-meet.js";
import { verifyPlan } from "../../src/planner/verify.js";
import { emptyTrustStore } from "../../src/trust/store.js";
import { generate, plan, type Raw, rng, shuffle, shuffleKeys } from "./helpers.js";

const A = "rtt://ui/hook/refresh";
const B = "rtt://core/api/metrics";

/** Two symbols, one route, two nodes on two NUMA nodes: each test changes one thing. */
function base(): Raw {
  return {
    routes: [{ from: A, to: B }],
    manifests: [
      {
        manifest: "ui",
        version: "1.0.0",
        symbols: [{ symbol: A, role: "consumes", requires: "^2.0.0", output_type: "Q", qos: { cpu: 1 } }],
      },
      {
        manifest: "core",
        version: "2.3.0",
        symbols: [{ symbol: B, version: "2.3.0", input_type: "Q", qos: { cpu: 1, latency_p99_ms: 0.5 } }],
      },
    ],
    topology: {
      nodes: [
        { id: "node0", cpu: 4, memory_mb: 1024, numa: 0 },
        { id: "node1", cpu: 4, memory_mb: 1024, numa: 1 },
      ],
      numa_distance: [
        [10, 21],
        [21, 10],
      ],
    },
  };
}

const rejectedCode = async (raw: Raw) => (await plan(raw)).plan.rejected?.[0]?.code;

describe("semver meet on comparator sets", () => {
  it("meets ranges holding || set by set", () => {
    expect(meet("^1.2.0 || ^2.0.0", "2.3.0")?.range).toBe(">=2.0.0 <3.0.0-0 2.3.0");
    expect(meet("^1.0.0 || ^3.0.0", "^2.0.0 || >=3.1.0 <3.2.0")?.sets).toEqual([">=3.0.0 <4.0.0-0 >=3.1.0 <3.2.0"]);
    expect(meet("^1.0.0 || ^2.0.0", "^3.0.0 || ^4.0.0")?.range).toBeNull();
    expect(meet("*", "1.0.0")?.range).toBe("1.0.0");
    expect(meet("not a range", "1.0.0")).toBeUndefined();
  });

  it("differs from joining the range strings, which misreads ||", () => {
    // joined: (^1.2.0) || (^2.0.0 2.3.0) — 1.5.0 satisfies it, though 2.3.0 is the only version both accept
    expect(semver.satisfies("1.5.0", "^1.2.0 || ^2.0.0 2.3.0")).toBe(true);
    const m = meet("^1.2.0 || ^2.0.0", "2.3.0")?.range ?? "";
    expect(semver.satisfies("1.5.0", m)).toBe(false);
    expect(semver.satisfies("2.3.0", m)).toBe(true);
  });
});

describe("each constraint's code", () => {
  it("admits the base case on one node over shm", async () => {
    const r = await plan(base());
    expect(r.plan.routes).toEqual([{ route_id: 1, from: A, to: B, lane: "shm" }]);
    expect(r.plan.placement).toEqual({ [A]: "node0", [B]: "node0" });
    expect(r.plan.rejected).toEqual([]);
    expect(verifyPlan(r.plan, { strict: false, store: emptyTrustStore() }).plan.plan_id).toBe(r.plan.plan_id);
  });

  it("RTT_PLAN_UNKNOWN_SYMBOL names the route and the symbol", async () => {
    const raw = base();
    raw.routes.push({ from: A, to: "rtt://core/api/none" });
    const r = await plan(raw);
    expect(r.plan.rejected).toEqual([
      {
        from: A,
        to: "rtt://core/api/none",
        code: "RTT_PLAN_UNKNOWN_SYMBOL",
        reason: `route ${A} -> rtt://core/api/none: rtt://core/api/none is declared by no manifest`,
      },
    ]);
  });

  it("RTT_PLAN_TYPE_MISMATCH", async () => {
    const raw = base();
    (raw.manifests[1]!.symbols[0] as { input_type: string }).input_type = "Other";
    expect(await rejectedCode(raw)).toBe("RTT_PLAN_TYPE_MISMATCH");
  });

  it("RTT_PLAN_SEMVER with || on the caller side", async () => {
    const raw = base();
    (raw.manifests[0]!.symbols[0] as { requires: string }).requires = "^1.0.0 || ^3.0.0";
    expect(await rejectedCode(raw)).toBe("RTT_PLAN_SEMVER");
    (raw.manifests[0]!.symbols[0] as { requires: string }).requires = "^1.0.0 || ^2.1.0";
    expect(await rejectedCode(raw)).toBeUndefined();
  });

  it("RTT_PLAN_ACL_DENIED by a deny glob and by default deny", async () => {
    expect(await rejectedCode({ ...base(), policy: { acl: { deny: [{ to: "rtt://core/**" }] } } })).toBe(
      "RTT_PLAN_ACL_DENIED",
    );
    expect(await rejectedCode({ ...base(), policy: { acl: { default: "deny" } } })).toBe("RTT_PLAN_ACL_DENIED");
    expect(
      await rejectedCode({ ...base(), policy: { acl: { default: "deny", allow: [{ from: "rtt://ui/*/refresh" }] } } }),
    ).toBeUndefined();
  });

  it("RTT_PLAN_CAPACITY when an end fits on no node", async () => {
    const raw = base();
    (raw.manifests[1]!.symbols[0] as { qos: { cpu: number } }).qos.cpu = 8;
    expect(await rejectedCode(raw)).toBe("RTT_PLAN_CAPACITY");
  });

  it("RTT_PLAN_PLACEMENT when pins split a route that requires shm", async () => {
    const raw = base();
    raw.routes = [{ from: A, to: B, lane: "shm" }];
    raw.policy = {
      pins: [
        { symbol: A, node: "node0" },
        { symbol: B, node: "node1" },
      ],
    };
    expect(await rejectedCode(raw)).toBe("RTT_PLAN_PLACEMENT");
  });

  it("RTT_PLAN_QOS_BUDGET, and a budget that forces co-location across a pin", async () => {
    expect(await rejectedCode({ ...base(), policy: { qos: [{ to: B, latency_p99_ms: 0.55 }] } })).toBe(
      "RTT_PLAN_QOS_BUDGET",
    );
    // budget 1 ms: tcp (1 + 0.55 + 0.5) is over, shm (0.6) within: B pinned to node1 pulls A there
    const r = await plan({
      ...base(),
      policy: { qos: [{ from: "rtt://ui/**", latency_p99_ms: 1 }], pins: [{ symbol: B, node: "node1" }] },
    });
    expect(r.plan.placement).toEqual({ [A]: "node1", [B]: "node1" });
  });

  it("lanes: shm on one node, uds for control, tcp across nodes", async () => {
    const raw = base();
    raw.routes = [{ from: A, to: B, control: true }];
    expect((await plan(raw)).plan.routes[0]?.lane).toBe("uds");
    raw.policy = {
      pins: [
        { symbol: A, node: "node0" },
        { symbol: B, node: "node1" },
      ],
    };
    expect((await plan(raw)).plan.routes[0]?.lane).toBe("tcp");
  });
});

describe("admission control", () => {
  /** One node with `cpu`; route i joins two fresh symbols of `need` CPU each. */
  function scarce(cpu: number, specs: Array<{ priority?: number; value?: number; need: number }>): Raw {
    const symbols = specs.flatMap((s, i) => [
      { symbol: `rtt://a/x/from${i}`, role: "consumes" as const, qos: { cpu: s.need } },
      { symbol: `rtt://a/x/to${i}`, version: "1.0.0", qos: { cpu: s.need } },
    ]);
    return {
      routes: specs.map((s, i) => ({
        from: `rtt://a/x/from${i}`,
        to: `rtt://a/x/to${i}`,
        ...(s.priority !== undefined ? { priority: s.priority } : {}),
        ...(s.value !== undefined ? { value: s.value } : {}),
      })),
      manifests: [{ manifest: "a", version: "1.0.0", symbols }],
      topology: { nodes: [{ id: "n", cpu, memory_mb: 1 }] },
    };
  }

  it("admits by priority, then value, then (from, to); the rest are RTT_PLAN_ADMISSION with a reason", async () => {
    const r = await plan(
      scarce(4, [
        { need: 1, value: 9 },
        { need: 1, priority: 1, value: 1 },
        { need: 1, value: 5 },
        { need: 1, value: 5 },
      ]),
    );
    expect(r.plan.routes.map((x) => x.from)).toEqual(["rtt://a/x/from0", "rtt://a/x/from1"].sort());
    const codes = r.plan.rejected?.map((x) => [x.from, x.code]);
    expect(codes).toEqual([
      ["rtt://a/x/from2", "RTT_PLAN_ADMISSION"],
      ["rtt://a/x/from3", "RTT_PLAN_ADMISSION"],
    ]);
    expect(r.plan.rejected?.[0]?.reason).toContain("taken by routes admitted before it");
  });

  it("the exact ILP beats greedy on a small instance and says so in stats", async () => {
    // greedy takes the value-3 route (4 CPU) first; the two value-2 routes (2 CPU each) are worth 4 together
    const r = await plan(
      scarce(4, [
        { need: 2, value: 3 },
        { need: 1, value: 2 },
        { need: 1, value: 2 },
      ]),
    );
    const stats = r.plan.stats as {
      ilp: { adopted: boolean; greedy: number };
      lp: { gap: number };
      objective: { admitted_value: number };
    };
    expect(stats.ilp.adopted).toBe(true);
    expect(stats.ilp.greedy).toBe(3);
    expect(stats.objective.admitted_value).toBe(4);
    expect(stats.lp.gap).toBeGreaterThanOrEqual(0);
    expect(r.plan.routes.map((x) => x.from)).toEqual(["rtt://a/x/from1", "rtt://a/x/from2"]);
  });
});

describe("determinism", () => {
  it("the same inputs in any order give byte-identical plans (property, 25 shuffles)", async () => {
    const raw = generate(7, 120, 4);
    raw.policy = {
      qos: [{ from: "rtt://d1/**", latency_p99_ms: 3 }],
      pins: [{ symbol: "rtt://d2/**", node: "node1" }],
    };
    const expected = prettyJson((await plan(raw)).plan);
    const r = rng(99);
    for (let k = 0; k < 25; k++) {
      const shuffled = shuffleKeys(
        {
          routes: shuffle(raw.routes, r),
          manifests: shuffle(raw.manifests, r).map((m) => ({ ...m, symbols: shuffle(m.symbols, r) })),
          policy: { ...raw.policy, pins: shuffle(raw.policy?.pins ?? [], r), qos: shuffle(raw.policy?.qos ?? [], r) },
          topology: { ...raw.topology, nodes: shuffle(raw.topology.nodes, r) },
        },
        r,
      ) as Raw;
      expect(prettyJson((await plan(shuffled)).plan)).toBe(expected);
    }
  });
});

describe("churn minimisation", () => {
  it("a one-route change gives a small diff: every kept route keeps its route_id, lane and placements (property)", async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const raw = generate(seed, 80, 4);
      const first = (await plan(raw)).plan;
      const r = rng(seed);
      const changed: Raw = { ...raw, routes: [...raw.routes] };
      if (r() < 0.5) changed.routes.splice(Math.floor(r() * changed.routes.length), 1);
      else {
        const extra = generate(seed + 1000, 90, 4).routes.find(
          (x) => !raw.routes.some((y) => y.from === x.from && y.to === x.to),
        );
        if (extra) changed.routes.push(extra);
      }
      const second = (await plan(changed, first)).plan;
      expect(second.inputs.base).toBe(first.plan_id);
      const d = diffPlans(first, second);
      expect(d.changed).toEqual([]);
      expect(d.placement.filter((p) => p.before !== null && p.after !== null)).toEqual([]);
      expect(diffSize(d)).toBeLessThanOrEqual(3); // the route, and at most its two ends placed or unplaced
      expect(second.routes_add.length + second.routes_remove.length).toBeLessThanOrEqual(1);
      // without the base: ids are renumbered, placements may move — the base is what keeps the diff small
    }
  });

  it("new pairs get ids after every id the base used", async () => {
    const raw = base();
    const first = (await plan(raw)).plan;
    const withOther: Raw = { ...raw, routes: [] };
    const empty = (await plan(withOther, first)).plan;
    expect(empty.routes_remove.map((x) => x.route_id)).toEqual([1]);
    const again = (await plan(raw, empty)).plan;
    expect(again.routes[0]?.route_id).toBe(2);
  });
});

describe("bad input", () => {
  it("contradictory policy: two pins for one symbol, a route pattern both allowed and denied", async () => {
    await expect(
      plan({
        ...base(),
        policy: {
          pins: [
            { symbol: A, node: "node0" },
            { symbol: "rtt://ui/**", node: "node1" },
          ],
        },
      }),
    ).rejects.toMatchObject({ code: "RTT_FABRIC_INVALID", message: expect.stringContaining("contradictory policy") });
    await expect(plan({ ...base(), policy: { acl: { allow: [{ to: B }], deny: [{ to: B }] } } })).rejects.toThrow(
      /allows and denies/,
    );
    await expect(plan({ ...base(), policy: { pins: [{ symbol: A, node: "nodeX" }] } })).rejects.toThrow(/no such node/);
  });

  it("impossible topology: asymmetric distances, NUMA id outside the matrix, a node twice", async () => {
    const t = (topology: Raw["topology"]) => plan({ ...base(), topology });
    await expect(
      t({
        nodes: [{ id: "a", cpu: 1, memory_mb: 1 }],
        numa_distance: [
          [10, 20],
          [21, 10],
        ],
      }),
    ).rejects.toThrow(/not symmetric/);
    await expect(t({ nodes: [{ id: "a", cpu: 1, memory_mb: 1, numa: 3 }] })).rejects.toThrow(/NUMA node 3/);
    await expect(
      t({
        nodes: [
          { id: "a", cpu: 1, memory_mb: 1 },
          { id: "a", cpu: 1, memory_mb: 1 },
        ],
      }),
    ).rejects.toThrow(/listed twice/);
  });

  it("a route listed twice; files that are not JSON or break their schema; strict refuses unsigned manifests", () => {
    const dir = mkdtempSync(join(tmpdir(), "rtt-plan-"));
    // A hook registered inside a test never runs: the folder used to stay behind.
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const paths = fabricPaths(join(dir, ".rtt"));
    mkdirSync(paths.manifests, { recursive: true });
    const raw = base();
    writeFileSync(paths.topology, JSON.stringify(raw.topology));
    for (const m of raw.manifests) writeFileSync(join(paths.manifests, `${m.manifest}.json`), JSON.stringify(m));
    const load = (strict = false) => loadInputs(paths, { strict, store: () => emptyTrustStore() });
    writeFileSync(paths.routes, "{ not json");
    expect(() => load()).toThrow(expect.objectContaining({ code: "RTT_FABRIC_NOT_JSON" }));
    writeFileSync(paths.routes, JSON.stringify({ routes: [{ from: A }] }));
    expect(() => load()).toThrow(expect.objectContaining({ code: "RTT_FABRIC_INVALID" }));
    writeFileSync(paths.routes, JSON.stringify({ routes: [raw.routes[0], raw.routes[0]] }));
    expect(() => load()).toThrow(/listed twice/);
    writeFileSync(paths.routes, JSON.stringify({ routes: raw.routes }));
    expect(load().hash).toMatch(/^sha256:/);
    expect(canonicalText(load().files)).toBe(canonicalText(load().files));
    expect(() => load(true)).toThrow(expect.objectContaining({ code: "RTT_FABRIC_UNTRUSTED" }));
  });
});
