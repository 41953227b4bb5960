import { readFileSync } from "node:fs";
import { join } from "node:path";
import { specDir } from "@rtt/core";

/** A corridor state as sent on the wire (seed §8.1 fields only). */
export interface WireState {
  t: number;
  C: number;
  D: number;
  Q: number;
  R: number;
}

export interface SegmentCase {
  segment_id: string;
  label: string;
  initial_state: WireState;
  dt: number;
  steps: number;
}

/** One conformance case (spec/v1/conformance_protocol.md). */
export interface ConformanceCase {
  id: string;
  description?: string;
  spec_version: "v1" | "v2";
  /** Harness-only: also run the validator's reference conformance check (reference_samples.json / reference_segments.json). */
  reference?: boolean;
  /** String fields the implementation copies verbatim to the root of its log. */
  session: Record<string, string>;
  initial_state?: WireState;
  dt?: number;
  steps?: number;
  segments?: SegmentCase[];
}

export interface CaseFile {
  protocol_version?: number;
  numeric_tolerance?: number;
  cases: ConformanceCase[];
}

export const DEFAULT_TOLERANCE = 1e-9;

export function defaultCasesPath(): string {
  return join(specDir(), "v1", "conformance_cases.json");
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const FIELDS = ["t", "C", "D", "Q", "R"] as const;

function checkState(v: unknown, at: string): string[] {
  if (!isObj(v)) return [`${at}: must be an object with t, C, D, Q, R`];
  return FIELDS.filter((k) => typeof v[k] !== "number" || !Number.isFinite(v[k])).map(
    (k) => `${at}/${k}: must be a finite number`,
  );
}

function checkRun(v: Record<string, unknown>, at: string): string[] {
  const problems = checkState(v.initial_state, `${at}/initial_state`);
  if (typeof v.dt !== "number" || !Number.isFinite(v.dt)) problems.push(`${at}/dt: must be a finite number`);
  if (!Number.isInteger(v.steps) || (v.steps as number) < 0)
    problems.push(`${at}/steps: must be a non-negative integer`);
  return problems;
}

/** Structural check of a case file; returns problems as "JSON pointer: message" strings (empty when fine). */
export function checkCaseFile(data: unknown): string[] {
  if (!isObj(data) || !Array.isArray(data.cases)) return ["/cases: must be an array of cases"];
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const [i, c] of (data.cases as unknown[]).entries()) {
    const at = `/cases/${i}`;
    if (!isObj(c)) {
      problems.push(`${at}: must be an object`);
      continue;
    }
    if (typeof c.id !== "string" || c.id === "") problems.push(`${at}/id: must be a non-empty string`);
    else if (ids.has(c.id)) problems.push(`${at}/id: duplicate id ${JSON.stringify(c.id)}`);
    else ids.add(c.id);
    if (!isObj(c.session) || !Object.values(c.session).every((v) => typeof v === "string"))
      problems.push(`${at}/session: must be an object of strings`);
    if (c.spec_version === "v1") problems.push(...checkRun(c, at));
    else if (c.spec_version === "v2") {
      if (!Array.isArray(c.segments) || c.segments.length === 0)
        problems.push(`${at}/segments: a v2 case needs at least one segment`);
      else
        for (const [j, s] of (c.segments as unknown[]).entries()) {
          const sat = `${at}/segments/${j}`;
          if (!isObj(s)) {
            problems.push(`${sat}: must be an object`);
            continue;
          }
          if (typeof s.segment_id !== "string") problems.push(`${sat}/segment_id: must be a string`);
          if (typeof s.label !== "string") problems.push(`${sat}/label: must be a string`);
          problems.push(...checkRun(s, sat));
        }
    } else problems.push(`${at}/spec_version: must be "v1" or "v2"`);
  }
  return problems;
}

export function loadCases(path: string = defaultCasesPath()): CaseFile {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`cannot read cases file ${path}: ${(err as Error).message}`);
  }
  const problems = checkCaseFile(data);
  if (problems.length) throw new Error(`invalid cases file ${path}:\n  ${problems.join("\n  ")}`);
  return data as CaseFile;
}

/** The line the implementation receives: the protocol fields only, in a fixed order, no harness-only fields. */
export function caseToWire(c: ConformanceCase): string {
  const base = { id: c.id, spec_version: c.spec_version, session: c.session };
  if (c.spec_version === "v1") {
    return JSON.stringify({ ...base, initial_state: c.initial_state, dt: c.dt, steps: c.steps });
  }
  return JSON.stringify({
    ...base,
    segments: (c.segments ?? []).map((s) => ({
      segment_id: s.segment_id,
      label: s.label,
      initial_state: s.initial_state,
      dt: s.dt,
      steps: s.steps,
    })),
  });
}
