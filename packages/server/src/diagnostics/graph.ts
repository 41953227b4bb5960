/**
 * Small directed-graph toolkit shared by the coherence, corridor and topology analyses.
 *
 * Nodes are strings; order is insertion order everywhere so every result is deterministic
 * (same request → same bytes). All traversals are iterative: user graphs can be deep chains and
 * a recursive DFS would overflow the stack on a few thousand nodes.
 */

export interface Edge {
  from: string;
  to: string;
  /** Edge weight for shortest-latency queries; undefined = unknown. */
  weight?: number;
}

export class Digraph {
  readonly out = new Map<string, string[]>();
  readonly in = new Map<string, string[]>();
  /** Edge set keyed by edgeKey; the value is the weight (undefined = unknown). */
  readonly weights = new Map<string, number | undefined>();

  addNode(n: string): void {
    if (!this.out.has(n)) {
      this.out.set(n, []);
      this.in.set(n, []);
    }
  }

  /** Adds an edge once; a repeated edge keeps the smallest known weight. Returns false when it already existed. */
  addEdge(from: string, to: string, weight?: number): boolean {
    this.addNode(from);
    this.addNode(to);
    const key = edgeKey(from, to);
    if (this.weights.has(key)) {
      const prev = this.weights.get(key);
      if (weight !== undefined && (prev === undefined || weight < prev)) this.weights.set(key, weight);
      return false;
    }
    this.weights.set(key, weight);
    this.out.get(from)!.push(to);
    this.in.get(to)!.push(from);
    return true;
  }

  has(n: string): boolean {
    return this.out.has(n);
  }

  nodes(): string[] {
    return [...this.out.keys()];
  }

  edges(): Edge[] {
    const list: Edge[] = [];
    for (const [from, tos] of this.out) for (const to of tos) list.push({ from, to, weight: this.weight(from, to) });
    return list;
  }

  weight(from: string, to: string): number | undefined {
    return this.weights.get(edgeKey(from, to));
  }

  get edgeCount(): number {
    return this.weights.size;
  }
}

const edgeKey = (from: string, to: string): string => JSON.stringify([from, to]);

/** Nodes reachable from any of `starts` (the starts included). */
export function reachableFrom(g: Digraph, starts: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const stack: string[] = [];
  for (const s of starts) {
    if (g.has(s) && !seen.has(s)) {
      seen.add(s);
      stack.push(s);
    }
  }
  while (stack.length > 0) {
    const n = stack.pop()!;
    for (const m of g.out.get(n)!) {
      if (!seen.has(m)) {
        seen.add(m);
        stack.push(m);
      }
    }
  }
  return seen;
}

/** Fewest-hops path from → to (BFS), or undefined when `to` is unreachable. from === to gives [from]. */
export function shortestHopPath(g: Digraph, from: string, to: string): string[] | undefined {
  if (!g.has(from) || !g.has(to)) return undefined;
  const parent = new Map<string, string | null>([[from, null]]);
  const queue = [from];
  for (let i = 0; i < queue.length; i++) {
    const n = queue[i];
    if (n === to) return unwind(parent, to);
    for (const m of g.out.get(n)!) {
      if (!parent.has(m)) {
        parent.set(m, n);
        queue.push(m);
      }
    }
  }
  return undefined;
}

/**
 * Lowest-latency path (Dijkstra). Edges with unknown weight count as 0 ms and are reported in
 * `unknownEdges` so the caller can say the total is a lower bound rather than pretend it is exact.
 */
export function shortestLatencyPath(
  g: Digraph,
  from: string,
  to: string,
): { path: string[]; latencyMs: number; unknownEdges: number } | undefined {
  if (!g.has(from) || !g.has(to)) return undefined;
  const dist = new Map<string, number>([[from, 0]]);
  const parent = new Map<string, string | null>([[from, null]]);
  const done = new Set<string>();
  // Graphs here are at most a few thousand nodes: an O(V^2) selection keeps the code obvious.
  for (;;) {
    let best: string | undefined;
    for (const [n, d] of dist) if (!done.has(n) && (best === undefined || d < dist.get(best)!)) best = n;
    if (best === undefined) return undefined;
    if (best === to) break;
    done.add(best);
    for (const m of g.out.get(best)!) {
      const nd = dist.get(best)! + (g.weight(best, m) ?? 0);
      if (!done.has(m) && (!dist.has(m) || nd < dist.get(m)!)) {
        dist.set(m, nd);
        parent.set(m, best);
      }
    }
  }
  const path = unwind(parent, to);
  let unknownEdges = 0;
  for (let i = 1; i < path.length; i++) if (g.weight(path[i - 1], path[i]) === undefined) unknownEdges++;
  return { path, latencyMs: dist.get(to)!, unknownEdges };
}

function unwind(parent: Map<string, string | null>, to: string): string[] {
  const path = [to];
  for (let p = parent.get(to); p != null; p = parent.get(p)) path.push(p);
  return path.reverse();
}

/**
 * Strongly connected components (Tarjan, iterative). Components come out in reverse topological
 * order of the condensation; members keep discovery order.
 */
export function stronglyConnectedComponents(g: Digraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;

  for (const root of g.nodes()) {
    if (index.has(root)) continue;
    const work: Array<{ node: string; next: number }> = [{ node: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const succ = g.out.get(frame.node)!;
      if (frame.next < succ.length) {
        const m = succ[frame.next++];
        if (!index.has(m)) {
          index.set(m, counter);
          low.set(m, counter++);
          stack.push(m);
          onStack.add(m);
          work.push({ node: m, next: 0 });
        } else if (onStack.has(m)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(m)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const comp: string[] = [];
        let m: string;
        do {
          m = stack.pop()!;
          onStack.delete(m);
          comp.push(m);
        } while (m !== frame.node);
        components.push(comp.reverse());
      }
    }
  }
  return components;
}

/** True when the component contains a cycle: more than one node, or one node with a self-loop. */
export function isCyclic(g: Digraph, component: string[]): boolean {
  return component.length > 1 || g.out.get(component[0])!.includes(component[0]);
}

/**
 * One witness cycle inside a cyclic strongly connected component, as a closed walk
 * [a, b, ..., a]. Found by BFS from the first member back to itself within the component.
 */
export function witnessCycle(g: Digraph, component: string[]): string[] {
  const start = component[0];
  if (component.length === 1) return [start, start];
  const members = new Set(component);
  const parent = new Map<string, string | null>([[start, null]]);
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const n = queue[i];
    for (const m of g.out.get(n)!) {
      if (!members.has(m)) continue;
      if (m === start) return [...unwind(parent, n), start];
      if (!parent.has(m)) {
        parent.set(m, n);
        queue.push(m);
      }
    }
  }
  // Unreachable for a genuine SCC; kept so a bad caller gets a harmless answer.
  return [start];
}

/**
 * Articulation points and bridges of the underlying undirected graph (Hopcroft–Tarjan, iterative).
 * A node is an articulation point when removing it disconnects nodes that were connected.
 */
export function articulation(g: Digraph): { points: string[]; bridges: Array<[string, string]> } {
  const adj = new Map<string, string[]>();
  for (const n of g.nodes()) adj.set(n, []);
  const seenPair = new Set<string>();
  for (const { from, to } of g.edges()) {
    if (from === to) continue;
    const key = from < to ? edgeKey(from, to) : edgeKey(to, from);
    if (seenPair.has(key)) continue; // a→b and b→a are one undirected edge
    seenPair.add(key);
    adj.get(from)!.push(to);
    adj.get(to)!.push(from);
  }
  const disc = new Map<string, number>();
  const low = new Map<string, number>();
  const points = new Set<string>();
  const bridges: Array<[string, string]> = [];
  let time = 0;
  for (const root of adj.keys()) {
    if (disc.has(root)) continue;
    disc.set(root, time);
    low.set(root, time++);
    let rootChildren = 0;
    const work: Array<{ node: string; parent: string | null; next: number }> = [{ node: root, parent: null, next: 0 }];
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const nbrs = adj.get(frame.node)!;
      if (frame.next < nbrs.length) {
        const m = nbrs[frame.next++];
        if (m === frame.parent) continue;
        if (disc.has(m)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, disc.get(m)!));
        } else {
          disc.set(m, time);
          low.set(m, time++);
          if (frame.node === root) rootChildren++;
          work.push({ node: m, parent: frame.node, next: 0 });
        }
        continue;
      }
      work.pop();
      const p = frame.parent;
      if (p === null) continue;
      low.set(p, Math.min(low.get(p)!, low.get(frame.node)!));
      // Report a bridge in the direction the graph declares it (p → child or child → p).
      if (low.get(frame.node)! > disc.get(p)!)
        bridges.push(g.weights.has(edgeKey(p, frame.node)) ? [p, frame.node] : [frame.node, p]);
      if (p !== root && low.get(frame.node)! >= disc.get(p)!) points.add(p);
    }
    if (rootChildren > 1) points.add(root);
  }
  const order = new Map(g.nodes().map((n, i) => [n, i]));
  bridges.sort((a, b) => order.get(a[0])! - order.get(b[0])! || order.get(a[1])! - order.get(b[1])!);
  return { points: g.nodes().filter((n) => points.has(n)), bridges };
}
