/**
 * Topology decomposition (POST /api/rtt/topology). Semantics are documented in
 * docs/api/rtt/topology.md; the short version:
 *
 * - components: strongly connected components; `cycles` has one witness cycle per cyclic component.
 * - layers: topological layers of the condensation (cycles collapsed). A node's layer is the length of
 *   the longest path reaching its component, so every edge points to a strictly later layer unless it
 *   stays inside a cycle.
 * - triad ("triadic decomposition"): every node is exactly one of source (only sends), transit
 *   (receives and sends), sink (only receives) — or isolated when it has no edges at all.
 *   Self-loops are ignored for roles: a node calling itself is still a source if nobody else calls it.
 * - articulation_points / bridges: single points of failure of the undirected connectivity.
 * - fan_in / fan_out: distinct callers / callees per node.
 * Graphs over MAX_NODES nodes or MAX_EDGES adjacency entries are a 413 (limits.ts).
 */
import { escapePointer } from "@rtt/core";
import type { TopologyPayload, TopologyResult } from "@rtt/sdk";
import { articulation, Digraph, isCyclic, stronglyConnectedComponents, witnessCycle } from "./graph.js";
import { capFindings, checkCount, describePath, MAX_EDGES, MAX_NODES } from "./limits.js";

// Request and response shapes are the SDK's (the wire contract of /api/rtt); the server fills the response.
export type TopologyRequest = TopologyPayload;
export type { TopologyResult };

/** The size limits, checked before schema validation (see preflightValidate). */
export function preflightTopology(body: unknown): void {
  const graph = (body as { graph?: unknown } | null)?.graph;
  if (graph === null || typeof graph !== "object" || Array.isArray(graph)) return;
  checkCount("topology", "/graph", Object.keys(graph).length, "nodes", MAX_NODES);
  checkCount("topology", "/graph", adjacencyEntries(graph), "edges", MAX_EDGES);
}

/** Adjacency entries (edges as listed, duplicates included); tolerant of malformed input so it can run before the schema. */
export function adjacencyEntries(adjacency: unknown): number {
  let entries = 0;
  if (adjacency === null || typeof adjacency !== "object") return 0;
  for (const targets of Object.values(adjacency)) if (Array.isArray(targets)) entries += targets.length;
  return entries;
}

export function graphFromAdjacency(adjacency: Record<string, string[]>): { graph: Digraph; duplicates: string[] } {
  checkCount("topology", "/graph", adjacencyEntries(adjacency), "edges", MAX_EDGES);
  const graph = new Digraph();
  const duplicates: string[] = [];
  for (const node of Object.keys(adjacency)) graph.addNode(node);
  for (const [node, targets] of Object.entries(adjacency)) {
    for (const t of targets) if (!graph.addEdge(node, t)) duplicates.push(`${node}→${t}`);
  }
  checkCount("topology", "/graph", graph.nodeCount, "nodes", MAX_NODES);
  return { graph, duplicates };
}

export function decomposeTopology(req: TopologyRequest): TopologyResult {
  const { graph: g, duplicates } = graphFromAdjacency(req.graph);
  const nodes = g.nodes();
  const order = new Map(nodes.map((n, i) => [n, i]));
  const byOrder = (a: string, b: string) => order.get(a)! - order.get(b)!;

  const sccs = stronglyConnectedComponents(g);
  const { id, start, target } = g.indexed();
  const compOf = new Int32Array(nodes.length);
  sccs.forEach((c, i) => {
    for (const n of c) compOf[id.get(n)!] = i;
  });
  const cyclicComps = sccs.filter((c) => isCyclic(g, c));

  // Tarjan emits components in reverse topological order, so walking them backwards visits every
  // component after all its predecessors: one pass computes longest-path layers.
  const compLayer = new Array<number>(sccs.length).fill(0);
  for (let i = sccs.length - 1; i >= 0; i--) {
    for (const n of sccs[i]!) {
      const v = id.get(n)!;
      for (let e = start[v]!; e < start[v + 1]!; e++) {
        const j = compOf[target[e]!]!;
        if (j !== i) compLayer[j] = Math.max(compLayer[j]!, compLayer[i]! + 1);
      }
    }
  }
  const layers: string[][] = [];
  for (let v = 0; v < nodes.length; v++) {
    const n = nodes[v]!;
    const l = compLayer[compOf[v]!]!;
    if (!layers[l]) layers[l] = [];
    layers[l].push(n);
  }

  const triad = { sources: [] as string[], transit: [] as string[], sinks: [] as string[], isolated: [] as string[] };
  const degrees: TopologyResult["degrees"] = {};
  let maxIn: TopologyResult["max_fan_in"] = null;
  let maxOut: TopologyResult["max_fan_out"] = null;
  for (const n of nodes) {
    const fanIn = g.inDegree(n);
    const fanOut = g.outDegree(n);
    degrees[n] = { fan_in: fanIn, fan_out: fanOut };
    if (maxIn === null || fanIn > maxIn.value) maxIn = { node: n, value: fanIn };
    if (maxOut === null || fanOut > maxOut.value) maxOut = { node: n, value: fanOut };
    const loop = g.hasEdge(n, n) ? 1 : 0;
    const i = fanIn - loop;
    const o = fanOut - loop;
    if (i === 0 && o === 0) triad.isolated.push(n);
    else if (i === 0) triad.sources.push(n);
    else if (o === 0) triad.sinks.push(n);
    else triad.transit.push(n);
  }

  const { points, bridges } = articulation(g);
  const findings: TopologyResult["findings"] = [];
  for (const d of duplicates) {
    findings.push({
      severity: "info",
      code: "duplicate_edge",
      message: `edge ${d} is listed more than once`,
      path: "/graph",
    });
  }
  for (const c of cyclicComps) {
    findings.push({
      severity: "warning",
      code: "cycle",
      message: `cycle among ${c.length} node(s): ${describePath(witnessCycle(g, c))}`,
      path: `/graph/${escapePointer(c[0]!)}`,
    });
  }
  for (const p of points) {
    findings.push({
      severity: "info",
      code: "articulation_point",
      message: `${p} is a single point of failure: removing it disconnects the graph`,
      path: `/graph/${escapePointer(p)}`,
    });
  }

  return {
    status: "ok",
    nodes: nodes.length,
    edges: g.edgeCount,
    acyclic: cyclicComps.length === 0,
    // Present components in node order (not Tarjan's reverse-topological order) for readability.
    components: sccs.map((c) => [...c].sort(byOrder)).sort((a, b) => byOrder(a[0]!, b[0]!)),
    cycles: cyclicComps.map((c) => witnessCycle(g, c)).sort((a, b) => byOrder(a[0]!, b[0]!)),
    layers,
    triad,
    articulation_points: points,
    bridges,
    degrees,
    max_fan_in: maxIn,
    max_fan_out: maxOut,
    ...capFindings(findings),
  };
}
