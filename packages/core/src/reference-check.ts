import { isV2 } from "./session.js";
import {
  newReferenceSamples,
  type ReferenceSegmentSet,
  referenceSamples,
  referenceSegments,
  referenceVector,
} from "./spec.js";
import { SAMPLE_FIELDS, type Sample, type SessionLog, type ValidationIssue } from "./types.js";

export const ReferenceCheckCode = {
  NO_SAMPLES: "REF_NO_SAMPLES",
  LENGTH_MISMATCH: "REF_LENGTH_MISMATCH",
  VALUE_MISMATCH: "REF_VALUE_MISMATCH",
  SET_NOT_FOUND: "REF_SET_NOT_FOUND",
  SEGMENT_MISSING: "REF_SEGMENT_MISSING",
} as const;

/** Compares samples with a reference track; reports the first mismatch per track, as the seed's validator does. */
export function compareSamples(
  got: Sample[],
  want: Sample[],
  at: string,
  tolerance: number,
  what: string,
  /** The seed validator's wording (tools/rtt-validate/lib/samples*.js): `what` is "samples" or a segment label. */
  seedWording = false,
): ValidationIssue[] {
  if (got.length !== want.length) {
    return [
      {
        code: ReferenceCheckCode.LENGTH_MISMATCH,
        path: at,
        message: seedWording
          ? `${what === "samples" ? "Sample" : `Segment '${what}'`} length mismatch: got ${got.length}, expected ${want.length}`
          : `${what}: sample length mismatch: expected ${want.length}, found ${got.length}`,
      },
    ];
  }
  for (let i = 0; i < want.length; i++) {
    const gs = got[i]!; // same length as `want`, checked above
    const ws = want[i]!;
    for (const k of SAMPLE_FIELDS) {
      const g = gs[k];
      const w = ws[k];
      if (!(Math.abs(g - w) <= tolerance)) {
        return [
          {
            code: ReferenceCheckCode.VALUE_MISMATCH,
            path: `${at}/${i}/${k}`,
            message: seedWording
              ? `${what === "samples" ? "Mismatch" : `Segment '${what}' mismatch`} at sample ${i}, field ${k}: got ${g}, expected ${w}`
              : `${what}: mismatch at sample ${i}, field ${k}: expected ${w}, found ${g} (tolerance ${tolerance})`,
          },
        ];
      }
    }
  }
  return [];
}

export function findReferenceSet(log: SessionLog): ReferenceSegmentSet | undefined {
  const deviceType = (isV2(log) && log.device_type) || log.device;
  return referenceSegments().reference_sets.find(
    (s) => s.device_type === deviceType && s.scenario === log.scenario && s.difficulty === log.difficulty,
  );
}

/**
 * The reference check ("reference conformance") of a schema-valid log: its samples against the spec's reference
 * vectors. (The server's SelfCheckMonitor runs this on the engine's own runs; `rtt conformance` is the separate
 * cross-language kit in packages/cli/src/conformance-kit/.)
 * v1: root samples against spec/v1/reference_samples.json.
 * v2 with segments: every `required` segment label of the matching reference set is present with the same samples.
 * v2 with root samples only, or with the adapter's single `main` segment: that track against
 * spec/v2/new_reference_samples.json, as v1.
 */
export function checkReference(log: SessionLog): ValidationIssue[] {
  if (!isV2(log)) {
    return compareSamples(
      log.samples,
      referenceSamples(),
      "/samples",
      referenceVector().numeric_tolerance,
      "samples",
      true,
    );
  }
  const refs = referenceSegments();
  // Unsegmented v2 — root samples only, or the adapter's single `main` segment (an upgraded v1 log) — is checked
  // as v1 is: its one track against spec/v2/new_reference_samples.json, whatever the device. So every v1 log that
  // passes passes again once upgraded (spec/VALIDATION.md, "Reference check").
  const only = log.segments?.length === 1 && log.segments[0]!.label === "main" ? log.segments[0]! : undefined;
  if (!log.segments || only) {
    const at = only ? "/segments/0/samples" : "/samples";
    const samples = only ? only.samples : log.samples;
    if (!samples?.length) return [{ code: ReferenceCheckCode.NO_SAMPLES, path: at, message: "No samples found." }];
    return compareSamples(samples, newReferenceSamples(), at, refs.numeric_tolerance, "samples", true);
  }
  const set = findReferenceSet(log);
  if (!set) {
    const known = refs.reference_sets.map((s) => `${s.device_type}/${s.scenario}/${s.difficulty}`).join(", ");
    return [
      {
        code: ReferenceCheckCode.SET_NOT_FOUND,
        path: "",
        message: `No matching reference_set for device_type/scenario/difficulty (${log.device_type ?? log.device}/${log.scenario}/${log.difficulty}; known: ${known}).`,
      },
    ];
  }
  const tol = refs.numeric_tolerance;
  const issues: ValidationIssue[] = [];
  const byLabel = new Map(log.segments.map((s, i) => [s.label, { i, samples: s.samples }] as const));
  for (const [label, ref] of Object.entries(set.segments)) {
    if (!ref.required) continue;
    const seg = byLabel.get(label);
    if (seg === undefined) {
      issues.push({
        code: ReferenceCheckCode.SEGMENT_MISSING,
        path: "/segments",
        message: `Missing required segment label '${label}'. (reference set ${set.id})`,
      });
      if (!refs.validate_all_segments) break;
      continue;
    }
    issues.push(...compareSamples(seg.samples, ref.samples, `/segments/${seg.i}/samples`, tol, label, true));
    if (issues.length && !refs.validate_all_segments) break;
  }
  return issues;
}
