import { createHash } from "node:crypto";
import { type SessionLog, type ValidationIssue, validateSessionLog } from "@rtt/core";
import type { ErrorDetail } from "../errors.js";
import type { RejectReason } from "../metrics.js";
import { type Derived, deriveSession, storageChecks } from "./derive.js";
import { describeParseError, findNonFinite, MAX_JSON_DEPTH, scanJson } from "./json-guard.js";

export interface PreparedSession {
  log: SessionLog;
  /** The bytes exactly as received; stored and exported unchanged. */
  raw: Buffer;
  sha256: string;
  derived: Derived;
  warnings: ValidationIssue[];
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

/** Raw bytes → parsed, validated (schema + semantics + storage rules), derived session — or a located rejection. */
export function prepareSession(raw: Buffer): PrepareResult {
  if (isBlank(raw)) return reject("bad_json", "empty body");
  const scan = scanJson(raw);
  if (scan.deepAt >= 0)
    return reject("bad_json", `JSON nested deeper than ${MAX_JSON_DEPTH} levels (at byte ${scan.deepAt})`);
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    return reject("bad_json", "body is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return reject("bad_json", describeParseError(e, text.length));
  }
  const nonFinite = scan.mayOverflow ? findNonFinite(value) : undefined;
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
  return {
    ok: true,
    session: {
      log,
      raw,
      sha256: createHash("sha256").update(raw).digest("hex"),
      derived: deriveSession(log),
      warnings: result.warnings,
    },
  };
}

function isBlank(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return true;
}
