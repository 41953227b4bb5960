import { describeValue } from "./describe.js";
import { computeTopLevel, isV2 } from "./session.js";
import { segmentLabels } from "./spec.js";
import type { Anomaly, Sample, SessionLog, ValidationIssue } from "./types.js";

/**
 * Stable codes of the project's consistency rules, which a JSON Schema cannot express. None is a rule of the seed,
 * so each finding is a warning; `validateSessionLog(…, {strict: true})` makes them errors. Documented in
 * spec/VALIDATION.md.
 */
export const SemanticCode = {
  T_NOT_MONOTONIC: "T_NOT_MONOTONIC",
  COUNT_MISMATCH: "COUNT_MISMATCH",
  SCORE_FINAL_MISMATCH: "SCORE_FINAL_MISMATCH",
  ANOMALY_OUT_OF_SEGMENT: "ANOMALY_OUT_OF_SEGMENT",
  DUPLICATE_SEGMENT_ID: "DUPLICATE_SEGMENT_ID",
  UNKNOWN_SEGMENT_LABEL: "UNKNOWN_SEGMENT_LABEL",
} as const;

export interface SemanticOptions {
  /** Unknown segment labels are errors instead of warnings. */
  strictLabels?: boolean;
}

/** The taxonomy's type for `t` running backwards within a segment (spec/taxonomy/anomalies.json). */
export const TIME_SLIP_TYPE = "RESONANCE_TIME_SLIP";
/** Its severity when time runs backwards: the taxonomy's detector forces 5 ("thirty steps, or time ran backwards"). */
export const TIME_SLIP_SEVERITY = 5;

/** A place where `t` decreased: sample `index` has `t` below the previous sample's `t_before`. */
export interface TimeSlip {
  index: number;
  t: number;
  t_before: number;
}

/** Every backwards step of `t` in a series of samples (equal consecutive values are not a slip). */
export function findTimeSlips(samples: ReadonlyArray<{ t: number }>): TimeSlip[] {
  const out: TimeSlip[] = [];
  for (let i = 1; i < samples.length; i++) {
    const t = samples[i]!.t; // i < length
    const before = samples[i - 1]!.t;
    if (t < before) out.push({ index: i, t, t_before: before });
  }
  return out;
}

/**
 * The anomaly a time slip is flagged as: RESONANCE_TIME_SLIP, severity 5, at the time the clock had reached when
 * it jumped back (`t_before`: where a replay, whose clock never runs backwards, shows the slip); `details.t_to`
 * is the earlier `t` it jumped to.
 */
export function timeSlipAnomaly(slip: TimeSlip): Anomaly {
  return {
    t: slip.t_before,
    type: TIME_SLIP_TYPE,
    severity: TIME_SLIP_SEVERITY,
    details: { kinds: "backwards", sample_index: slip.index, t_to: slip.t, flagged_by: "validator" },
  };
}

export interface SemanticReport {
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
}

/**
 * Runs on a log that passed the seed's schema, so the seed's field types can be trusted here (the profile's may
 * not: counts are read only when they are numbers). Every finding is a warning, except an unknown segment label
 * under `strictLabels`.
 */
export function checkSemantics(log: SessionLog, opts: SemanticOptions = {}): SemanticReport {
  const errors: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  if (log.samples) checkMonotonic(log.samples, "/samples", warnings);
  // Unsegmented (v1, or v2 with root samples only) is one segment, as the adapter maps it: the same rules apply,
  // so a log and its upgrade get the same findings.
  if (log.samples && !(isV2(log) && log.segments)) checkAnomalyRange(log.samples, log.anomalies, "", warnings);

  if (isV2(log) && log.segments) {
    const vocabulary = new Set(segmentLabels());
    const seen = new Map<string, number>();
    log.segments.forEach((seg, i) => {
      const at = `/segments/${i}`;
      checkMonotonic(seg.samples, `${at}/samples`, warnings);
      const first = seen.get(seg.segment_id);
      if (first !== undefined) {
        warnings.push({
          code: SemanticCode.DUPLICATE_SEGMENT_ID,
          path: `${at}/segment_id`,
          message: `segment_id ${describeValue(seg.segment_id)} already used by /segments/${first}`,
        });
      } else seen.set(seg.segment_id, i);
      if (!vocabulary.has(seg.label)) {
        (opts.strictLabels ? errors : warnings).push({
          code: SemanticCode.UNKNOWN_SEGMENT_LABEL,
          path: `${at}/label`,
          message: `label ${describeValue(seg.label)} is not in the segment vocabulary (${[...vocabulary].join(", ")})`,
        });
      }
      checkAnomalyRange(seg.samples, seg.anomalies, at, warnings);
    });
  }

  checkTopLevel(log, warnings);
  return { errors, warnings };
}

/** A backwards `t` is a time slip: a warning that names the anomaly it is flagged as (RESONANCE_TIME_SLIP, 5). */
function checkMonotonic(samples: Sample[], at: string, out: ValidationIssue[]) {
  for (const slip of findTimeSlips(samples)) {
    out.push({
      code: SemanticCode.T_NOT_MONOTONIC,
      path: `${at}/${slip.index}/t`,
      message: `t must not decrease: expected >= ${slip.t_before} (sample ${slip.index - 1}), found ${slip.t} (${TIME_SLIP_TYPE}, severity ${TIME_SLIP_SEVERITY})`,
      anomaly: { type: TIME_SLIP_TYPE, severity: TIME_SLIP_SEVERITY },
    });
  }
}

function checkAnomalyRange(samples: Sample[], anomalies: Anomaly[] | undefined, at: string, errors: ValidationIssue[]) {
  if (!anomalies?.length) return;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const s of samples) {
    if (s.t < min) min = s.t;
    if (s.t > max) max = s.t;
  }
  anomalies.forEach((a, j) => {
    if (!(a.t >= min && a.t <= max)) {
      errors.push({
        code: SemanticCode.ANOMALY_OUT_OF_SEGMENT,
        path: `${at}/anomalies/${j}/t`,
        message:
          samples.length === 0
            ? `anomaly at t=${a.t} in a segment without samples`
            : `anomaly t must lie in the segment's time range [${min}, ${max}], found ${a.t}`,
      });
    }
  });
}

function checkTopLevel(log: SessionLog, errors: ValidationIssue[]) {
  const actual = computeTopLevel(log);
  for (const field of ["sample_count", "segment_count", "anomaly_count"] as const) {
    const declared = log[field];
    if (typeof declared !== "number") continue;
    // v1 logs have no segments; the seed lets them declare segment_count 0 or omit it.
    if (declared !== actual[field]) {
      errors.push({
        code: SemanticCode.COUNT_MISMATCH,
        path: `/${field}`,
        message: `${field} says ${declared} but the log contains ${actual[field]}`,
      });
    }
  }
  if (typeof log.score_final === "number" && log.score_final !== log.scores.final) {
    errors.push({
      code: SemanticCode.SCORE_FINAL_MISMATCH,
      path: "/score_final",
      message: `score_final must equal scores.final: expected ${log.scores.final}, found ${log.score_final}`,
    });
  }
}
