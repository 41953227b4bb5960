/**
 * Request validation against the JSON Schemas in spec/beacon/ (the contract; code never re-types it).
 * @rtt/core finds spec/ (RTT_SPEC_DIR or walking up) and makes the Ajv instance; the schemas are compiled once.
 */
import { createAjv, type ErrorObject, readSpecSchema, type ValidateFunction } from "@rtt/core";
import { formatSchemaErrors } from "@rtt/http";
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

/** The spec's errors worded by the one route-schema formatter (@rtt/http), JSON pointers into the body. */
export function formatErrors(errors: ErrorObject[]): ErrorDetail[] {
  return formatSchemaErrors(errors, "body");
}

/** Validates a site name taken from the URL against the spec's site definition. */
export function checkSite(value: unknown, path: string): string {
  load();
  const validate = siteValidator!;
  if (validate(value)) return value as string;
  throw new InputError("invalid site", [
    { path, message: "must be 1-128 characters: letters, digits, '.', '_', ':', '-', starting with a letter or digit" },
  ]);
}
