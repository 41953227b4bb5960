import { parseCTFText, readCTFFile } from "./reader.js";
import { type StepNode, StepTree } from "./step-tree.js";
import type { Embedder } from "./text.js";
import type { CorridorStatus, CTFIssue, FooterEvent, HeaderEvent, RewindEvent } from "./types.js";
import { CTFValidator, type ValidatorOptions } from "./validator.js";

/** A trace replayed into its step tree plus the timelines the tools need (not the raw events). */
export interface LoadedTrace {
  header: HeaderEvent | null;
  footer: FooterEvent | null;
  /** Every step in file order, with validity and its last q/status. */
  steps: StepNode[];
  /** The final lineage, root first. */
  lineage: StepNode[];
  rewinds: Array<RewindEvent & { line: number }>;
  /** Status changes in file order (the first status, then each change). */
  statusChanges: Array<{
    step_id: number;
    line: number;
    from: CorridorStatus | null;
    to: CorridorStatus;
    violations: string[];
  }>;
  /** Violation counts over all status events. */
  violationCounts: Record<string, number>;
  finalStatus: CorridorStatus;
  issues: CTFIssue[];
  events: number;
  truncated: boolean;
  /** Steps whose q (and status, if the file gave none) were computed on read, not read from the file. */
  qComputed: number;
  /** True when the file has no status events and `statusChanges`, `violationCounts` (and `finalStatus` of an open trace) were computed. */
  statusComputed: boolean;
}

export interface LoadOptions extends ValidatorOptions {
  /** Compute Q-metrics on read for steps the file gives none (default true; see computeMissingQ). */
  computeMissingQ?: boolean;
}

function collector(opts: LoadOptions) {
  const rewinds: LoadedTrace["rewinds"] = [];
  const statusChanges: LoadedTrace["statusChanges"] = [];
  const violationCounts: Record<string, number> = {};
  let last: CorridorStatus | null = null;
  const v = new CTFValidator({
    ...opts,
    onEvent(e, line, issues) {
      // Only events the replay accepted shape the timelines.
      if (issues.some((i) => i.severity === "error")) return;
      if (e.type === "rewind") rewinds.push({ ...e, line });
      else if (e.type === "status") {
        for (const x of e.violations) violationCounts[x] = (violationCounts[x] ?? 0) + 1;
        if (e.corridor_status !== last) {
          statusChanges.push({ step_id: e.step_id, line, from: last, to: e.corridor_status, violations: e.violations });
          last = e.corridor_status;
        }
      }
    },
  });
  const done = (): LoadedTrace => {
    const issues = v.finish();
    const st = v.state;
    const t: LoadedTrace = {
      header: v.header,
      footer: v.footer,
      steps: st?.nodes ?? [],
      lineage: st?.lineage() ?? [],
      rewinds,
      statusChanges,
      violationCounts,
      finalStatus: v.footer?.final_status ?? v.lastStatus,
      issues,
      events: v.events,
      truncated: v.truncated,
      qComputed: 0,
      statusComputed: false,
    };
    if (opts.computeMissingQ ?? true) computeMissingQ(t, { embedder: opts.embedder });
    return t;
  };
  return { v, done };
}

/**
 * Q-metrics on read, for traces that carry no `q` events (the seed's minimal writer writes steps only): the
 * accepted steps and rewinds are replayed in file order through the corridor runtime's own computation
 * (StepTree.describeHead), so each step gets the q and status the runtime would have written after it, and a
 * rewind's target its recomputed ones. Steps with a q in the file keep it (and their status). When the file has
 * no status events at all, the status timeline and violation counts are built from the computed statuses too.
 * Nothing is computed when the header names an embedder other than TF-IDF that is not passed in: its drift cannot
 * be reproduced. Returns the number of steps given a computed q (also stored as `qComputed`).
 */
export function computeMissingQ(t: LoadedTrace, opts: { embedder?: Embedder } = {}): number {
  const h = t.header;
  if (!h || t.steps.every((n) => n.q)) return 0;
  if (h.embedder && h.embedder !== "tfidf" && h.embedder !== opts.embedder?.name) return 0;
  const tree = new StepTree(h.corridor_spec, h.task, { embedder: h.embedder ? opts.embedder : undefined });
  const computed = new Set<StepNode>();
  const statuses = t.statusChanges.length === 0 && Object.keys(t.violationCounts).length === 0;
  let last: CorridorStatus | null = null;
  const describe = (line: number) => {
    const head = tree.head!;
    const node = t.steps[head.ord]!;
    const d = tree.describeHead(false);
    if (!node.q || computed.has(node)) {
      computed.add(node);
      node.q = d.q;
      if (!node.status || statuses) {
        node.status = d.corridor_status;
        node.violations = d.violations;
      }
    }
    if (!statuses) return;
    for (const x of d.violations) t.violationCounts[x] = (t.violationCounts[x] ?? 0) + 1;
    if (d.corridor_status !== last) {
      t.statusChanges.push({ step_id: head.id, line, from: last, to: d.corridor_status, violations: d.violations });
      last = d.corridor_status;
    }
  };
  const rewind = (e: LoadedTrace["rewinds"][number]) => {
    const to = tree.byId.get(e.to_step);
    if (!to) return;
    tree.rewind(to);
    describe(e.line);
  };
  // Steps and rewinds in file order (each list already is).
  const rewinds = t.rewinds.values();
  let next = rewinds.next();
  for (const n of t.steps) {
    for (; !next.done && next.value.line < n.line; next = rewinds.next()) rewind(next.value);
    tree.addStep(n.event, n.line, n.parent ? (tree.nodes[n.parent.ord] ?? null) : null);
    describe(n.line);
  }
  for (; !next.done; next = rewinds.next()) rewind(next.value);
  t.qComputed = computed.size;
  if (statuses) {
    t.statusComputed = true;
    if (!t.footer && last) t.finalStatus = last;
  }
  return computed.size;
}

/** Loads a trace from a file. Defaults favour speed (no recomputation); pass options to validate fully. */
export async function loadTrace(path: string, opts: LoadOptions = { recompute: false }): Promise<LoadedTrace> {
  const { v, done } = collector(opts);
  await readCTFFile(path, (l) => (l.issue ? v.pushIssue(l.issue) : v.push(l.value, l.line)));
  return done();
}

export function loadTraceText(text: string, opts: LoadOptions = { recompute: false }): LoadedTrace {
  const { v, done } = collector(opts);
  parseCTFText(text, (l) => (l.issue ? v.pushIssue(l.issue) : v.push(l.value, l.line)));
  return done();
}
