import { computeTopLevel, isV2 } from "./session.js";
import { segmentLabels } from "./spec.js";
import type { Anomaly, Sample, SessionLog, ValidationIssue } from "./types.js";

/** Stable codes of the checks a JSON Schema cannot express. Documented in spec/v2/README.md. */
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

export interface SemanticReport {
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
}

/** Runs on a schema-valid log only, so field types can be trusted here. */
export function checkSemantics(log: SessionLog, opts: SemanticOptions = {}): SemanticReport {
  const errors: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  if (log.samples) checkMonotonic(log.samples, "/samples", errors);

  if (isV2(log) && log.segments) {
    const vocabulary = new Set(segmentLabels());
    const seen = new Map<string, number>();
    log.segments.forEach((seg, i) => {
      const at = `/segments/${i}`;
      checkMonotonic(seg.samples, `${at}/samples`, errors);
      const first = seen.get(seg.segment_id);
      if (first !== undefined) {
        errors.push({
          code: SemanticCode.DUPLICATE_SEGMENT_ID,
          path: `${at}/segment_id`,
          message: `segment_id ${JSON.stringify(seg.segment_id)} already used by /segments/${first}`,
        });
      } else seen.set(seg.segment_id, i);
      if (!vocabulary.has(seg.label)) {
        (opts.strictLabels ? errors : warnings).push({
          code: SemanticCode.UNKNOWN_SEGMENT_LABEL,
          path: `${at}/label`,
          message: `label ${JSON.stringify(seg.label)} is not in the segment vocabulary (${[...vocabulary].join(", ")})`,
        });
      }
      checkAnomalyRange(seg.samples, seg.anomalies, at, errors);
    });
  }

  checkTopLevel(log, errors);
  return { errors, warnings };
}

function checkMonotonic(samples: Sample[], at: string, errors: ValidationIssue[]) {
  let prev = samples[0]?.t ?? Number.NEGATIVE_INFINITY;
  for (let i = 1; i < samples.length; i++) {
    const t = samples[i]!.t; // i < length
    if (t < prev) {
      errors.push({
        code: SemanticCode.T_NOT_MONOTONIC,
        path: `${at}/${i}/t`,
        message: `t must not decrease: expected >= ${prev} (sample ${i - 1}), found ${t}`,
      });
    }
    prev = t;
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
