import { cosine, type Embedder, TermVector, TfIdfCorpus } from "./text.js";
import type { CorridorSpec, CorridorStatus, QMetrics, StepEvent, Violation } from "./types.js";

/** A step in the replayed step tree. */
export interface StepNode {
  /** Position among the trace's step events (0-based); unique even if a rewound id is reused. */
  ord: number;
  id: number;
  line: number;
  event: StepEvent;
  parent: StepNode | null;
  /**
   * First child step, null until there is one. Most steps have exactly one child: a one-element
   * array per step was a sixth of the memory a replay keeps, and GC time to match.
   */
  child: StepNode | null;
  /** Children after the first (forks, branches abandoned by rewinds); null until there is one. */
  moreChildren: StepNode[] | null;
  depth: number;
  onLineage: boolean;
  /** False once a rewind abandoned this step (or an ancestor). */
  valid: boolean;
  retry: boolean;
  /** Last q / status recorded for this step (a rewind's recomputation overwrites the step's first one). */
  q?: QMetrics;
  status?: CorridorStatus;
  violations?: Violation[];
  /** Consecutive lineage steps, ending here, with at least one metric over threshold. */
  streak: number;
}

export interface StatusResult {
  corridor_status: CorridorStatus;
  violations: Violation[];
}

/** Number of child steps of a node. */
export const childCount = (n: StepNode): number => (n.child === null ? 0 : 1 + (n.moreChildren?.length ?? 0));

export const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** Consecutive over-threshold steps after which a single violation escalates to `critical`. */
export const CRITICAL_STREAK = 3;

const stepText = (e: StepEvent) => `${e.action} ${e.observation}`;
const ODD_SPACE = /^\s|\s$|\s\s|[\t\n\r\f\v]/;
/** Action text with whitespace trimmed and collapsed; the common already-clean case allocates nothing. */
const normalAction = (a: string) => (ODD_SPACE.test(a) ? a.trim().replace(/\s+/g, " ") : a);

/**
 * Step id → latest step with that id. Ids are small dense integers in practice (a step counter), so an
 * array is used while they stay within reach; anything else falls back to a Map.
 */
export class StepIndex {
  private readonly dense: Array<StepNode | undefined> = [];
  private readonly sparse = new Map<number, StepNode>();
  get(id: number): StepNode | undefined {
    return id < this.dense.length ? this.dense[id] : this.sparse.get(id);
  }
  set(id: number, node: StepNode): void {
    if (id < this.dense.length) this.dense[id] = node;
    else if (id === this.dense.length && this.sparse.size === 0) this.dense.push(node);
    else this.sparse.set(id, node);
  }
}

/**
 * Replays a corridor: the step tree, the current lineage, and running aggregates over the lineage
 * from which the five Q-metrics of spec/ctf/v0.1/q_metrics.md are read in O(distinct tools + action
 * length). Used by the runtime (to write metrics), the validator (to recompute them) and the tools.
 * It trusts its caller to have checked the rules (the validator does), so it never throws on data.
 * (Not core's CorridorState, which is the engine's state: this is a trace's tree of steps.)
 */
export class StepTree {
  readonly nodes: StepNode[] = [];
  /** Latest step with each id (ids rewound away may be reused). */
  readonly byId = new StepIndex();
  head: StepNode | null = null;
  root: StepNode | null = null;
  stepsWritten = 0;

  // Aggregates over the current lineage.
  private len = 0;
  private latencySum = 0;
  private retries = 0;
  private childSum = 0;
  private readonly tools = new Map<string, number>();
  private toolSteps = 0;
  private readonly corpus = new TfIdfCorpus();
  /** Every (tool, normalised action) written so far, valid or rewound: what makes a step a retry. */
  private readonly seenActions = new Map<string, Set<string>>();
  private readonly refTerms = new TermVector();
  private refVector: ArrayLike<number> | undefined;
  /** Term counts of the head's step text, tokenised once when it entered the lineage (reused buffer). */
  private readonly headBuf = new TermVector();
  private headFresh = false;
  /** Scratch for a step leaving the lineage. */
  private readonly leaveBuf = new TermVector();

  private readonly embedder: Embedder | undefined;
  /** False for a pure replay (diff, listing): skips tokenising and retry keys, metrics() is unavailable. */
  readonly tracksMetrics: boolean;

  constructor(
    readonly spec: CorridorSpec,
    private readonly task: string | undefined,
    opts: { embedder?: Embedder; trackMetrics?: boolean } = {},
  ) {
    this.embedder = opts.embedder;
    this.tracksMetrics = opts.trackMetrics ?? true;
    this.corpus.vectorInto(this.refTerms, task ?? "");
    if (task !== undefined) this.corpus.addVector(this.refTerms);
  }

  /** Lineage from root to head, root first. */
  lineage(): StepNode[] {
    const out: StepNode[] = [];
    for (let n = this.head; n; n = n.parent) out.push(n);
    return out.reverse();
  }

  /** Adds a step as a child of `parent` (null = root) and makes it the head. */
  addStep(event: StepEvent, line: number, parent: StepNode | null): StepNode {
    if (parent !== this.head && parent) this.moveHead(parent);
    let retry = false;
    if (this.tracksMetrics) {
      const tool = event.tool ?? "";
      const action = normalAction(event.action);
      let seen = this.seenActions.get(tool);
      if (!seen) {
        seen = new Set();
        this.seenActions.set(tool, seen);
      }
      const size = seen.size;
      retry = seen.add(action).size === size; // one hash lookup instead of has + add
    }
    const node: StepNode = {
      ord: this.nodes.length,
      id: event.step_id,
      line,
      event,
      parent,
      child: null,
      moreChildren: null,
      depth: parent ? parent.depth + 1 : 0,
      onLineage: false,
      valid: true,
      retry,
      streak: 0,
      // Declared up front so every node has one hidden class (later assignment would reshape them).
      q: undefined,
      status: undefined,
      violations: undefined,
    };
    this.nodes.push(node);
    this.byId.set(node.id, node);
    this.stepsWritten++;
    if (parent) {
      if (parent.child === null) parent.child = node;
      else if (parent.moreChildren === null) parent.moreChildren = [node];
      else parent.moreChildren.push(node);
      if (parent.onLineage) this.childSum++;
    } else {
      this.root = node;
      // Without a task text the root's action is the reference (q_metrics.md).
      if (this.task === undefined) {
        this.stepTerms(event, this.refTerms);
        this.corpus.addVector(this.refTerms);
      }
    }
    this.enter(node);
    this.head = node;
    return node;
  }

  /** Rewinds the head to `to` (an ancestor of the head): the abandoned path and its branches become invalid. */
  rewind(to: StepNode): void {
    let n = this.head;
    while (n && n !== to) {
      this.leave(n);
      this.invalidate(n);
      n = n.parent;
    }
    this.head = to;
    this.headFresh = false;
  }

  /** True when `anc` is a strict ancestor of `node`. */
  static isAncestor(anc: StepNode, node: StepNode): boolean {
    if (anc.depth >= node.depth) return false;
    let n: StepNode | null = node;
    while (n && n.depth > anc.depth) n = n.parent;
    return n === anc;
  }

  /** The five Q-metrics of the head, on the current lineage. */
  metrics(): QMetrics {
    if (!this.tracksMetrics) throw new Error("StepTree: created with trackMetrics false");
    const h = this.head;
    if (!h) return { semantic_drift: 0, tool_entropy: 0, latency_drift: 0, branching_pressure: 0, retry_ratio: 0 };
    let entropy = 0;
    for (const c of this.tools.values()) {
      const p = c / this.toolSteps;
      entropy -= p * Math.log2(p);
    }
    const lat = h.event.latency_ms;
    const baseline = this.len > 1 ? (this.latencySum - lat) / (this.len - 1) : 0;
    return {
      semantic_drift: round6(this.drift(h)),
      tool_entropy: round6(entropy),
      latency_drift: round6(baseline > 0 ? Math.abs(lat - baseline) / baseline : 0),
      branching_pressure: this.childSum - (this.len - 1),
      retry_ratio: round6(this.retries / this.len),
    };
  }

  /**
   * Status of the head from its metrics (escalation ladder of encoding_rules.md §6).
   * Records the head's violation streak, so call it once per status written.
   */
  status(q: QMetrics): StatusResult {
    const h = this.head;
    // Q_METRICS order, written out: a filter with keyed lookups costs more than the rest of the status.
    const spec = this.spec;
    const violations: Violation[] = [];
    if (q.semantic_drift > spec.max_semantic_drift) violations.push("semantic_drift");
    if (q.tool_entropy > spec.max_tool_entropy) violations.push("tool_entropy");
    if (q.latency_drift > spec.max_latency_drift) violations.push("latency_drift");
    if (q.branching_pressure > spec.max_branching_pressure) violations.push("branching_pressure");
    if (q.retry_ratio > spec.max_retry_ratio) violations.push("retry_ratio");
    const streak = violations.length > 0 ? (h?.parent?.streak ?? 0) + 1 : 0;
    if (h) h.streak = streak;
    const halted = this.stepsWritten >= this.spec.max_steps;
    let corridor_status: CorridorStatus = "stable";
    if (halted) corridor_status = "halted";
    else if (violations.length >= 2 || streak >= CRITICAL_STREAK) corridor_status = "critical";
    else if (violations.length === 1) corridor_status = "warning";
    if (halted) violations.push("max_steps");
    return { corridor_status, violations };
  }

  /**
   * The corridor runtime's description of the head: its Q-metrics on the current lineage, then its status
   * (which records the head's violation streak), kept on the node unless `keep` is false. The one place
   * metrics and status are computed together: the runtime writes them, the readers compute them for
   * traces that carry no `q` events (computeMissingQ), the live server for updates it sends.
   */
  describeHead(keep = true): StatusResult & { q: QMetrics } {
    const q = this.metrics();
    const s = this.status(q);
    const h = this.head;
    if (keep && h) {
      h.q = q;
      h.status = s.corridor_status;
      h.violations = s.violations;
    }
    return { q, ...s };
  }

  /** Terms of a step's text (action, then observation) into `out`, without building the joined string. */
  private stepTerms(e: StepEvent, out: TermVector): TermVector {
    return this.corpus.vectorInto(out, e.action, e.observation);
  }

  private drift(h: StepNode): number {
    if (this.embedder) {
      this.refVector ??= this.embedder.embed(this.task ?? (this.root ? stepText(this.root.event) : ""));
      return 1 - Math.max(0, Math.min(1, cosine(this.refVector, this.embedder.embed(stepText(h.event)))));
    }
    // Retokenise only when the head changed by a rewind or fork; a plain step reuses enter()'s counts.
    if (!this.headFresh) {
      this.stepTerms(h.event, this.headBuf);
      this.headFresh = true;
    }
    const cos = this.corpus.cosineVectors(this.refTerms, this.headBuf);
    return Math.max(0, Math.min(1, 1 - cos));
  }

  /** Makes `target` (a valid step) the head, leaving and entering lineage steps through the common ancestor. */
  private moveHead(target: StepNode): void {
    const path: StepNode[] = [];
    let t: StepNode | null = target;
    while (t && !t.onLineage) {
      path.push(t);
      t = t.parent;
    }
    for (let n = this.head; n && n !== t; n = n.parent) this.leave(n);
    for (const n of path.reverse()) this.enter(n);
    this.head = target;
    this.headFresh = false;
  }

  private enter(n: StepNode): void {
    n.onLineage = true;
    this.len++;
    this.latencySum += n.event.latency_ms;
    if (n.retry) this.retries++;
    this.childSum += childCount(n);
    const tool = n.event.tool;
    if (tool) {
      this.tools.set(tool, (this.tools.get(tool) ?? 0) + 1);
      this.toolSteps++;
    }
    if (!this.tracksMetrics) return;
    // Terms are not stored per step (millions of small strings are what GC pays for); they are
    // recomputed on the rare occasions a step leaves the lineage.
    this.corpus.addVector(this.stepTerms(n.event, this.headBuf));
    this.headFresh = true;
  }

  private leave(n: StepNode): void {
    n.onLineage = false;
    this.len--;
    this.latencySum -= n.event.latency_ms;
    if (n.retry) this.retries--;
    this.childSum -= childCount(n);
    const tool = n.event.tool;
    if (tool) {
      const c = (this.tools.get(tool) ?? 0) - 1;
      if (c <= 0) this.tools.delete(tool);
      else this.tools.set(tool, c);
      this.toolSteps--;
    }
    if (this.tracksMetrics) this.corpus.removeVector(this.stepTerms(n.event, this.leaveBuf));
  }

  private invalidate(n: StepNode): void {
    const stack = [n];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (!x.valid) continue;
      x.valid = false;
      if (x.child) stack.push(x.child);
      if (x.moreChildren) for (const c of x.moreChildren) stack.push(c);
    }
  }
}
