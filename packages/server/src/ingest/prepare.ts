import { createHash } from "node:crypto";
import {
  describeParseError,
  duplicateKeyMessage,
  findDuplicateKey,
  findNonFinite,
  inspectParsed,
  MAX_JSON_DEPTH,
  mayRepeatKey,
  type SessionLog,
  scanJson,
  summarizeSession,
  type ValidationIssue,
  validateSessionLog,
} from "@rtt/core";
import type { ErrorDetail } from "@rtt/http";
import type { RejectReason } from "../metrics.js";
import { type Derived, deriveSession, storageChecks } from "./derive.js";

export interface PreparedSession {
  /** The parsed document (prepared off the request thread: parsed again from `raw` when first read). */
  log: SessionLog;
  /** The bytes exactly as received; stored and exported unchanged. */
  raw: Buffer;
  sha256: string;
  derived: Derived;
  warnings: ValidationIssue[];
  /** core's `summarizeSession(log)` for the mastery rule, when already computed (sessions with an operator). */
  masterySummary?: unknown;
}

export interface Rejection {
  reason: RejectReason;
  error: string;
  details: ErrorDetail[];
}

export type PrepareResult = { ok: true; session: PreparedSession } | ({ ok: false } & Rejection);

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

const SCHEMA_CODES = new Set(["NOT_AN_OBJECT", "SPEC_VERSION_UNKNOWN"]);

const reject = (reason: RejectReason, error: string, details: ErrorDetail[] = []): PrepareResult => ({
  ok: false,
  reason,
  error,
  details,
});

/**
 * Bodies up to this size are parsed before their depth is known: JSON.parse is iterative and its cost is bounded
 * by the size (32 KiB nested to the end: ~2 ms, against ~0.2 ms for a session log of that size), so the depth is read off the walk after the parse and the
 * byte scan runs only to word a refusal. Larger ones are scanned first: nesting is what makes JSON.parse slow
 * (millions of levels take seconds), and the scan is cheap next to their parse.
 */
export const PARSE_FIRST_BYTES = 32 * 1024;

/** The refusal of a body nested deeper than MAX_JSON_DEPTH, located by the byte scan; undefined if it is not. */
function tooDeep(raw: Buffer): PrepareResult | undefined {
  const at = scanJson(raw).deepAt;
  return at < 0 ? undefined : reject("bad_json", `JSON nested deeper than ${MAX_JSON_DEPTH} levels (at byte ${at})`);
}

/** Raw bytes → parsed, validated (schema + semantics + storage rules), derived session — or a located rejection. */
export function prepareSession(raw: Buffer): PrepareResult {
  if (isBlank(raw)) return reject("bad_json", "empty body");
  if (raw.length > PARSE_FIRST_BYTES) {
    const deep = tooDeep(raw);
    if (deep) return deep;
  }
  // Depth is checked before any other problem of the body, so its refusal is the same either way.
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    return tooDeep(raw) ?? reject("bad_json", "body is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return tooDeep(raw) ?? reject("bad_json", describeParseError(e, text.length));
  }
  // One bounded walk of the parsed value stands in for a byte scan: depth, members, colons in strings, non-finite.
  const shape = inspectParsed(value);
  if (shape.members < 0) return tooDeep(raw) ?? reject("bad_json", `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  const dup = mayRepeatKey(text, shape) ? findDuplicateKey(text) : undefined;
  if (dup)
    return reject("bad_json", duplicateKeyMessage(dup), [
      { path: dup.path, message: `duplicate key ${JSON.stringify(dup.key)}` },
    ]);
  const nonFinite = shape.nonFinite ? findNonFinite(value) : undefined;
  if (nonFinite !== undefined)
    return reject("schema", "session log does not match the schema", [
      { path: nonFinite, message: "number out of range (not a finite double)" },
    ]);
  const result = validateSessionLog(value);
  if (!result.ok) {
    const schema = result.specVersion === null || result.errors.some((e) => e.code.startsWith("SCHEMA_"));
    const isSchema = schema || result.errors.some((e) => SCHEMA_CODES.has(e.code));
    return reject(
      isSchema ? "schema" : "semantic",
      isSchema ? "session log does not match the schema" : "session log is inconsistent",
      result.errors.map((e) => ({ path: e.path, message: e.message })),
    );
  }
  const log = value as SessionLog;
  const problems = storageChecks(log);
  if (problems.length) return reject("semantic", "session log cannot be stored", problems);
  const derived = deriveSession(log);
  if (result.warnings.length) derived.summary.warnings = result.warnings;
  return {
    ok: true,
    session: {
      log,
      raw,
      sha256: createHash("sha256").update(raw).digest("hex"),
      derived,
      warnings: result.warnings,
    },
  };
}

/**
 * `rtt serve --strict`: a session accepted with warnings is refused instead, its warnings as the located errors.
 * (Preparation always runs lax, so one prepare pool serves strict and lax servers alike.)
 */
export function applyStrict(r: PrepareResult, strict: boolean): PrepareResult {
  if (!strict || !r.ok || r.session.warnings.length === 0) return r;
  return reject(
    "semantic",
    "session log breaks the server's strict rules (rtt serve --strict; spec/VALIDATION.md)",
    r.session.warnings.map((w) => ({ path: w.path, message: `${w.message} [${w.code}]` })),
  );
}

/** A warning as the 201 body and the batch results carry it: code, path, message (+ the flagged anomaly). */
export function warningJson(w: ValidationIssue) {
  return w.anomaly
    ? { code: w.code, path: w.path, message: w.message, anomaly: w.anomaly }
    : { code: w.code, path: w.path, message: w.message };
}

function isBlank(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return true;
}

/**
 * A PreparedSession as plain data, to cross a thread boundary: everything but the parsed document and the
 * bytes (the receiver has those), plus the mastery summary and the document's `mastery_level`.
 */
export type PreparedWire =
  | {
      ok: true;
      sha256: string;
      derived: Derived;
      warnings: ValidationIssue[];
      masterySummary?: unknown;
      masteryLevel: unknown;
    }
  | ({ ok: false } & Rejection);

/** The transferable form of a preparation (computed where `prepareSession` ran). */
export function toWire(r: PrepareResult): PreparedWire {
  if (!r.ok) return r;
  const p = r.session;
  return {
    ok: true,
    sha256: p.sha256,
    derived: p.derived,
    warnings: p.warnings,
    masterySummary: p.derived.columns.operator_id ? summarizeSession(p.log) : undefined,
    masteryLevel: (p.log as unknown as Record<string, unknown>).mastery_level,
  };
}

/** Back to a PrepareResult on the receiving thread; `raw` is the receiver's own copy of the bytes. */
export function fromWire(w: PreparedWire, raw: Buffer): PrepareResult {
  if (!w.ok) return { ok: false, reason: w.reason, error: w.error, details: w.details };
  return {
    ok: true,
    session: {
      log: lazyDocument(raw, w.masteryLevel),
      raw,
      sha256: w.sha256,
      derived: w.derived,
      warnings: w.warnings,
      masterySummary: w.masterySummary,
    },
  };
}

/**
 * The document of already validated bytes, parsed only when first needed: reading `mastery_level` (all the
 * Loki line of a compact document needs) does not parse; any other access, enumeration or change does, and
 * from then on the proxy is the parsed document.
 */
function lazyDocument(raw: Buffer, masteryLevel: unknown): SessionLog {
  let doc: Record<string | symbol, unknown> | undefined;
  const real = () => {
    doc ??= JSON.parse(utf8.decode(raw)) as Record<string | symbol, unknown>;
    return doc;
  };
  return new Proxy({} as Record<string | symbol, unknown>, {
    get: (_t, k) => (k === "mastery_level" && doc === undefined ? masteryLevel : real()[k]),
    has: (_t, k) => k in real(),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_t, k) => Reflect.getOwnPropertyDescriptor(real(), k),
    set: (_t, k, v) => Reflect.set(real(), k, v),
    defineProperty: (_t, k, d) => Reflect.defineProperty(real(), k, d),
    deleteProperty: (_t, k) => Reflect.deleteProperty(real(), k),
  }) as unknown as SessionLog;
}
