import {
  checkReference,
  compareSamples,
  formatIssue,
  runSimulation,
  type Sample,
  type SessionLog,
  validateSessionLog,
} from "@rtt/core";
import type { ConformanceCase, WireState } from "./cases.js";

export type Status = "pass" | "fail" | "skip";

/** How one reply was judged. `message` is one line that names the case's problem (sample and field when numeric). */
export interface Judgement {
  status: Status;
  message?: string;
  /** Further lines (all validator errors, warnings). */
  details: string[];
  /** JSON pointer into the reply of the first problem, when there is one. */
  path?: string;
  /** The implementation itself failed (its reply is not JSON, or it said `errored`): its stderr is worth showing. */
  implementationFailed?: boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function expectedSamples(initial: WireState, dt: number, steps: number): Sample[] {
  return runSimulation(steps, dt, { t: initial.t, C: initial.C, D: initial.D, Q: initial.Q, R: initial.R });
}

function show(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

/** A JSON rendering for "expected … found …" messages (strings quoted, undefined spelled out). */
const q = (v: unknown) => (v === undefined ? "nothing" : show(JSON.stringify(v)));

const fail = (message: string, path?: string, details: string[] = []): Judgement => ({
  status: "fail",
  message,
  path,
  details,
});

/** Judges one reply line against its case: protocol shape, validator (schema + semantics), metadata, samples. */
export function judgeReply(c: ConformanceCase, line: string, tolerance: number): Judgement {
  let reply: unknown;
  try {
    reply = JSON.parse(line);
  } catch (err) {
    return {
      ...fail(`reply is not JSON (${(err as Error).message}): ${show(line.slice(0, 200))}`),
      implementationFailed: true,
    };
  }
  if (!isObj(reply)) return fail(`reply must be a JSON object, found ${show(reply)}`);
  if ("skipped" in reply) return { status: "skip", message: show(reply.skipped), details: [] };
  if ("errored" in reply)
    return { ...fail(`implementation errored: ${show(reply.errored)}`), implementationFailed: true };

  const result = validateSessionLog(reply, { strictLabels: true });
  const warnings = result.warnings.map((w) => `warning ${formatIssue(w)}`);
  if (!result.ok) {
    const [first] = result.errors;
    const why = first ? formatIssue(first) : "invalid";
    return fail(`session log rejected by the validator: ${why}`, first?.path, [
      ...result.errors.map(formatIssue),
      ...warnings,
    ]);
  }
  if (result.specVersion !== c.spec_version) {
    return fail(
      `spec version: expected a ${c.spec_version} log, found a ${result.specVersion} log`,
      "/spec_version",
      warnings,
    );
  }
  for (const [k, want] of Object.entries(c.session)) {
    if (reply[k] !== want) {
      return fail(`/${k}: expected ${q(want)} (from the case's session), found ${q(reply[k])}`, `/${k}`, warnings);
    }
  }

  if (c.spec_version === "v1") {
    const issues = compareSamples(
      reply.samples as Sample[],
      expectedSamples(c.initial_state!, c.dt!, c.steps!),
      "/samples",
      tolerance,
      "samples",
    );
    const [issue] = issues;
    if (issue) return fail(issue.message, issue.path, warnings);
    return referenceCheck(c, reply, warnings);
  }

  const segs = reply.segments;
  const want = c.segments ?? [];
  if (!Array.isArray(segs)) return fail("/segments: a v2 case expects segments[] in the log", "/segments", warnings);
  if (segs.length !== want.length) {
    return fail(`/segments: expected ${want.length} segments, found ${segs.length}`, "/segments", warnings);
  }
  for (const [i, w] of want.entries()) {
    const got = segs[i] as Record<string, unknown>;
    for (const k of ["segment_id", "label"] as const) {
      if (got[k] !== w[k]) {
        return fail(`/segments/${i}/${k}: expected ${q(w[k])}, found ${q(got[k])}`, `/segments/${i}/${k}`, warnings);
      }
    }
    const issues = compareSamples(
      got.samples as Sample[],
      expectedSamples(w.initial_state, w.dt, w.steps),
      `/segments/${i}/samples`,
      tolerance,
      `segment ${i} (${w.label})`,
    );
    const [issue] = issues;
    if (issue) return fail(issue.message, issue.path, warnings);
  }
  return referenceCheck(c, reply, warnings);
}

/** Cases marked `reference` are also held against the spec's reference files (the rtt-validate --conformance gate). */
function referenceCheck(c: ConformanceCase, log: Record<string, unknown>, warnings: string[]): Judgement {
  if (!c.reference) return { status: "pass", details: warnings };
  const issues = checkReference(log as unknown as SessionLog);
  const [first] = issues;
  if (!first) return { status: "pass", details: warnings };
  return fail(`reference files: ${first.message}`, first.path, [...issues.map(formatIssue), ...warnings]);
}
