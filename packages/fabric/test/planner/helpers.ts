import { seededRandom } from "@rtt/core";
import {
  hashInputs,
  type ManifestDoc,
  normaliseInputs,
  type PlannerInputs,
  type PolicyDoc,
  type RouteSpec,
  type TopologyDoc,
} from "../../src/planner/inputs.js";
import { type BuildResult, buildPlan } from "../../src/planner/plan.js";
import type { Plan } from "../../src/planner/types.js";

export const WHERE = {
  routes: "routes.json",
  manifests: "manifests",
  policy: "policy.json",
  topology: "topology.json",
};

export interface Raw {
  routes: RouteSpec[];
  manifests: ManifestDoc[];
  policy?: PolicyDoc;
  topology: TopologyDoc;
}

export function inputs(raw: Raw): PlannerInputs {
  const n = normaliseInputs(
    { routes: { routes: raw.routes }, manifests: raw.manifests, policy: raw.policy ?? {}, topology: raw.topology },
    WHERE,
  );
  return { ...n, ...hashInputs(n), warnings: [], strict: false };
}

export const plan = (raw: Raw, base: Plan | null = null): Promise<BuildResult> =>
  buildPlan(inputs(raw), { base, paths: WHERE });

/** A seeded PRNG (core's mulberry32) so property runs repeat. */
export const rng = seededRandom;

export function shuffle<T>(xs: T[], r: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

/** The same JSON value with every object's keys in a random order. */
export function shuffleKeys(v: unknown, r: () => number): unknown {
  if (Array.isArray(v)) return v.map((x) => shuffleKeys(x, r));
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const k of shuffle(Object.keys(v), r)) out[k] = shuffleKeys((v as Record<string, unknown>)[k], r);
  return out;
}

/** A random instance: `symbols` providers/consumers in a few domains, `routes` routes, `nodes` nodes on 2 NUMA nodes. */
export function generate(
  seed: number,
  routes: number,
  nodes: number,
  symbols = Math.max(4, Math.ceil(routes / 4)),
): Raw {
  const r = rng(seed);
  const decls = Array.from({ length: symbols }, (_, i) => ({
    symbol: `rtt://d${i % 7}/s/sym${i}`,
    version: "1.0.0",
    input_type: "T",
    output_type: "T",
    qos: { cpu: Math.round(r() * 4) / 4, memory_mb: Math.round(r() * 256) },
  }));
  const manifests: ManifestDoc[] = [];
  for (let d = 0; d < 7; d++)
    manifests.push({ manifest: `m${d}`, version: "1.0.0", symbols: decls.filter((_, i) => i % 7 === d) });
  const seen = new Set<string>();
  const rs: RouteSpec[] = [];
  while (rs.length < routes) {
    const a = Math.floor(r() * symbols);
    let b = Math.floor(r() * symbols);
    if (b === a) b = (b + 1) % symbols;
    const k = `${a}-${b}`;
    if (seen.has(k)) continue;
    seen.add(k);
    rs.push({
      from: `rtt://d${a % 7}/s/sym${a}`,
      to: `rtt://d${b % 7}/s/sym${b}`,
      priority: Math.floor(r() * 3),
      value: Math.round(r() * 100) / 10,
    });
  }
  const cpu = (symbols * 2) / nodes;
  return {
    routes: rs,
    manifests,
    topology: {
      nodes: Array.from({ length: nodes }, (_, i) => ({ id: `node${i}`, cpu, memory_mb: 1e6, numa: i % 2 })),
      numa_distance: [
        [10, 21],
        [21, 10],
      ],
    },
  };
}
