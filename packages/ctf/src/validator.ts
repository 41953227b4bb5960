import { matchQ, matchStatus, matchStep, qEvent, readByteLines } from "./fast-lines.js";
import { BadLine, parseCTFText, parseLine } from "./reader.js";
import { validateEventSchema } from "./schema.js";
import { type StepNode, StepTree } from "./step-tree.js";
import type { Embedder } from "./text.js";
import {
  type CorridorStatus,
  type CTFEvent,
  type CTFEventType,
  type CTFIssue,
  EVENT_TYPES,
  type FooterEvent,
  type HeaderEvent,
  type QEvent,
  type QMetricName,
  type StatusEvent,
} from "./types.js";

export interface ValidatorOptions {
  /** Recompute Q-metrics and status and warn where the file disagrees (default true). */
  recompute?: boolean;
  /** Report a missing footer (default true; live traces are open by design). */
  requireFooter?: boolean;
  /** Skip the JSON Schema check, for trusted input where only the replay is wanted. */
  skipSchema?: boolean;
  /** Embedder the producer used; without it semantic_drift is only recomputed for TF-IDF traces. */
  embedder?: Embedder;
  /**
   * Keep each step's last q and status on its node (default true; tools such as diff and summary
   * read them). Plain validation turns it off: a million retained q/status objects cost GC time.
   */
  keepDescriptions?: boolean;
  /** Check footer.final_status against the last status (default true; off when status lines are skipped). */
  checkFinalStatus?: boolean;
  /** Called for every event that passed the schema check, after the validator replayed it. */
  onEvent?: (event: CTFEvent, line: number, issues: CTFIssue[]) => void;
}

const TOLERANCE = 1.5e-6; // values are written rounded to 6 decimals

/**
 * Checks a trace event by event: each line against its schema, then the cross-event rules of
 * spec/ctf/v0.1/encoding_rules.md, replaying the corridor as it goes. Feed it with `push` (in
 * file order) and call `finish` at the end. Memory grows with the number of steps, not events.
 */
export class CTFValidator {
  header: HeaderEvent | null = null;
  footer: FooterEvent | null = null;
  state: StepTree | null = null;
  events = 0;
  lastStatus: CorridorStatus = "stable";
  readonly issues: CTFIssue[] = [];
  truncated = false;
  private lastLine = 0;
  private lastTimestamp = Number.NEGATIVE_INFINITY;
  /** Lowest id the next step may take minus one: the previous step's id, or a rewind's to_step. */
  private floor = -1;
  private floorFrom: "step" | "rewind" = "step";
  /** Set right after a step or rewind: the q/status that follow describe the head and can be recomputed. */
  private fresh = false;
  private freshQ: ReturnType<StepTree["metrics"]> | null = null;
  private readonly recompute: boolean;
  private readonly keep: boolean;
  /** The latest q event: the status after it is derived from the file's own q values. */
  private lastQ: QEvent | null = null;
  /**
   * Where `lastStatus` comes from, for the footer's final_status check: a status event (or none yet), the status
   * recomputed on the surviving lineage after a rewind, or unknown (a rewind without recomputation: not judged).
   */
  private statusFrom: { kind: "event" } | { kind: "rewind"; line: number; to: number } | { kind: "unknown" } = {
    kind: "event",
  };

  constructor(private readonly opts: ValidatorOptions = {}) {
    this.recompute = opts.recompute ?? true;
    this.keep = opts.keepDescriptions ?? true;
  }

  get errors(): CTFIssue[] {
    return this.issues.filter((i) => i.severity === "error");
  }

  /** Records an unparsable line reported by the reader. */
  pushIssue(issue: CTFIssue): void {
    this.lastLine = issue.line;
    if (issue.code === "truncated") this.truncated = true;
    this.issues.push(issue);
  }

  /**
   * Validates one parsed line; returns the issues found on it. `schemaValid`: the caller built the event from a
   * template its schema accepts (fast-lines.ts), so the schema check is skipped; the rules are not.
   */
  push(value: unknown, line: number, schemaValid = false): CTFIssue[] {
    this.lastLine = line;
    const found: CTFIssue[] = schemaValid
      ? []
      : this.opts.skipSchema
        ? shapeIssues(value, line)
        : validateEventSchema(value, line);
    if (found.length === 0) this.rules(value as CTFEvent, line, found);
    else if (this.events === 0 && (value as { type?: unknown })?.type !== "header") {
      found.push(this.err(line, "/type", "header_first", "the first event must be the header"));
    }
    this.events++;
    for (const i of found) this.issues.push(i);
    const shaped = !found.some((i) => i.code === "schema" || i.code === "unknown_type" || i.code === "not_object");
    if (this.opts.onEvent && shaped) this.opts.onEvent(value as CTFEvent, line, found);
    return found;
  }

  /**
   * A q event for `stepId` known schema-valid (fast-lines.ts matchQ), without building it: the rules a q event
   * meets, and the step it describes (null when it does not resolve). Its values are the caller's to keep: the
   * node's `q` is not set. Only without recomputation, where a q event is checked against nothing.
   */
  pushQValues(stepId: number, line: number): StepNode | null {
    if (this.recompute) throw new Error("CTFValidator.pushQValues: only without recomputation");
    this.lastLine = line;
    const found: CTFIssue[] = [];
    let node: StepNode | null = null;
    if (this.footer) found.push(this.err(line, "/type", "after_footer", "no event may follow the footer"));
    if (this.events === 0)
      found.push(this.err(line, "/type", "header_first", "the first event must be the header, got q"));
    const st = this.state;
    if (st) node = this.resolve(st, stepId, line, "/step_id", found);
    this.events++;
    for (const i of found) this.issues.push(i);
    if (this.opts.onEvent) throw new Error("CTFValidator.pushQValues: onEvent needs the event");
    return node;
  }

  /** End-of-trace rules; returns every issue of the trace. */
  finish(): CTFIssue[] {
    if (this.events === 0 && !this.truncated) {
      this.issues.push(this.err(Math.max(1, this.lastLine), "", "empty", "no events: a trace starts with a header"));
    } else if (!this.footer && (this.opts.requireFooter ?? true)) {
      this.issues.push(
        this.err(
          Math.max(1, this.lastLine),
          "",
          "missing_footer",
          "the trace has no footer: still being written, or its writer stopped",
        ),
      );
    }
    return this.issues;
  }

  private err(line: number, field: string, code: string, message: string): CTFIssue {
    return { line, field, code, message, severity: "error" };
  }

  private rules(e: CTFEvent, line: number, out: CTFIssue[]): void {
    if (this.footer) out.push(this.err(line, "/type", "after_footer", "no event may follow the footer"));
    if (e.type === "header") {
      if (this.header || this.events > 0) {
        out.push(
          this.err(
            line,
            "/type",
            this.header ? "duplicate_header" : "header_first",
            "the header must be the first and only header event",
          ),
        );
        return;
      }
      this.header = e;
      this.state = new StepTree(e.corridor_spec, e.task, {
        embedder: this.opts.embedder,
        trackMetrics: this.recompute,
      });
    } else if (this.events === 0) {
      out.push(this.err(line, "/type", "header_first", `the first event must be the header, got ${e.type}`));
    }
    if ("timestamp" in e) {
      if (e.timestamp < this.lastTimestamp) {
        out.push(
          this.err(
            line,
            "/timestamp",
            "time_order",
            `timestamp ${e.timestamp} is earlier than the previous event's ${this.lastTimestamp}`,
          ),
        );
      } else this.lastTimestamp = e.timestamp;
    }
    if (e.type === "footer") {
      this.footer = e;
      const from = this.statusFrom;
      if ((this.opts.checkFinalStatus ?? true) && from.kind !== "unknown" && e.final_status !== this.lastStatus) {
        const was =
          from.kind === "rewind"
            ? `the surviving lineage's status, recomputed after the rewind to step ${from.to} on line ${from.line}, is ${this.lastStatus}`
            : `the last status was ${this.lastStatus}`;
        out.push(this.err(line, "/final_status", "final_status", `final_status is ${e.final_status} but ${was}`));
      }
      return;
    }
    const st = this.state;
    if (!st || e.type === "header") return;
    switch (e.type) {
      case "step":
        this.step(st, e, line, out);
        return;
      case "q":
      case "status": {
        const node = this.resolve(st, e.step_id, line, "/step_id", out);
        if (node) this.describe(st, node, e, line, out);
        return;
      }
      case "rewind":
        this.rewind(st, e, line, out);
        return;
    }
  }

  private step(st: StepTree, e: Extract<CTFEvent, { type: "step" }>, line: number, out: CTFIssue[]): void {
    const before = out.length;
    const same = st.byId.get(e.step_id);
    if (same?.valid) {
      out.push(
        this.err(
          line,
          "/step_id",
          "duplicate_step_id",
          `step_id ${e.step_id} is already used by the step on line ${same.line}`,
        ),
      );
    } else if (e.step_id <= this.floor) {
      const why =
        this.floorFrom === "rewind" ? `the rewind's to_step ${this.floor}` : `the previous step_id ${this.floor}`;
      out.push(this.err(line, "/step_id", "step_order", `step_id ${e.step_id} must be greater than ${why}`));
    }
    let parent: StepNode | null = null;
    if (e.parent_step_id === null) {
      if (st.root)
        out.push(this.err(line, "/parent_step_id", "second_root", "only the first step may have parent_step_id null"));
    } else {
      parent = this.resolve(st, e.parent_step_id, line, "/parent_step_id", out);
      if (!parent && before === out.length) return;
    }
    if (out.length > before) return; // do not replay a step that breaks the tree
    st.addStep(e, line, parent);
    this.floor = e.step_id;
    this.floorFrom = "step";
    this.fresh = true;
    this.freshQ = null;
  }

  private rewind(st: StepTree, e: Extract<CTFEvent, { type: "rewind" }>, line: number, out: CTFIssue[]): void {
    const head = st.head;
    if (!head || e.from_step !== head.id) {
      out.push(
        this.err(
          line,
          "/from_step",
          "rewind_from",
          `from_step must be the current head (${head ? `step ${head.id}` : "no step yet"})`,
        ),
      );
      return;
    }
    const to = st.byId.get(e.to_step);
    if (!to?.valid || !StepTree.isAncestor(to, head)) {
      out.push(
        this.err(
          line,
          "/to_step",
          "rewind_target",
          `to_step ${e.to_step} is not an ancestor of step ${head.id} on the current lineage`,
        ),
      );
      return;
    }
    st.rewind(to);
    this.floor = e.to_step;
    this.floorFrom = "rewind";
    this.fresh = true;
    this.freshQ = null;
    // The q and status written before the rewind described the abandoned head. The corridor's status is now that
    // of the surviving lineage (encoding_rules.md §5, §6): recomputed here, so a trace whose writer emits no
    // status after the rewind (the seed's writer) is judged on it; a status event that follows replaces it.
    this.lastQ = null;
    if (this.recompute) {
      const d = st.describeHead(this.keep);
      this.freshQ = d.q;
      this.lastStatus = d.corridor_status;
      this.statusFrom = { kind: "rewind", line, to: to.id };
    } else {
      // Without recomputation the status last written for to_step stands in (for display); final_status is not judged.
      if (to.status) this.lastStatus = to.status;
      this.statusFrom = { kind: "unknown" };
    }
  }

  private resolve(st: StepTree, id: number, line: number, field: string, out: CTFIssue[]): StepNode | null {
    const node = st.byId.get(id);
    if (!node) out.push(this.err(line, field, "unknown_step", `step ${id} does not exist (yet)`));
    else if (!node.valid) out.push(this.err(line, field, "step_rewound", `step ${id} was invalidated by a rewind`));
    return node?.valid ? node : null;
  }

  /** A drift computed by an embedder the validator was not given cannot be checked. */
  private driftReproducible(): boolean {
    const embedder = this.header?.embedder;
    return !embedder || embedder === "tfidf" || embedder === this.opts.embedder?.name;
  }

  private mismatch(out: CTFIssue[], line: number, m: QMetricName, inFile: number, recomputed: number): void {
    out.push({
      line,
      field: `/${m}`,
      code: "q_mismatch",
      message: `${m} is ${inFile}, recomputed ${recomputed} (q_metrics.md)`,
      severity: "warning",
    });
  }

  /** Records q/status on their step and, for the head right after a step or rewind, checks them against a recomputation. */
  private describe(st: StepTree, node: StepNode, e: QEvent | StatusEvent, line: number, out: CTFIssue[]): void {
    const check = this.recompute && this.fresh && node === st.head;
    if (e.type === "q") {
      // The event itself carries the five metrics; copying them would cost an object per step.
      if (this.keep) node.q = e;
      this.lastQ = e;
      if (!check) return;
      const q = st.metrics();
      this.freshQ = q;
      // Written out in Q_METRICS order: a loop of keyed lookups costs more than the comparisons.
      if (Math.abs(q.semantic_drift - e.semantic_drift) > TOLERANCE && this.driftReproducible())
        this.mismatch(out, line, "semantic_drift", e.semantic_drift, q.semantic_drift);
      if (Math.abs(q.tool_entropy - e.tool_entropy) > TOLERANCE)
        this.mismatch(out, line, "tool_entropy", e.tool_entropy, q.tool_entropy);
      if (Math.abs(q.latency_drift - e.latency_drift) > TOLERANCE)
        this.mismatch(out, line, "latency_drift", e.latency_drift, q.latency_drift);
      if (Math.abs(q.branching_pressure - e.branching_pressure) > TOLERANCE)
        this.mismatch(out, line, "branching_pressure", e.branching_pressure, q.branching_pressure);
      if (Math.abs(q.retry_ratio - e.retry_ratio) > TOLERANCE)
        this.mismatch(out, line, "retry_ratio", e.retry_ratio, q.retry_ratio);
      return;
    }
    if (this.keep) {
      node.status = e.corridor_status;
      node.violations = e.violations;
    }
    this.lastStatus = e.corridor_status;
    this.statusFrom = { kind: "event" };
    if (!check) return;
    // Status is derived from the file's own q values so a drift we cannot reproduce does not cascade.
    const q = this.lastQ?.step_id === node.id ? this.lastQ : (this.freshQ ?? st.metrics());
    const s = st.status(q);
    if (s.corridor_status !== e.corridor_status || !sameList(s.violations, e.violations)) {
      out.push({
        line,
        field: "/corridor_status",
        code: "status_mismatch",
        message: `status is ${e.corridor_status} [${e.violations.join(", ")}], recomputed ${s.corridor_status} [${s.violations.join(", ")}]`,
        severity: "warning",
      });
    }
    this.fresh = false;
  }
}

/** Without the schema check, still refuse what the replay cannot even look at. */
function shapeIssues(value: unknown, line: number): CTFIssue[] {
  if (value !== null && typeof value === "object" && EVENT_TYPES.includes((value as { type: CTFEventType }).type))
    return [];
  return [{ line, field: "/type", code: "unknown_type", message: "not a CTF event object", severity: "error" }];
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface ValidationReport {
  issues: CTFIssue[];
  errors: number;
  warnings: number;
  events: number;
  lines: number;
  truncated: boolean;
  validator: CTFValidator;
}

function report(v: CTFValidator, lines: number): ValidationReport {
  const issues = v.finish();
  const errors = issues.filter((i) => i.severity === "error").length;
  return {
    issues,
    errors,
    warnings: issues.length - errors,
    events: v.events,
    lines,
    truncated: v.truncated,
    validator: v,
  };
}

/**
 * Streams a .ctf file through the validator. Lines in RTT's own step/q/status form are read without JSON.parse
 * and without the schema pass their template already implies (fast-lines.ts); every other line goes the general
 * way (parse, line guards, schema). The rules and the replay see every event either way.
 */
export async function validateCTFFile(path: string, opts?: ValidatorOptions): Promise<ValidationReport> {
  const v = new CTFValidator({ keepDescriptions: false, ...opts });
  const lines = await readByteLines(path, (buf, start, end, line, terminated) => {
    const c = terminated ? buf[start + 9] : undefined; // the first letter of the type in {"type":"…
    const fast =
      c === 0x73 // s: step or status
        ? buf[start + 11] === 0x65 // e: step
          ? matchStep(buf, start, end)
          : matchStatus(buf, start, end)
        : c === 0x71 && matchQ(buf, start, end)
          ? qEvent()
          : null;
    if (fast) {
      v.push(fast, line, true);
      return;
    }
    const value = parseLine(buf.toString("utf8", start, end), line, terminated);
    if (value instanceof BadLine) v.pushIssue(value.issue);
    else v.push(value, line);
  });
  return report(v, lines);
}

/** Validates an in-memory trace. */
export function validateCTFText(text: string, opts?: ValidatorOptions): ValidationReport {
  const v = new CTFValidator(opts);
  const lines = parseCTFText(text, (l) => (l.issue ? v.pushIssue(l.issue) : v.push(l.value, l.line)));
  return report(v, lines);
}
