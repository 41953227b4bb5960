/**
 * Size and work limits of the diagnostics analyses (docs/api/rtt/README.md#limits).
 *
 * validate, corridor and topology are pure computations that need no write token, so what one request
 * may cost is bounded here: graph size up front (413 naming the limit and the actual size), traversal
 * work while path constraints are evaluated, and the size of what is sent back (findings, messages,
 * subjects). The limits are far above real topologies — a datacenter of tens of thousands of nodes
 * is answered in well under a second.
 */
import type { Finding } from "@rtt/sdk";
import { InputError } from "./errors.js";

/** Distinct services/nodes in one graph. */
export const MAX_NODES = 100_000;
/** Edges in one graph: validate flows, topology adjacency entries. Equal to the schemas' flows maxItems. */
export const MAX_EDGES = 100_000;
/**
 * Flows of one corridor request: each is answered with its own result (budget, slack, every hop), so the answer
 * grows with them — 100,000 flows took 2 s and answered 33 MB (fuzz suite).
 */
export const MAX_CORRIDOR_FLOWS = 10_000;
/** Hops over all corridor flows (sum of path lengths − 1); every hop is listed in the answer. */
export const MAX_CORRIDOR_HOPS = 100_000;
/**
 * Traversal steps (nodes visited + edges scanned, heap operations weighted, see graph.ts) over all path
 * constraints of one validate request. A breadth-first search of the largest graph is ~200,000 steps;
 * the whole budget took 0.2–0.8 s on a busy 2-core machine (bench/diagnostics).
 */
export const MAX_WORK = 20_000_000;
/** Findings in one response; the most severe are kept and `findings_omitted` counts the rest. */
export const MAX_FINDINGS = 1000;
/** Characters of one finding message. */
export const MAX_MESSAGE_CHARS = 2048;
/** Subjects of one finding; `subjects_omitted` counts the rest. */
export const MAX_SUBJECTS = 100;
/** A path of more than 2·PATH_ENDS + 1 nodes is shown as its first and last PATH_ENDS nodes. */
export const PATH_ENDS = 4;

/** 413 in the API's error shape: "<request> request too large: <headline>", details at `path`. */
export function tooLarge(request: string, path: string, message: string, headline = message): InputError {
  return new InputError(`${request} request too large: ${headline}`, [{ path, message }], 413);
}

/** Throws a 413 like "validate request too large: flows: 250000 edges exceeds the limit of 100000". */
export function checkCount(request: string, path: string, count: number, unit: string, limit: number): void {
  if (count <= limit) return;
  const message = `${count} ${unit} exceeds the limit of ${limit}`;
  throw tooLarge(request, path, message, `${path.slice(1)}: ${message}`);
}

/** Counts traversal steps against MAX_WORK; throws a 413 when a request would run past it. */
export class WorkBudget {
  used = 0;
  /** Index of the constraint being evaluated, for the error message. */
  at = 0;
  constructor(readonly limit = MAX_WORK) {}

  spend(steps: number): void {
    this.used += steps;
    if (this.used > this.limit)
      throw tooLarge(
        "validate",
        "/constraints",
        `path queries need more than ${this.limit} traversal steps (the limit); stopped at constraint ${this.at}`,
      );
  }
}

/** A string[] or a graph Route: only the nodes shown are read. */
export interface PathLike {
  readonly length: number;
  at(i: number): string | undefined;
}

/** "a → b → c", or for long paths "a → b → c → d → … (N more) … → w → x → y → z". */
export function describePath(path: PathLike): string {
  const show = (from: number, to: number) => {
    const nodes: Array<string | undefined> = [];
    for (let i = from; i < to; i++) nodes.push(path.at(i));
    return nodes.join(" → ");
  };
  const n = path.length;
  if (n <= 2 * PATH_ENDS + 1) return show(0, n);
  return `${show(0, PATH_ENDS)} → … (${n - 2 * PATH_ENDS} more) … → ${show(n - PATH_ENDS, n)}`;
}

export function clipMessage(message: string): string {
  if (message.length <= MAX_MESSAGE_CHARS) return message;
  const marker = ` … [${message.length} characters, cut]`;
  return message.slice(0, MAX_MESSAGE_CHARS - marker.length) + marker;
}

/** At most MAX_SUBJECTS subjects, with the count of the others. */
export function capSubjects(subjects: string[]): Pick<Finding, "subjects" | "subjects_omitted"> {
  if (subjects.length <= MAX_SUBJECTS) return { subjects };
  return { subjects: subjects.slice(0, MAX_SUBJECTS), subjects_omitted: subjects.length - MAX_SUBJECTS };
}

const RANK: Record<Finding["severity"], number> = { error: 0, warning: 1, info: 2 };

/**
 * At most MAX_FINDINGS findings, messages clipped. When some must go, errors are kept before warnings before
 * infos, and the kept ones stay in request order, so a flood of infos cannot hide an error.
 */
export function capFindings<F extends Finding>(findings: F[]): { findings: F[]; findings_omitted: number } {
  let kept = findings;
  if (findings.length > MAX_FINDINGS) {
    const order = Array.from(findings, (_, i) => i).sort(
      (a, b) => RANK[findings[a]!.severity] - RANK[findings[b]!.severity] || a - b,
    );
    kept = order
      .slice(0, MAX_FINDINGS)
      .sort((a, b) => a - b)
      .map((i) => findings[i]!);
  }
  for (const f of kept) f.message = clipMessage(f.message);
  return { findings: kept, findings_omitted: findings.length - kept.length };
}
