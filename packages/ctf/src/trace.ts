import { parseCTFText, readCTFFile } from "./reader.js";
import type { StepNode } from "./step-tree.js";
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
}

function collector(opts: ValidatorOptions) {
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
    return {
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
    };
  };
  return { v, done };
}

/** Loads a trace from a file. Defaults favour speed (no recomputation); pass options to validate fully. */
export async function loadTrace(path: string, opts: ValidatorOptions = { recompute: false }): Promise<LoadedTrace> {
  const { v, done } = collector(opts);
  await readCTFFile(path, (l) => (l.issue ? v.pushIssue(l.issue) : v.push(l.value, l.line)));
  return done();
}

export function loadTraceText(text: string, opts: ValidatorOptions = { recompute: false }): LoadedTrace {
  const { v, done } = collector(opts);
  parseCTFText(text, (l) => (l.issue ? v.pushIssue(l.issue) : v.push(l.value, l.line)));
  return done();
}
