import { createAjv, type ErrorObject, type ValidateFunction } from "@rtt/core";
import { readCtfSchema } from "./spec.js";
import { type CTFEventType, type CTFIssue, EVENT_TYPES } from "./types.js";

let validators: Map<string, ValidateFunction> | undefined;

/** Compiles the six event schemas once; all-errors so one bad line reports every bad field. */
function compiled(): Map<string, ValidateFunction> {
  if (!validators) {
    const ajv = createAjv("all-errors");
    ajv.addSchema(readCtfSchema("corridor_spec"));
    const schemas = EVENT_TYPES.map((t) => [t, readCtfSchema(t)] as const);
    for (const [, s] of schemas) ajv.addSchema(s);
    validators = new Map(schemas.map(([t, s]) => [t, ajv.getSchema(s.$id as string)!]));
  }
  return validators;
}

/** Schema-checks one parsed line. Returns no issues for a valid event. */
export function validateEventSchema(value: unknown, line: number): CTFIssue[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return [{ line, field: "", code: "not_object", message: "a CTF line must be a JSON object", severity: "error" }];
  }
  const type = (value as { type?: unknown }).type;
  const validate = typeof type === "string" ? compiled().get(type) : undefined;
  if (!validate) {
    return [
      {
        line,
        field: "/type",
        code: "unknown_type",
        message: `expected type to be one of ${EVENT_TYPES.join(", ")}, got ${JSON.stringify(type)}`,
        severity: "error",
      },
    ];
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => toIssue(e, line, type as CTFEventType));
}

function toIssue(e: ErrorObject, line: number, type: CTFEventType): CTFIssue {
  let field = e.instancePath;
  if (e.keyword === "required") field += `/${(e.params as { missingProperty: string }).missingProperty}`;
  const message =
    e.keyword === "required"
      ? `${type} event is missing required field`
      : `${e.message ?? "invalid"}${e.keyword === "enum" ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(", ")})` : ""}`;
  return { line, field, code: "schema", message, severity: "error" };
}
