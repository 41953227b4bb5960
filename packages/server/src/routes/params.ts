import { type ErrorDetail, httpError } from "../errors.js";

/** A malformed parameter value inside parseQuery (never leaves it: it becomes one detail of the 400). */
export class ParamError extends Error {}

/** Parses one raw query value; throws ParamError on bad input. */
export type ParamParser<T> = (raw: string) => T;

export type ParamSpec = Record<string, ParamParser<unknown>>;

export type Parsed<S extends ParamSpec> = { [K in keyof S]?: ReturnType<S[K]> };

/**
 * Strict query parsing: unknown names, repeated names and malformed values are 400 with one detail each,
 * so a typo in a filter never silently returns unfiltered data.
 */
export function parseQuery<S extends ParamSpec>(query: unknown, spec: S): Parsed<S> {
  const out: Record<string, unknown> = {};
  const details: ErrorDetail[] = [];
  for (const [name, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    const parse = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (!parse) {
      details.push({ path: name, message: `unknown query parameter (allowed: ${Object.keys(spec).join(", ")})` });
      continue;
    }
    if (typeof value !== "string") {
      details.push({ path: name, message: "given more than once" });
      continue;
    }
    try {
      out[name] = parse(value);
    } catch (e) {
      details.push({ path: name, message: e instanceof ParamError ? e.message : "invalid value" });
    }
  }
  if (details.length) throw httpError("RTT_ERR_INVALID_QUERY", "invalid query parameters", details);
  return out as Parsed<S>;
}

/** A `from_t`/`to_t` pair, where given both, must not run backwards (a 400 naming from_t otherwise). */
export function assertTimeRange(q: { from_t?: number; to_t?: number }): void {
  if (q.from_t !== undefined && q.to_t !== undefined && q.from_t > q.to_t)
    throw httpError("RTT_ERR_INVALID_QUERY", "invalid query parameters", [
      { path: "from_t", message: "from_t is after to_t" },
    ]);
}

export const p = {
  string:
    (max = 1024): ParamParser<string> =>
    (raw) => {
      if (raw === "") throw new ParamError("must not be empty");
      if (raw.length > max) throw new ParamError(`longer than ${max} characters`);
      return raw;
    },
  number:
    (min = -Number.MAX_VALUE, max = Number.MAX_VALUE): ParamParser<number> =>
    (raw) => {
      const n = raw.trim() === "" ? Number.NaN : Number(raw);
      if (!Number.isFinite(n)) throw new ParamError(`expected a number, found ${JSON.stringify(raw.slice(0, 40))}`);
      if (n < min || n > max) throw new ParamError(`must be between ${min} and ${max}`);
      return n;
    },
  integer:
    (min: number, max: number): ParamParser<number> =>
    (raw) => {
      if (!/^-?\d{1,15}$/.test(raw))
        throw new ParamError(`expected an integer, found ${JSON.stringify(raw.slice(0, 40))}`);
      const n = Number(raw);
      if (n < min || n > max) throw new ParamError(`must be between ${min} and ${max}`);
      return n;
    },
  boolean: (): ParamParser<boolean> => (raw) => {
    if (raw === "true") return true;
    if (raw === "false") return false;
    throw new ParamError("expected true or false");
  },
  oneOf:
    <T extends string>(...values: T[]): ParamParser<T> =>
    (raw) => {
      if (!(values as string[]).includes(raw)) throw new ParamError(`expected one of ${values.join(", ")}`);
      return raw as T;
    },
  isoTime: (): ParamParser<number> => (raw) => {
    const ms = /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : Number.NaN;
    if (Number.isNaN(ms))
      throw new ParamError(`expected an ISO 8601 timestamp, found ${JSON.stringify(raw.slice(0, 40))}`);
    return ms;
  },
};
