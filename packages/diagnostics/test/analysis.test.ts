// Worked graphs with answers computed by hand (see docs/api/rtt/*.md for the semantics).
import { describe, expect, it } from "vitest";
import { validateCoherence } from "../src/coherence.js";
import { analyzeCorridor } from "../src/corridor.js";
import type { InputError } from "../src/errors.js";
import { decomposeTopology } from "../src/topology.js";

describe("topology decomposition", () => {
  it("decomposes the seeds' chain auth → api → db", () => {
    const r = decomposeTopology({ graph: { auth: ["api"], api: ["db"], db: [] } });
    expect(r).toMatchObject({
      nodes: 3,
      edges: 2,
      acyclic: true,
      cycles: [],
      layers: [["auth"], ["api"], ["db"]],
      triad: { sources: ["auth"], transit: ["api"], sinks: ["db"], isolated: [] },
      articulation_points: ["api"],
      bridges: [
        ["auth", "api"],
        ["api", "db"],
      ],
      max_fan_in: { node: "api", value: 1 },
      max_fan_out: { node: "auth", value: 1 },
    });
    expect(r.degrees.db).toEqual({ fan_in: 1, fan_out: 0 });
  });

  it("finds strongly connected components, cycles, self-loops and the cut vertex", () => {
    const r = decomposeTopology({ graph: { a: ["b"], b: ["c"], c: ["a", "d"], d: ["d"], e: [] } });
    expect(r.acyclic).toBe(false);
    expect(r.components).toEqual([["a", "b", "c"], ["d"], ["e"]]);
    expect(r.cycles).toEqual([
      ["a", "b", "c", "a"],
      ["d", "d"],
    ]);
    expect(r.layers).toEqual([["a", "b", "c", "e"], ["d"]]);
    expect(r.triad).toEqual({ sources: [], transit: ["a", "b", "c"], sinks: ["d"], isolated: ["e"] });
    expect(r.articulation_points).toEqual(["c"]);
    expect(r.bridges).toEqual([["c", "d"]]);
    expect(r.findings.filter((f) => f.code === "cycle")).toHaveLength(2);
  });

  it("has no articulation point inside a diamond and layers it by longest path", () => {
    expect(decomposeTopology({ graph: { s: ["a", "b"], a: ["t"], b: ["t"] } }).articulation_points).toEqual([]);
    // x hangs off t, so t becomes the only cut vertex.
    const r = decomposeTopology({ graph: { s: ["a", "b"], a: ["t"], b: ["t"], t: [], x: ["t"] } });
    expect(r.articulation_points).toEqual(["t"]);
    expect(r.layers).toEqual([["s", "x"], ["a", "b"], ["t"]]);
    expect(r.max_fan_in).toEqual({ node: "t", value: 3 });
    expect(r.triad.sources).toEqual(["s", "x"]);
  });

  it("adds nodes only named as targets and reports duplicate edges", () => {
    const r = decomposeTopology({ graph: { a: ["b", "b"] } });
    expect(r.nodes).toBe(2);
    expect(r.edges).toBe(1);
    expect(r.findings.map((f) => f.code)).toContain("duplicate_edge");
  });

  it("handles a 20 000-node chain without recursion", () => {
    const graph: Record<string, string[]> = {};
    for (let i = 0; i < 20_000; i++) graph[`n${i}`] = i + 1 < 20_000 ? [`n${i + 1}`] : [];
    const r = decomposeTopology({ graph });
    expect(r.layers).toHaveLength(20_000);
    expect(r.articulation_points).toHaveLength(19_998);
  });
});

describe("coherence validation", () => {
  it("scores the seed 001 payload: auth takes part in no flow", () => {
    const r = validateCoherence({
      system_map: { nodes: 128, services: ["auth", "api", "db"] },
      flows: [{ from: "api", to: "db" }],
      constraints: [],
    });
    expect(r.coherent).toBe(true);
    // 2 endpoint checks + 3 reachability checks + 1 acyclic check; auth fails reachability.
    expect(r.summary).toEqual({ services: 3, flows: 1, constraints: 0, checks: 6, passed: 5 });
    expect(r.score).toBe(0.833);
    expect(r.findings).toEqual([
      expect.objectContaining({
        code: "unreachable_service",
        severity: "warning",
        path: "/system_map/services/0",
        subjects: ["auth"],
      }),
    ]);
  });

  it("says reachability is not assessed when there are no flows (seed 002)", () => {
    const r = validateCoherence({ system_map: { services: ["auth", "api", "db"] }, flows: [], constraints: [] });
    expect(r).toMatchObject({ status: "ok", coherent: true, score: 1 });
    expect(r.findings.map((f) => f.code)).toEqual(["no_flows"]);
  });

  it("flags flows naming undeclared services as errors at the exact field", () => {
    const r = validateCoherence({ system_map: { services: ["api", "db"] }, flows: [{ from: "api", to: "cache" }] });
    expect(r.coherent).toBe(false);
    expect(r.findings.find((f) => f.code === "unknown_service")).toMatchObject({
      severity: "error",
      path: "/flows/0/to",
      subjects: ["cache"],
    });
  });

  it("evaluates every constraint type on a worked graph", () => {
    const r = validateCoherence({
      system_map: { services: ["gw", "api", "db", "cache"] },
      flows: [
        { from: "gw", to: "api", latency_ms: 5 },
        { from: "api", to: "db", latency_ms: 10 },
        { from: "api", to: "cache", latency_ms: 2 },
        { from: "cache", to: "db", latency_ms: 1 },
      ],
      constraints: [
        { type: "no_path", from: "db", to: "gw" }, // 0 holds
        { type: "no_path", from: "gw", to: "db" }, // 1 violated
        { type: "max_hops", from: "gw", to: "db", max: 1 }, // 2 violated (2 hops)
        { type: "max_hops", from: "gw", to: "db", max: 2 }, // 3 holds
        { type: "latency_budget_ms", from: "gw", to: "db", budget_ms: 7 }, // 4 violated: fastest is 8 ms
        { type: "latency_budget_ms", from: "gw", to: "db", budget_ms: 8 }, // 5 holds
        { type: "requires", from: "cache", to: "db" }, // 6 holds
        { type: "requires", from: "db", to: "api" }, // 7 violated
        { type: "max_hops", from: "db", to: "gw", max: 5 }, // 8 violated: no path
      ],
    });
    const violated = r.findings.filter((f) => f.severity === "error").map((f) => f.path);
    expect(violated).toEqual([
      "/constraints/1",
      "/constraints/2",
      "/constraints/4",
      "/constraints/7",
      "/constraints/8",
    ]);
    expect(r.findings.find((f) => f.path === "/constraints/4")!.message).toContain("gw → api → cache → db takes 8 ms");
    expect(r.coherent).toBe(false);
    // 8 endpoint + 4 reachability + 1 acyclic + 9 constraints = 22 checks, 5 failed.
    expect(r.summary.checks).toBe(22);
    expect(r.score).toBe(Math.round((17 / 22) * 1000) / 1000);
  });

  it("reports cycles as warnings, and as errors under no_cycles", () => {
    const payload = {
      system_map: { services: ["a", "b"], entrypoints: ["a"] },
      flows: [
        { from: "a", to: "b" },
        { from: "b", to: "a" },
      ],
    };
    const soft = validateCoherence(payload);
    expect(soft.coherent).toBe(true);
    expect(soft.findings.find((f) => f.code === "cycle")).toMatchObject({ severity: "warning", subjects: ["a", "b"] });
    const strict = validateCoherence({ ...payload, constraints: [{ type: "no_cycles" }] });
    expect(strict.coherent).toBe(false);
    expect(strict.findings.find((f) => f.code === "cycle")!.severity).toBe("error");
  });

  it("uses declared entrypoints for reachability", () => {
    const r = validateCoherence({
      system_map: { services: ["edge", "api", "batch"], entrypoints: ["edge"] },
      flows: [
        { from: "edge", to: "api" },
        { from: "batch", to: "api" },
      ],
    });
    expect(r.findings.filter((f) => f.code === "unreachable_service").map((f) => f.subjects)).toEqual([["batch"]]);
  });

  it("reports constraints naming undeclared services", () => {
    const r = validateCoherence({
      system_map: { services: ["a"] },
      flows: [],
      constraints: [{ type: "requires", from: "a", to: "zz" }],
    });
    expect(r.findings.find((f) => f.path === "/constraints/0")).toMatchObject({
      code: "unknown_service",
      subjects: ["zz"],
    });
  });
});

describe("corridor alignment", () => {
  it("analyses the seed 001 corridor without a budget", () => {
    const r = analyzeCorridor({ flows: [{ path: ["ingress", "api", "db"], latency_ms: 12 }] });
    expect(r.score).toBeNull();
    expect(r.flows[0]).toMatchObject({
      hops: 2,
      per_hop_ms: 6,
      budget_ms: null,
      slack_ms: null,
      within_budget: null,
      bottleneck: { from: "ingress", to: "api", latency_ms: 6, estimated: true },
    });
    expect(r.findings.map((f) => f.code)).toEqual(["no_budget"]);
  });

  it("computes budgets, slack, alignment and shared-edge bottlenecks", () => {
    const r = analyzeCorridor({
      flows: [
        { path: ["ingress", "api", "db"], latency_ms: 20, budget_ms: 10 },
        { path: ["ingress", "api"], latency_ms: 2 },
      ],
      constraints: [{ type: "latency_budget_ms", from: "ingress", to: "api", budget_ms: 5 }],
    });
    expect(r.flows[0]).toMatchObject({
      budget_ms: 10,
      budget_source: "flow",
      slack_ms: -10,
      within_budget: false,
      alignment: 0.5,
    });
    expect(r.flows[1]).toMatchObject({
      budget_ms: 5,
      budget_source: "constraint",
      slack_ms: 3,
      within_budget: true,
      alignment: 1,
    });
    // ingress→api carries shares 10 (flow 0) and 2 (flow 1): mean 6; api→db 10.
    expect(r.edges).toEqual([
      { from: "ingress", to: "api", flows: 2, latency_ms: 6, estimated: true },
      { from: "api", to: "db", flows: 1, latency_ms: 10, estimated: true },
    ]);
    expect(r.flows[0].bottleneck).toMatchObject({ from: "api", to: "db", latency_ms: 10 });
    expect(r.bottlenecks[0]).toMatchObject({ from: "api", to: "db" });
    expect(r.score).toBe(0.75);
    expect(r.aligned).toBe(false);
    expect(r.findings.find((f) => f.code === "over_budget")!.path).toBe("/flows/0/latency_ms");
  });

  it("uses measured hop latencies, global and profile budgets", () => {
    const r = analyzeCorridor(
      {
        flows: [
          { path: ["a", "b", "c"], latency_ms: 30, hop_latency_ms: [5, 25] },
          { path: ["x", "y"], latency_ms: 4 },
        ],
        constraints: [{ type: "latency_budget_ms", budget_ms: 40 }],
      },
      3,
    );
    expect(r.flows[0].bottleneck).toEqual({ from: "b", to: "c", latency_ms: 25, estimated: false });
    expect(r.flows[0]).toMatchObject({ budget_source: "global_constraint", slack_ms: 10 });
    const p = analyzeCorridor({ flows: [{ path: ["x", "y"], latency_ms: 4 }] }, 3);
    expect(p.flows[0]).toMatchObject({ budget_ms: 3, budget_source: "profile", slack_ms: -1, alignment: 0.75 });
  });

  it("rejects hop latencies that do not match the path, naming the field", () => {
    expect(() =>
      analyzeCorridor({
        flows: [
          { path: ["a", "b"], latency_ms: 1 },
          { path: ["a", "b", "c"], latency_ms: 3, hop_latency_ms: [1] },
        ],
      }),
    ).toThrow(
      expect.objectContaining({
        code: "RTT_ERR_INVALID_INPUT",
        details: [expect.objectContaining({ path: "/flows/1/hop_latency_ms" })],
      }) as unknown as InputError,
    );
  });

  it("warns about loops in a corridor", () => {
    const r = analyzeCorridor({ flows: [{ path: ["a", "b", "a"], latency_ms: 3 }] });
    expect(r.findings.map((f) => f.code)).toContain("path_revisits");
  });
});
