/**
 * Request validation against the JSON Schemas in spec/beacon/ (the contract; code never re-types it).
 * @rtt/core finds spec/ (RTT_SPEC_DIR or walking up) and makes the Ajv instance; the schemas are compiled once.
 */
import { createAjv, type ErrorObject, readSpecSchema, type ValidateFunction } from "@rtt/core";
import { type ErrorDetail, InputError } from "./errors.js";

/** Where the beacon schemas sit below spec/. */
export const BEACON_SPEC = "beacon";
const FILES = ["beacon", "profile", "validate", "corridor", "topology"] as const;
export type SchemaName = (typeof FILES)[number];

let compiled: Record<SchemaName, ValidateFunction> | undefined;
let siteValidator: ValidateFunction | undefined;

function load(): Record<SchemaName, ValidateFunction> {
  if (compiled) return compiled;
  // All-errors: a 400 names every offending field.
  const ajv = createAjv("all-errors");
  const ids = {} as Record<SchemaName, string>;
  for (const f of FILES) {
    const schema = readSpecSchema(`${BEACON_SPEC}/${f}.schema.json`);
    ajv.addSchema(schema);
    ids[f] = schema.$id as string;
  }
  siteValidator = ajv.getSchema(`${ids.beacon}#/$defs/site`)!;
  compiled = Object.fromEntries(FILES.map((f) => [f, ajv.getSchema(ids[f])!])) as Record<SchemaName, ValidateFunction>;
  return compiled;
}

/** Throws InputError (400) naming every offending field, or returns the value typed. */
export function check<T>(name: SchemaName, value: unknown, what: string): T {
  const validate = load()[name];
  if (validate(value)) return value as T;
  throw new InputError(`invalid ${what}`, formatErrors(validate.errors ?? []));
}

export function formatErrors(errors: ErrorObject[]): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    // `if` only says "the then-branch failed"; the branch's own error names the missing field.
    if (e.keyword === "if") continue;
    let path = e.instancePath;
    let message = e.message ?? "is invalid";
    if (e.keyword === "required") {
      path = `${path}/${escapePointer(String(e.params.missingProperty))}`;
      message = "is required";
    } else if (e.keyword === "additionalProperties") {
      path = `${path}/${escapePointer(String(e.params.additionalProperty))}`;
      message = "is not an allowed property";
    } else if (e.keyword === "enum") {
      message = `must be one of: ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    } else if (e.keyword === "propertyNames") {
      path = `${path}/${escapePointer(String(e.params.propertyName))}`;
      message = "is not a valid name (1 to 256 characters)";
    }
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    details.push({ path, message: path === "" ? `request body ${message}` : message });
  }
  return details;
}

const escapePointer = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");

/** Validates a site name taken from the URL against the spec's site definition. */
export function checkSite(value: unknown, path: string): string {
  load();
  const validate = siteValidator!;
  if (validate(value)) return value as string;
  throw new InputError("invalid site", [
    { path, message: "must be 1-128 characters: letters, digits, '.', '_', ':', '-', starting with a letter or digit" },
  ]);
}
