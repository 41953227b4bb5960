import { type AjvMode, createAjv, type ErrorObject, type ValidateFunction } from "./ajv.js";
import { escapePointer } from "./json-guard.js";
import { schemaV1, schemaV2 } from "./spec.js";
import type { SpecVersion, ValidationIssue } from "./types.js";

interface Compiled {
  /** First-error validator: the fast path for the common valid case. */
  fast: ValidateFunction;
  /** All-errors validator, run only when `fast` rejects, so the report names every problem. */
  full: ValidateFunction;
}

const compiled = new Map<SpecVersion, Compiled>();

function compile(version: SpecVersion): Compiled {
  let c = compiled.get(version);
  if (!c) {
    const schema = version === "v1" ? schemaV1() : schemaV2();
    // All-errors keeps the offending value on each error (`verbose`) so messages can say what was found.
    const make = (mode: AjvMode) => createAjv(mode).compile(schema);
    c = { fast: make("first-error"), full: make("all-errors") };
    compiled.set(version, c);
  }
  return c;
}

export function validateSchema(log: unknown, version: SpecVersion): ValidationIssue[] {
  const { fast, full } = compile(version);
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
  return dedupe(kept.map(toIssue));
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

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === "object") return "an object";
  return String(value);
}

function toIssue(e: ErrorObject): ValidationIssue {
  const p = e.params as Record<string, unknown>;
  const path = e.instancePath;
  const code = `SCHEMA_${e.keyword.toUpperCase()}`;
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
      return { code, path, message: `expected ${p.type}, found ${describe(e.data)}` };
    case "const":
      return { code, path, message: `expected ${JSON.stringify(p.allowedValue)}, found ${describe(e.data)}` };
    case "enum":
      return {
        code,
        path,
        message: `expected one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}, found ${describe(e.data)}`,
      };
    case "anyOf":
      return {
        code,
        path,
        message: "expected at least one of 'samples' or 'segments' (see spec/v2/schema_changes.md)",
      };
    default:
      return { code, path, message: `${e.message ?? "invalid"}, found ${describe(e.data)}` };
  }
}
