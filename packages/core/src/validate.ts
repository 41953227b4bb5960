import { describeValue } from "./describe.js";
import { checkReference } from "./reference-check.js";
import { validateProfile, validateSchema } from "./schema.js";
import { checkSemantics } from "./semantic.js";
import type { SessionLog, SpecVersion, ValidationIssue, ValidationResult } from "./types.js";

export interface ValidateOptions {
  /** Unknown segment labels become errors. */
  strictLabels?: boolean;
  /** Every warning (the project's rules beyond the seed's: profile and consistency) is an error. */
  strict?: boolean;
  /** Also compare the samples with the reference vectors (the rtt-validate gate). */
  conformance?: boolean;
}

/** Picks the schema from `spec_version`: absent → v1, "v2" → v2, anything else is an error of its own. */
export function detectSpecVersion(log: unknown): { version: SpecVersion } | { issue: ValidationIssue } {
  if (typeof log !== "object" || log === null || Array.isArray(log)) {
    const found = log === null ? "null" : Array.isArray(log) ? "an array" : typeof log;
    return {
      issue: { code: "NOT_AN_OBJECT", path: "", message: `a session log must be a JSON object, found ${found}` },
    };
  }
  const v = (log as { spec_version?: unknown }).spec_version;
  if (v === undefined) return { version: "v1" };
  if (v === "v2") return { version: "v2" };
  if (v === "v1") return { version: "v1" };
  return {
    issue: {
      code: "SPEC_VERSION_UNKNOWN",
      path: "/spec_version",
      message: `unsupported spec_version: expected "v2" (or absent for v1), found ${describeValue(v)}`,
    },
  };
}

/**
 * The seed's schema (errors), then the project's profile and consistency rules (warnings; errors under `strict`),
 * then (optionally) reference conformance (errors). Each stage runs only on what passed the last error stage.
 * Which rule is which: spec/VALIDATION.md.
 */
export function validateSessionLog(log: unknown, opts: ValidateOptions = {}): ValidationResult {
  const detected = detectSpecVersion(log);
  if ("issue" in detected) return { ok: false, specVersion: null, errors: [detected.issue], warnings: [] };
  const specVersion = detected.version;
  const schemaErrors = validateSchema(log, specVersion);
  if (schemaErrors.length) return { ok: false, specVersion, errors: schemaErrors, warnings: [] };
  const profile = validateProfile(log, specVersion);
  const semantic = checkSemantics(log as SessionLog, opts);
  let errors = semantic.errors;
  let warnings = [...profile, ...semantic.warnings];
  if (opts.strict) {
    errors = [...errors, ...warnings];
    warnings = [];
  }
  if (opts.conformance && errors.length === 0) errors.push(...checkReference(log as SessionLog));
  return { ok: errors.length === 0, specVersion, errors, warnings };
}

export function formatIssue(i: ValidationIssue): string {
  return `${i.path || "/"}: ${i.message} [${i.code}]`;
}
