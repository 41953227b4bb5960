import { type Ajv, createAjv, readSpecSchema, type ValidateFunction } from "@rtt/core";
import { FabricError } from "./errors.js";

/**
 * The fabric's documents, each with its schema in spec/fabric/<kind>.schema.json (shared pieces in defs.schema.json).
 * Add a kind here when its schema lands in spec/fabric/.
 */
export const FABRIC_SCHEMAS = [
  "agent",
  "manifest",
  "policy",
  "revoked",
  "overlay",
  "view",
  "plan",
  "routes",
  "topology",
  "index",
  "symbols",
  "tuned-profile",
] as const;
export type FabricSchema = (typeof FABRIC_SCHEMAS)[number] | (string & {});

let ajv: Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

function validator(kind: FabricSchema): ValidateFunction {
  let v = compiled.get(kind);
  if (!v) {
    if (!ajv) {
      ajv = createAjv("all-errors");
      ajv.addSchema(readSpecSchema("fabric/defs.schema.json"));
    }
    v = ajv.compile(readSpecSchema(`fabric/${kind}.schema.json`));
    compiled.set(kind, v);
  }
  return v;
}

export interface SchemaProblem {
  /** JSON pointer into the document ("" for the whole). */
  path: string;
  message: string;
}

/** Every problem of `value` against spec/fabric/<kind>.schema.json; empty when valid. */
export function schemaProblems(kind: FabricSchema, value: unknown): SchemaProblem[] {
  const v = validator(kind);
  if (v(value)) return [];
  return (v.errors ?? []).map((e) => ({
    path: e.instancePath,
    message:
      e.keyword === "additionalProperties"
        ? `unknown member ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`
        : (e.message ?? e.keyword),
  }));
}

/** Throws RTT_FABRIC_INVALID naming `where` and the first problems (pointer + reason) when `value` breaks its schema. */
export function assertSchema(kind: FabricSchema, value: unknown, where: string): void {
  const problems = schemaProblems(kind, value);
  if (problems.length === 0) return;
  const shown = problems
    .slice(0, 5)
    .map((p) => `${p.path || "/"} ${p.message}`)
    .join("; ");
  const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : "";
  throw new FabricError("RTT_FABRIC_INVALID", `not a valid ${kind}: ${shown}${more}`, where);
}
