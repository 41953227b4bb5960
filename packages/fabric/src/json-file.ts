import { readFileSync } from "node:fs";
import { describeParseError, escapePointer, jsonProblem, MAX_JSON_DEPTH, scanJson } from "@rtt/core";
import { FabricError } from "./errors.js";

/** Keys refused anywhere in a fabric document: merged into a plain object they would rewrite its prototype. */
const FORBIDDEN_KEYS = new Set(["__proto__"]);

/** The JSON pointer of the first forbidden key, or undefined. Bounded by the depth the scan already checked. */
function forbiddenKey(v: unknown, at: string): string | undefined {
  if (v === null || typeof v !== "object") return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const hit = forbiddenKey(v[i], `${at}/${i}`);
      if (hit) return hit;
    }
    return undefined;
  }
  for (const k of Object.keys(v)) {
    if (FORBIDDEN_KEYS.has(k)) return `${at}/${escapePointer(k)}`;
    const hit = forbiddenKey((v as Record<string, unknown>)[k], `${at}/${escapePointer(k)}`);
    if (hit) return hit;
  }
  return undefined;
}

/**
 * Parses a fabric document (agent, overlay, manifest, policy, …): a UTF-8 BOM is skipped (RFC 8259 allows it),
 * nesting deeper than 64 levels, repeated keys and `__proto__` keys are refused. Every error names `where`.
 */
export function parseJsonText(text: string, where: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const scan = scanJson(Buffer.from(body, "utf8"));
  if (scan.deepAt >= 0)
    throw new FabricError("RTT_FABRIC_NOT_JSON", `JSON nested deeper than ${MAX_JSON_DEPTH} levels`, where);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    throw new FabricError("RTT_FABRIC_NOT_JSON", describeParseError(e, body.length), where);
  }
  const problem = jsonProblem(body, value);
  if (problem) throw new FabricError("RTT_FABRIC_NOT_JSON", problem.message, where);
  const bad = forbiddenKey(value, "");
  if (bad) throw new FabricError("RTT_FABRIC_NOT_JSON", `forbidden key at ${bad}`, where);
  return value;
}

/** Reads and parses a JSON file; a missing or unreadable file is RTT_FABRIC_UNREADABLE naming the path. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new FabricError("RTT_FABRIC_UNREADABLE", err.code === "ENOENT" ? "no such file" : err.message, path);
  }
  return parseJsonText(text, path);
}

/** Pretty JSON for files people read (views, manifests, index.json): 2-space indent, trailing newline. */
export const prettyJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
