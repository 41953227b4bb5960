/**
 * Input validation: routes declare `schema: {querystring, params, body}` as JSON Schema (built with `q` below),
 * compiled once by Ajv when the route is registered; one formatter turns Ajv's errors into the server's HttpError
 * with one detail per problem, worded the same everywhere (also for the diagnostics API's spec/beacon schemas).
 * Rules JSON Schema cannot express (from_t ≤ to_t, a cursor of this listing) stay as code and throw `invalid()`.
 */
import { escapePointer, unescapePointer } from "@rtt/core";
import type { ErrorObject } from "ajv";
import AjvModule from "ajv";
import type { FastifyInstance, FastifySchema } from "fastify";
import { type ErrorDetail, type HttpError, httpError } from "./errors.js";

// ajv is CommonJS: under NodeNext the constructor is on .default.
const Ajv = AjvModule.default;

/** A JSON Schema fragment. */
export type Schema = Record<string, unknown>;

/** `2026-01-02…` that Date.parse reads: what `from`/`to` of the session list take. */
export const TIMESTAMP_FORMAT = "rtt-timestamp";
const isTimestamp = (s: string) => /^\d{4}-\d{2}-\d{2}/.test(s) && !Number.isNaN(Date.parse(s));

/** Schema fragments; the formatter words each failure as `routes` always have (see `describeError`). */
export const q = {
  /** A non-empty string of at most `max` characters. */
  string: (max = 1024): Schema => ({ type: "string", minLength: 1, maxLength: max }),
  /** Any string of at most `max` characters (may be empty). */
  anyString: (max: number): Schema => ({ type: "string", maxLength: max }),
  /** A string matching `pattern`; a mismatch reads `expected <expected>, found "…"`. */
  pattern: (pattern: string, expected: string): Schema => ({ type: "string", pattern, description: expected }),
  /** A finite number (`finite`: a query's "Infinity" is read as a number, which Ajv's bounds then skip). */
  number: (min?: number, max?: number): Schema => ({
    type: "number",
    finite: true,
    ...(min === undefined ? {} : { minimum: min }),
    ...(max === undefined ? {} : { maximum: max }),
  }),
  integer: (min: number, max: number): Schema => ({ type: "integer", finite: true, minimum: min, maximum: max }),
  boolean: (): Schema => ({ type: "boolean" }),
  oneOf: <T extends string>(...values: T[]): Schema => ({ type: "string", enum: values }),
  /** An ISO 8601 timestamp (`YYYY-MM-DD…`); the route reads it with Date.parse. */
  timestamp: (): Schema => ({ type: "string", format: TIMESTAMP_FORMAT }),
  /** `schema` or null. */
  nullable: (schema: Schema): Schema => ({ ...schema, type: [schema.type, "null"] }),
  /** An object of these properties (all optional unless `required`); any other property is refused. */
  object: (properties: Record<string, Schema>, required: string[] = []): Schema => ({
    type: "object",
    properties,
    additionalProperties: false,
    ...(required.length ? { required } : {}),
  }),
};

/** The route schema of a route that takes no query parameters. */
export const NO_QUERY: FastifySchema = { querystring: q.object({}) };

/** A value in a message: strings quoted and cut at 40 characters, containers named. */
function found(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.slice(0, 40));
  if (Array.isArray(v)) return "an array";
  if (v !== null && typeof v === "object") return "an object";
  return String(v);
}

const TYPE_NAMES: Record<string, string> = {
  integer: "an integer",
  number: "a number",
  string: "a string",
  object: "an object",
  array: "an array",
  boolean: "true or false",
  null: "null",
};

/** One Ajv error in the words of the routes' messages (`inUrl`: query or path parameters, values unquoted). */
function describeError(e: ErrorObject, inUrl: boolean): string {
  const parent = (e.parentSchema ?? {}) as Schema;
  const expected = typeof parent.description === "string" ? parent.description : undefined;
  switch (e.keyword) {
    case "type": {
      const types = ([] as string[]).concat(e.params.type as string | string[]).flatMap((t) => t.split(","));
      if (types.length === 1 && types[0] === "boolean") return "expected true or false";
      return `expected ${types.map((t) => TYPE_NAMES[t] ?? t).join(" or ")}, found ${found(e.data)}`;
    }
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return `must be ${range(parent)}`;
    case "enum": {
      const values = e.params.allowedValues as unknown[];
      return `expected one of ${values.map((v) => (inUrl && typeof v === "string" ? v : JSON.stringify(v))).join(", ")}`;
    }
    case "minLength":
      return e.params.limit === 1 ? "must not be empty" : `shorter than ${e.params.limit} characters`;
    case "maxLength":
      return `longer than ${e.params.limit} characters`;
    case "pattern":
      return expected ? `expected ${expected}, found ${found(e.data)}` : `does not match ${e.params.pattern}`;
    case "format":
      return e.params.format === TIMESTAMP_FORMAT
        ? `expected an ISO 8601 timestamp, found ${found(e.data)}`
        : `expected ${expected ?? `a ${e.params.format}`}, found ${found(e.data)}`;
    case "finite":
      return `expected a number, found ${found(e.data)}`;
    case "const":
      return `expected ${JSON.stringify(e.params.allowedValue)}`;
    case "required":
      return "is required";
    default:
      return e.message ?? "is invalid";
  }
}

/** The bounds of a number schema: "between 1 and 500", "at least 0", "above 0 and at most 1000000". */
function range(s: Schema): string {
  const lo =
    typeof s.exclusiveMinimum === "number"
      ? `above ${s.exclusiveMinimum}`
      : typeof s.minimum === "number"
        ? `at least ${s.minimum}`
        : undefined;
  const hi =
    typeof s.exclusiveMaximum === "number"
      ? `below ${s.exclusiveMaximum}`
      : typeof s.maximum === "number"
        ? `at most ${s.maximum}`
        : undefined;
  if (typeof s.minimum === "number" && typeof s.maximum === "number") return `between ${s.minimum} and ${s.maximum}`;
  return [lo, hi].filter(Boolean).join(" and ");
}

/** Composite keywords whose failure a branch's own error explains better (when there is one at the same place). */
const COMPOSITE = new Set(["anyOf", "oneOf", "if"]);

/** Where a request part's problems are reported: `querystring`, `params`, `headers` (URL parts) or `body`. */
export type RequestPart = "body" | "querystring" | "params" | "headers";

export interface FormatOptions {
  /** URL-part details named `query/<name>` / `params/<name>` (the diagnostics API) instead of `<name>`. */
  prefixUrlPaths?: boolean;
}

/**
 * Ajv errors as details. Body: one detail per distinct (JSON pointer, message). URL parts: one detail per
 * parameter, named by the parameter; an array value is a parameter given more than once.
 */
export function formatSchemaErrors(errors: ErrorObject[], part: RequestPart, opts: FormatOptions = {}): ErrorDetail[] {
  const inUrl = part !== "body";
  // A composite keyword's failure (anyOf, oneOf, and a `const` alternative such as speed's "max") only speaks
  // when no branch says more at the same place; `if` never does (its `then` names the problem).
  const noise = (e: ErrorObject) =>
    COMPOSITE.has(e.keyword) || (e.keyword === "const" && e.schemaPath.includes("/anyOf/"));
  const specific = new Set(errors.filter((e) => !noise(e)).map((e) => e.instancePath));
  const details: ErrorDetail[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === "if" || (noise(e) && specific.has(e.instancePath))) continue;
    let pointer = e.instancePath;
    let message: string;
    if (e.keyword === "required") pointer = `${pointer}/${escapePointer(String(e.params.missingProperty))}`;
    if (e.keyword === "additionalProperties" || e.keyword === "propertyNames") {
      const name = String(e.keyword === "propertyNames" ? e.params.propertyName : e.params.additionalProperty);
      pointer = `${pointer}/${escapePointer(name)}`;
      message = e.keyword === "propertyNames" ? "is not a valid name (1 to 256 characters)" : unknownName(e, part);
    } else message = inUrl && Array.isArray(e.data) ? "given more than once" : describeError(e, inUrl);
    let path = pointer;
    if (inUrl) {
      const name = unescapePointer(pointer.split("/")[1] ?? "");
      const prefix = part === "querystring" ? "query" : part;
      path = opts.prefixUrlPaths ? `${prefix}/${name}` : name;
    }
    // One detail per URL parameter; in a body one per distinct problem.
    const key = inUrl ? path : `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    details.push({ path, message });
  }
  return details;
}

function unknownName(e: ErrorObject, part: RequestPart): string {
  const parent = (e.parentSchema ?? {}) as Schema;
  const names = Object.keys((parent.properties ?? {}) as Schema);
  const what = part === "querystring" ? "query parameter" : part === "params" ? "path parameter" : "field";
  if (parent.patternProperties) return `is not an allowed ${what}`;
  return `unknown ${what} (${names.length ? `allowed: ${names.join(", ")}` : "none allowed"})`;
}

const MESSAGES: Record<RequestPart, string> = {
  querystring: "invalid query parameters",
  params: "invalid path parameters",
  headers: "invalid request headers",
  body: "invalid request body",
};

/** The 400 of invalid input in one request part: RTT_ERR_INVALID_QUERY for the query, else RTT_ERR_INVALID_INPUT. */
export function invalid(part: RequestPart, details: ErrorDetail[], message = MESSAGES[part]): HttpError {
  return httpError(part === "querystring" ? "RTT_ERR_INVALID_QUERY" : "RTT_ERR_INVALID_INPUT", message, details);
}

/** Fastify's `schemaErrorFormatter`: every route schema failure as the one HttpError shape. */
export function schemaErrorFormatter(opts: FormatOptions = {}) {
  return (errors: ErrorObject[], dataVar: string): Error =>
    invalid(dataVar as RequestPart, formatSchemaErrors(errors, dataVar as RequestPart, opts));
}

let routeAjvs: { url: ReturnType<typeof routeAjv>; body: ReturnType<typeof routeAjv> } | undefined;

/** Ajv for route schemas: URL parts are strings read as the declared types; bodies are taken as sent. */
function routeAjv(coerceTypes: boolean) {
  const ajv = new Ajv({
    coerceTypes,
    allErrors: true,
    verbose: true,
    removeAdditional: false,
    useDefaults: false,
    allowUnionTypes: true,
    strict: true,
  });
  ajv.addFormat(TIMESTAMP_FORMAT, { type: "string", validate: isTimestamp });
  ajv.addKeyword({
    keyword: "finite",
    schemaType: "boolean",
    errors: false,
    validate: (finite: boolean, data: unknown) => !finite || typeof data !== "number" || Number.isFinite(data),
  });
  return ajv;
}

/**
 * Route schemas of this scope (and the scopes inside it) compiled by these Ajv instances and answered through the
 * one formatter. Called by the app for every route; by the CTF and diagnostics plugins for embedders.
 */
export function installValidation(app: FastifyInstance, opts: FormatOptions = {}): void {
  // One pair for the process: every scope that installs validation (the app, the CTF and diagnostics plugins,
  // each test server) compiles through the same two instances instead of building its own.
  routeAjvs ??= { url: routeAjv(true), body: routeAjv(false) };
  const { url, body } = routeAjvs;
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === "body" ? body : url).compile(schema));
  app.setSchemaErrorFormatter(schemaErrorFormatter(opts));
}
