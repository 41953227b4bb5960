/**
 * Small directed-graph toolkit shared by the coherence, corridor and topology analyses.
 *
 * Nodes are strings; order is insertion order everywhere so every result is deterministic
 * (same request → same bytes). All traversals are iterative: user graphs can be deep chains and
 * a recursive DFS would overflow the stack on a few thousand nodes.
 *
 * Nodes get integer ids as they are added and every analysis runs on compressed rows of ids (built
 * once per graph): graphs of 100,000 nodes come from unauthenticated requests, and string-keyed maps
 * per node and edge cost seconds there. Path searches charge their steps to an optional WorkBudget.
 */
import type { WorkBudget } from "./limits.js";

export class Digraph {
  /** Node → id, in insertion order; names[id] is the node. */
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  private readonly outDeg: number[] = [];
  private readonly inDeg: number[] = [];
  /** Edges in insertion order as parallel arrays of ids and weights (NaN = unknown). */
  private readonly eFrom: number[] = [];
  private readonly eTo: number[] = [];
  private readonly eW: number[] = [];
  /** (from id, to id) → edge index. */
  private readonly table = new PairTable();
  private idx: Indexed | undefined;

  addNode(n: string): void {
    if (this.ids.has(n)) return;
    this.ids.set(n, this.names.length);
    this.names.push(n);
    this.outDeg.push(0);
    this.inDeg.push(0);
    this.idx = undefined;
  }

  /** Adds an edge once; a repeated edge keeps the smallest known weight. Returns false when it already existed. */
  addEdge(from: string, to: string, weight?: number): boolean {
    this.addNode(from);
    this.addNode(to);
    const f = this.ids.get(from)!;
    const t = this.ids.get(to)!;
    const at = this.table.get(f, t);
    if (at >= 0) {
      const prev = this.eW[at]!;
      if (weight !== undefined && (Number.isNaN(prev) || weight < prev)) {
        this.eW[at] = weight;
        this.idx = undefined;
      }
      return false;
    }
    this.table.set(f, t, this.eFrom.length);
    this.eFrom.push(f);
    this.eTo.push(t);
    this.eW.push(weight ?? Number.NaN);
    this.outDeg[f]!++;
    this.inDeg[t]!++;
    this.idx = undefined;
    return true;
  }

  has(n: string): boolean {
    return this.ids.has(n);
  }

  get nodeCount(): number {
    return this.names.length;
  }

  get edgeCount(): number {
    return this.eFrom.length;
  }

  nodes(): string[] {
    return this.names.slice();
  }

  /** Distinct callees of n (self-loop included); 0 for an unknown node. */
  outDegree(n: string): number {
    const i = this.ids.get(n);
    return i === undefined ? 0 : this.outDeg[i]!;
  }

  /** Distinct callers of n (self-loop included); 0 for an unknown node. */
  inDegree(n: string): number {
    const i = this.ids.get(n);
    return i === undefined ? 0 : this.inDeg[i]!;
  }

  hasEdge(from: string, to: string): boolean {
    return this.edgeIndex(from, to) >= 0;
  }

  private edgeIndex(from: string, to: string): number {
    const f = this.ids.get(from);
    const t = this.ids.get(to);
    return f === undefined || t === undefined ? -1 : this.table.get(f, t);
  }

  /** The adjacency as compressed rows of ids, each node's edges in insertion order; built on first use after a change. */
  indexed(): Indexed {
    if (this.idx) return this.idx;
    const n = this.names.length;
    const m = this.eFrom.length;
    const start = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) start[i + 1] = start[i]! + this.outDeg[i]!;
    // Counting sort by source: stable, so every node keeps its edges in insertion order.
    const fill = start.slice(0, n);
    const target = new Int32Array(m);
    const weight = new Float64Array(m);
    for (let e = 0; e < m; e++) {
      const k = fill[this.eFrom[e]!]!++;
      target[k] = this.eTo[e]!;
      weight[k] = this.eW[e]!;
    }
    this.idx = { names: this.names, id: this.ids, start, target, weight };
    return this.idx;
  }
}

/** Compressed-row adjacency: node i's successors are target[start[i] .. start[i+1]), weights NaN when unknown. */
export interface Indexed {
  readonly names: readonly string[];
  readonly id: ReadonlyMap<string, number>;
  readonly start: Int32Array;
  readonly target: Int32Array;
  readonly weight: Float64Array;
}

/**
 * Open-addressing hash map from a pair of non-negative int32 ids to a non-negative int32, without
 * allocating per entry (a Map keyed by strings or large doubles cost more than the analyses themselves).
 */
export class PairTable {
  private mask = 1023;
  private keyA = new Int32Array(1024).fill(-1);
  private keyB = new Int32Array(1024);
  private val = new Int32Array(1024);
  private size = 0;

  private slot(a: number, b: number): number {
    let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca6b);
    h ^= h >>> 15;
    let i = h & this.mask;
    while (this.keyA[i] !== -1 && (this.keyA[i] !== a || this.keyB[i] !== b)) i = (i + 1) & this.mask;
    return i;
  }

  /** The value for (a, b), or -1. */
  get(a: number, b: number): number {
    const i = this.slot(a, b);
    return this.keyA[i] === -1 ? -1 : this.val[i]!;
  }

  set(a: number, b: number, v: number): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const i = this.slot(a, b);
    if (this.keyA[i] === -1) this.size++;
    this.keyA[i] = a;
    this.keyB[i] = b;
    this.val[i] = v;
  }

  private grow(): void {
    const { keyA, keyB, val } = this;
    const cap = (this.mask + 1) * 2;
    this.mask = cap - 1;
    this.keyA = new Int32Array(cap).fill(-1);
    this.keyB = new Int32Array(cap);
    this.val = new Int32Array(cap);
    this.size = 0;
    for (let i = 0; i < keyA.length; i++) if (keyA[i] !== -1) this.set(keyA[i]!, keyB[i]!, val[i]!);
  }
}

/** Nodes reachable from any of `starts` (the starts included). */
export function reachableFrom(g: Digraph, starts: Iterable<string>): Set<string> {
  const { names, id, start, target } = g.indexed();
  const seen = new Uint8Array(names.length);
  const stack = new Int32Array(names.length);
  let sp = 0;
  const reached = new Set<string>();
  for (const s of starts) {
    const i = id.get(s);
    if (i !== undefined && !seen[i]) {
      seen[i] = 1;
      stack[sp++] = i;
    }
  }
  while (sp > 0) {
    const n = stack[--sp]!;
    reached.add(names[n]!);
    for (let e = start[n]!; e < start[n + 1]!; e++) {
      const m = target[e]!;
      if (!seen[m]) {
        seen[m] = 1;
        stack[sp++] = m;
      }
    }
  }
  return reached;
}

/**
 * Per-graph buffers reused by every path query of a request, so a query costs the nodes it visits
 * rather than a fresh array per node of the graph. A node's entries are valid only when its stamp
 * equals the current query's generation.
 */
class Scratch {
  gen = 0;
  readonly stamp: Int32Array;
  readonly doneStamp: Int32Array;
  readonly parent: Int32Array;
  readonly order: Int32Array;
  readonly dist: Float64Array;
  /** Edges without a weight on the path to each node. */
  readonly unknown: Int32Array;
  readonly queue: Int32Array;
  readonly heap = new MinHeap();
  constructor(n: number) {
    this.stamp = new Int32Array(n);
    this.doneStamp = new Int32Array(n);
    this.parent = new Int32Array(n);
    this.order = new Int32Array(n);
    this.dist = new Float64Array(n);
    this.unknown = new Int32Array(n);
    this.queue = new Int32Array(n);
  }
}

const scratches = new WeakMap<Indexed, Scratch>();
function scratchFor(ix: Indexed): Scratch {
  let s = scratches.get(ix);
  if (!s) {
    s = new Scratch(ix.names.length);
    scratches.set(ix, s);
  }
  s.gen++;
  return s;
}

/**
 * What one single-source search found: routes from the source to the nodes it reached. It reads the
 * graph's shared buffers, so it is valid only until the next search on the same graph (checked).
 */
export class SearchTree {
  constructor(
    private readonly scratch: Scratch,
    private readonly gen: number,
    private readonly names: readonly string[],
    private readonly ids: ReadonlyMap<string, number>,
    /** Latency routes are final only for settled nodes; BFS routes for every node discovered. */
    private readonly settledOnly: boolean,
    /** An early-stopped latency search's target: reached, final, but not marked settled. */
    private readonly stoppedAt = -1,
  ) {}

  private idOf(to: string): number {
    if (this.scratch.gen !== this.gen) throw new Error("SearchTree read after a newer search on the same graph");
    const t = this.ids.get(to);
    if (t === undefined) return -1;
    const reached = this.settledOnly
      ? t === this.stoppedAt || this.scratch.doneStamp[t] === this.gen
      : this.scratch.stamp[t] === this.gen;
    return reached ? t : -1;
  }

  /** The route found to `to`, or undefined when the search did not reach it. */
  route(to: string): Route | undefined {
    const t = this.idOf(to);
    return t < 0 ? undefined : unwindIds(this.scratch.parent, t, this.names);
  }

  /** Distance and edges of unknown weight on the route to `to` (latency searches). */
  distance(to: string): { latencyMs: number; unknownEdges: number } | undefined {
    const t = this.idOf(to);
    return t < 0 ? undefined : { latencyMs: this.scratch.dist[t]!, unknownEdges: this.scratch.unknown[t]! };
  }
}

/**
 * Breadth-first search from `from`: fewest hops to every node it reaches, or — with `until` — only
 * as far as needed to reach that node. Undefined when `from` is not in the graph.
 */
export function searchHops(g: Digraph, from: string, work?: WorkBudget, until?: string): SearchTree | undefined {
  const ix = g.indexed();
  const { names, id, start, target } = ix;
  const src = id.get(from);
  if (src === undefined) return undefined;
  const dst = until === undefined ? -1 : (id.get(until) ?? -1);
  const scratch = scratchFor(ix);
  const { stamp, parent, queue, gen } = scratch;
  stamp[src] = gen;
  parent[src] = -1;
  let tail = 0;
  queue[tail++] = src;
  let steps = 0;
  let found = src === dst;
  for (let head = 0; head < tail && !found; head++) {
    const n = queue[head]!;
    const end = start[n + 1]!;
    steps += 1 + end - start[n]!;
    for (let e = start[n]!; e < end; e++) {
      const m = target[e]!;
      if (stamp[m] === gen) continue;
      stamp[m] = gen;
      parent[m] = n;
      if (m === dst) {
        found = true;
        break;
      }
      queue[tail++] = m;
    }
  }
  work?.spend(steps);
  return new SearchTree(scratch, gen, names, id, false);
}

/**
 * Lowest-latency search from `from` (Dijkstra on a binary heap), to every node it reaches or — with
 * `until` — until that node is settled. Edges with unknown weight count as 0 ms and are counted per
 * route so the caller can say a total is a lower bound rather than pretend it is exact. Among equally
 * short candidates the node that got its distance first is settled first (as the selection loop this
 * replaced did), so ties resolve the same way on every run.
 */
export function searchLatency(g: Digraph, from: string, work?: WorkBudget, until?: string): SearchTree | undefined {
  const ix = g.indexed();
  const { names, id, start, target, weight } = ix;
  const src = id.get(from);
  if (src === undefined) return undefined;
  const dst = until === undefined ? -1 : (id.get(until) ?? -1);
  const scratch = scratchFor(ix);
  const { stamp, doneStamp, parent, order, dist, unknown, heap, gen } = scratch;
  heap.clear();
  let seen = 0;
  stamp[src] = gen;
  dist[src] = 0;
  unknown[src] = 0;
  parent[src] = -1;
  order[src] = seen++;
  heap.push(0, order[src], src);
  let steps = HEAP_STEPS;
  let stoppedAt = -1;
  while (heap.size > 0) {
    const u = heap.pop();
    steps += HEAP_STEPS;
    if (doneStamp[u] === gen) continue;
    if (u === dst) {
      stoppedAt = u;
      break;
    }
    doneStamp[u] = gen;
    const du = dist[u]!;
    const end = start[u + 1]!;
    steps += end - start[u]!;
    for (let e = start[u]!; e < end; e++) {
      const m = target[e]!;
      if (doneStamp[m] === gen) continue;
      const w = weight[e]!;
      const known = !Number.isNaN(w);
      const nd = known ? du + w : du;
      if (stamp[m] !== gen) {
        stamp[m] = gen;
        order[m] = seen++;
      } else if (nd >= dist[m]!) continue;
      dist[m] = nd;
      unknown[m] = known ? unknown[u]! : unknown[u]! + 1;
      parent[m] = u;
      heap.push(nd, order[m]!, m);
      steps += HEAP_STEPS;
    }
    // Charged as it goes so a search of a huge graph stops at the budget, not after it.
    if (steps >= 65_536) {
      work?.spend(steps);
      steps = 0;
    }
  }
  work?.spend(steps);
  return new SearchTree(scratch, gen, names, id, true, stoppedAt);
}

/**
 * Work charged per heap push or pop of a latency search, in traversal steps: measured on random graphs,
 * a heap operation costs about as much as this many BFS steps, so the budget bounds time for both kinds.
 */
const HEAP_STEPS = 4;

/**
 * The path queries of one request. A source asked about more than once is searched once, in full, and
 * that tree answers its other queries; a source asked about once is searched only until its target is
 * reached. Search trees share the graph's buffers, so one tree is kept: callers that ask about one
 * source's targets together (as validate does) get every repeat for free.
 */
export class PathQueries {
  private readonly uses = new Map<string, number>();
  private cached: { key: string; tree: SearchTree | undefined } | undefined;

  constructor(
    readonly g: Digraph,
    readonly work?: WorkBudget,
  ) {}

  /** Announces a query before any is run, so repeated sources are recognised. */
  plan(kind: "hops" | "latency", from: string): void {
    const key = `${kind}\u0000${from}`;
    this.uses.set(key, (this.uses.get(key) ?? 0) + 1);
  }

  hops(from: string, to: string): Route | undefined {
    if (!this.g.has(to)) return undefined;
    return this.tree("hops", from, to)?.route(to);
  }

  latency(from: string, to: string): { path: Route; latencyMs: number; unknownEdges: number } | undefined {
    if (!this.g.has(to)) return undefined;
    const tree = this.tree("latency", from, to);
    const path = tree?.route(to);
    return path && { path, ...tree!.distance(to)! };
  }

  private tree(kind: "hops" | "latency", from: string, to: string): SearchTree | undefined {
    const key = `${kind}\u0000${from}`;
    if (this.cached?.key === key) return this.cached.tree;
    const search = kind === "hops" ? searchHops : searchLatency;
    if ((this.uses.get(key) ?? 0) < 2) return search(this.g, from, this.work, to);
    this.cached = { key, tree: search(this.g, from, this.work) };
    return this.cached.tree;
  }
}

/** Binary min-heap of nodes ordered by (distance, tie-break); stale entries are skipped by the caller. */
class MinHeap {
  private key = new Float64Array(1024);
  private tie = new Int32Array(1024);
  private node = new Int32Array(1024);
  size = 0;

  clear(): void {
    this.size = 0;
  }

  push(key: number, tie: number, node: number): void {
    if (this.size === this.key.length) this.grow();
    // Sift up with a hole: move parents down until the new entry's place is found.
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.key[p]! < key || (this.key[p] === key && this.tie[p]! < tie)) break;
      this.key[i] = this.key[p]!;
      this.tie[i] = this.tie[p]!;
      this.node[i] = this.node[p]!;
      i = p;
    }
    this.key[i] = key;
    this.tie[i] = tie;
    this.node[i] = node;
  }

  pop(): number {
    const top = this.node[0]!;
    const n = --this.size;
    if (n === 0) return top;
    const key = this.key[n]!;
    const tie = this.tie[n]!;
    const node = this.node[n]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (
        c + 1 < n &&
        (this.key[c + 1]! < this.key[c]! || (this.key[c + 1] === this.key[c] && this.tie[c + 1]! < this.tie[c]!))
      )
        c++;
      if (key < this.key[c]! || (key === this.key[c] && tie < this.tie[c]!)) break;
      this.key[i] = this.key[c]!;
      this.tie[i] = this.tie[c]!;
      this.node[i] = this.node[c]!;
      i = c;
    }
    this.key[i] = key;
    this.tie[i] = tie;
    this.node[i] = node;
    return top;
  }

  private grow(): void {
    const cap = this.key.length * 2;
    const key = new Float64Array(cap);
    const tie = new Int32Array(cap);
    const node = new Int32Array(cap);
    key.set(this.key);
    tie.set(this.tie);
    node.set(this.node);
    this.key = key;
    this.tie = tie;
    this.node = node;
  }
}

/**
 * A path as ids into the graph's names. Reading it costs only what is read: messages show the two ends
 * of a path that may run through the whole graph, once per constraint.
 */
export class Route {
  constructor(
    private readonly ids: Int32Array,
    private readonly names: readonly string[],
  ) {}

  get length(): number {
    return this.ids.length;
  }

  at(i: number): string | undefined {
    return this.names[this.ids[i < 0 ? this.ids.length + i : i]!];
  }
}

function unwindIds(parent: Int32Array, dst: number, names: readonly string[]): Route {
  let length = 0;
  for (let n = dst; n !== -1; n = parent[n]!) length++;
  const ids = new Int32Array(length);
  for (let n = dst, i = length - 1; n !== -1; n = parent[n]!) ids[i--] = n;
  return new Route(ids, names);
}

/**
 * Strongly connected components (Tarjan, iterative). Components come out in reverse topological
 * order of the condensation; members keep discovery order.
 */
export function stronglyConnectedComponents(g: Digraph): string[][] {
  const { names, start, target } = g.indexed();
  const n = names.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack = new Int32Array(n);
  let sp = 0;
  // The DFS call stack: node and the position of its next successor.
  const frameNode = new Int32Array(n);
  const frameNext = new Int32Array(n);
  let fp = 0;
  const components: string[][] = [];
  let counter = 0;

  for (let root = 0; root < n; root++) {
    if (index[root]! >= 0) continue;
    index[root] = low[root] = counter++;
    stack[sp++] = root;
    onStack[root] = 1;
    frameNode[fp] = root;
    frameNext[fp++] = start[root]!;
    while (fp > 0) {
      const v = frameNode[fp - 1]!;
      if (frameNext[fp - 1]! < start[v + 1]!) {
        const m = target[frameNext[fp - 1]!++]!;
        if (index[m]! < 0) {
          index[m] = low[m] = counter++;
          stack[sp++] = m;
          onStack[m] = 1;
          frameNode[fp] = m;
          frameNext[fp++] = start[m]!;
        } else if (onStack[m] && index[m]! < low[v]!) {
          low[v] = index[m]!;
        }
        continue;
      }
      fp--;
      if (fp > 0) {
        const p = frameNode[fp - 1]!;
        if (low[v]! < low[p]!) low[p] = low[v]!;
      }
      if (low[v] === index[v]) {
        const comp: string[] = [];
        let m: number;
        do {
          m = stack[--sp]!;
          onStack[m] = 0;
          comp.push(names[m]!);
        } while (m !== v);
        components.push(comp.reverse());
      }
    }
  }
  return components;
}

/** True when the component contains a cycle: more than one node, or one node with a self-loop. */
export function isCyclic(g: Digraph, component: string[]): boolean {
  return component.length > 1 || g.hasEdge(component[0]!, component[0]!);
}

/**
 * One witness cycle inside a cyclic strongly connected component, as a closed walk
 * [a, b, ..., a]. Found by BFS from the first member back to itself within the component.
 */
export function witnessCycle(g: Digraph, component: string[]): string[] {
  const first = component[0]!;
  if (component.length === 1) return [first, first];
  const { names, id, start, target } = g.indexed();
  // Maps sized by the component, not the graph: a graph of many small cycles stays linear.
  const members = new Set<number>();
  for (const c of component) members.add(id.get(c)!);
  const s = id.get(first)!;
  const parent = new Map<number, number>([[s, -1]]);
  const queue = [s];
  for (let i = 0; i < queue.length; i++) {
    const n = queue[i]!;
    for (let e = start[n]!; e < start[n + 1]!; e++) {
      const m = target[e]!;
      if (!members.has(m)) continue;
      if (m === s) {
        const walk = [first];
        for (let p = n; p !== -1; p = parent.get(p)!) walk.push(names[p]!);
        return walk.reverse();
      }
      if (!parent.has(m)) {
        parent.set(m, n);
        queue.push(m);
      }
    }
  }
  // Unreachable for a genuine SCC; kept so a bad caller gets a harmless answer.
  return [first];
}

/**
 * Articulation points and bridges of the underlying undirected graph (Hopcroft–Tarjan, iterative).
 * A node is an articulation point when removing it disconnects nodes that were connected.
 */
export function articulation(g: Digraph): { points: string[]; bridges: Array<[string, string]> } {
  const { names, start, target } = g.indexed();
  const n = names.length;
  const adj: number[][] = Array.from({ length: n }, () => []);
  const seenPair = new PairTable();
  for (let from = 0; from < n; from++) {
    for (let e = start[from]!; e < start[from + 1]!; e++) {
      const to = target[e]!;
      if (from === to) continue;
      const lo = from < to ? from : to;
      const hi = from < to ? to : from;
      if (seenPair.get(lo, hi) >= 0) continue; // a→b and b→a are one undirected edge
      seenPair.set(lo, hi, 0);
      adj[from]!.push(to);
      adj[to]!.push(from);
    }
  }
  const disc = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const isPoint = new Uint8Array(n);
  const bridges: Array<[number, number]> = [];
  const frameNode = new Int32Array(n);
  const frameParent = new Int32Array(n);
  const frameNext = new Int32Array(n);
  let time = 0;
  for (let root = 0; root < n; root++) {
    if (disc[root]! >= 0) continue;
    disc[root] = low[root] = time++;
    let rootChildren = 0;
    let fp = 0;
    frameNode[fp] = root;
    frameParent[fp] = -1;
    frameNext[fp++] = 0;
    while (fp > 0) {
      const f = fp - 1;
      const v = frameNode[f]!;
      const nbrs = adj[v]!;
      if (frameNext[f]! < nbrs.length) {
        const m = nbrs[frameNext[f]!++]!;
        if (m === frameParent[f]) continue;
        if (disc[m]! >= 0) {
          if (disc[m]! < low[v]!) low[v] = disc[m]!;
        } else {
          disc[m] = low[m] = time++;
          if (v === root) rootChildren++;
          frameNode[fp] = m;
          frameParent[fp] = v;
          frameNext[fp++] = 0;
        }
        continue;
      }
      fp--;
      const p = frameParent[f]!;
      if (p < 0) continue;
      if (low[v]! < low[p]!) low[p] = low[v]!;
      // Report a bridge in the direction the graph declares it (p → child or child → p).
      if (low[v]! > disc[p]!) bridges.push(g.hasEdge(names[p]!, names[v]!) ? [p, v] : [v, p]);
      if (p !== root && low[v]! >= disc[p]!) isPoint[p] = 1;
    }
    if (rootChildren > 1) isPoint[root] = 1;
  }
  bridges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return {
    points: names.filter((_, i) => isPoint[i] === 1),
    bridges: bridges.map(([a, b]) => [names[a]!, names[b]!]),
  };
}
