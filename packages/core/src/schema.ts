import { type AjvMode, createAjv, type ErrorObject, type ValidateFunction } from "./ajv.js";
import { describeValue } from "./describe.js";
import { escapePointer } from "./json-guard.js";
import { profileV2, schemaV1, schemaV2 } from "./spec.js";
import type { SpecVersion, ValidationIssue } from "./types.js";

interface Compiled {
  /** First-error validator: the fast path for the common valid case. */
  fast: ValidateFunction;
  /** All-errors validator, run only when `fast` rejects, so the report names every problem. */
  full: ValidateFunction;
}

const compiled = new Map<string, Compiled>();

/**
 * Stable codes of the profile's findings, by where in the log they are (first match wins). The profile schema is
 * the rule; this table names it. Documented in spec/VALIDATION.md.
 */
export const PROFILE_CODES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\/device_type$/, "DEVICE_TYPE_UNKNOWN"],
  [/^\/operator_id$/, "OPERATOR_ID_NOT_URN"],
  [/^\/extensions(\/|$)/, "EXTENSION_UNKNOWN"],
  [/^\/triadic(\/|$)|\/samples\/\d+\/triadic(\/|$)/, "TRIADIC_SHAPE"],
  [/^\/(sample|segment|anomaly)_count$/, "COUNT_NOT_INTEGER"],
  [/^\/score_final$/, "SCORE_FINAL_NOT_NUMBER"],
  [/\/details$/, "ANOMALY_DETAILS_NOT_OBJECT"],
  [/^\/session_id$|\/segment_id$|\/label$|\/anomalies\/\d+\/type$/, "EMPTY_ID"],
];
/** Code of a profile finding no entry of PROFILE_CODES names (a rule added without a code). */
export const PROFILE_FALLBACK_CODE = "PROFILE_RULE";

function compile(key: string, schema: Record<string, unknown>): Compiled {
  let c = compiled.get(key);
  if (!c) {
    // All-errors keeps the offending value on each error (`verbose`) so messages can say what was found.
    const make = (mode: AjvMode) => {
      return createAjv(mode).compile(schema);
    };
    c = { fast: make("first-error"), full: make("all-errors") };
    compiled.set(key, c);
  }
  return c;
}

/**
 * Stage 1: the seed's JSON Schema of the log's version (spec/v1, spec/v2 rttinside_session_schema.json).
 * A failure here is an error whatever the options: the log is not a session log of the standard.
 */
export function validateSchema(log: unknown, version: SpecVersion): ValidationIssue[] {
  const { fast, full } = compile(version, version === "v1" ? schemaV1() : schemaV2());
  return report(fast, full, log, (e) => `SCHEMA_${e.keyword.toUpperCase()}`);
}

/**
 * Stage 1b: the project's profile of a schema-valid log (spec/v2/rtt_profile.schema.json; v1 has none): rules the
 * seed recommends but its schema does not require (the device_type list, URN operator ids, the extension names,
 * the shapes inside `triadic`, integer counts, non-empty ids). Findings carry the rule's stable code and are
 * warnings; `validateSessionLog(…, {strict: true})` makes them errors.
 */
export function validateProfile(log: unknown, version: SpecVersion): ValidationIssue[] {
  if (version === "v1") return [];
  const { fast, full } = compile("profile-v2", profileV2());
  return report(fast, full, log, (e) => profileCode(e.instancePath));
}

function profileCode(path: string): string {
  for (const [re, code] of PROFILE_CODES) if (re.test(path)) return code;
  return PROFILE_FALLBACK_CODE;
}

function report(
  fast: ValidateFunction,
  full: ValidateFunction,
  log: unknown,
  codeOf: (e: ErrorObject) => string,
): ValidationIssue[] {
  if (fast(log)) return [];
  full(log);
  const errors = full.errors ?? [];
  // An anyOf failure already says "one of these"; the failing branches' own errors would only repeat it.
  const anyOfAt = new Set(errors.filter((e) => e.keyword === "anyOf").map((e) => e.instancePath));
  const kept = errors.filter(
    (e) =>
      !(anyOfAt.has(e.instancePath) && /\/anyOf\/\d+\//.test(e.schemaPath)) &&
      // propertyNames reports the bad name twice (the inner rule and the wrapper); keep the inner, specific one.
      e.keyword !== "propertyNames",
  );
  return dedupe(kept.map((e) => toIssue(e, codeOf(e))));
}

function dedupe(issues: ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\0${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function toIssue(e: ErrorObject, code: string): ValidationIssue {
  const p = e.params as Record<string, unknown>;
  const path = e.instancePath;
  if (e.propertyName !== undefined) {
    return { code, path, message: `property name ${JSON.stringify(e.propertyName)} ${e.message ?? "is invalid"}` };
  }
  switch (e.keyword) {
    case "required":
      return {
        code,
        path: `${path}/${escapePointer(String(p.missingProperty))}`,
        message: `missing required property '${p.missingProperty}'`,
      };
    case "additionalProperties":
      return {
        code,
        path: `${path}/${escapePointer(String(p.additionalProperty))}`,
        message: `unexpected property '${p.additionalProperty}' (only ${Object.keys(
          (e.parentSchema as { properties?: object })?.properties ?? {},
        ).join(", ")} allowed here)`,
      };
    case "type":
      return { code, path, message: `expected ${p.type}, found ${describeValue(e.data)}` };
    case "const":
      return { code, path, message: `expected ${JSON.stringify(p.allowedValue)}, found ${describeValue(e.data)}` };
    case "enum":
      return {
        code,
        path,
        message: `expected one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}, found ${describeValue(e.data)}`,
      };
    case "anyOf":
      return {
        code,
        path,
        message: "expected at least one of 'samples' or 'segments' (see spec/v2/schema_changes.md)",
      };
    default:
      return { code, path, message: `${e.message ?? "invalid"}, found ${describeValue(e.data)}` };
  }
}
