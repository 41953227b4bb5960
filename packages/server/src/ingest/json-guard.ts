/** Deepest nesting of arrays/objects accepted in a document; real session logs stay below 10. */
export const MAX_JSON_DEPTH = 64;

/** Byte classes for `scanJson`: 1 quote, 2 opener, 3 closer, 4 separator, 5 exponent letter; 0 anything else. */
const CLASS = new Uint8Array(256);
CLASS[0x22] = 1;
CLASS[0x5b] = 2;
CLASS[0x7b] = 2;
CLASS[0x5d] = 3;
CLASS[0x7d] = 3;
CLASS[0x2c] = 4;
CLASS[0x3a] = 4;
CLASS[0x65] = 5;
CLASS[0x45] = 5;

/**
 * A number literal parses to ±Infinity only if its magnitude reaches 1e308: it has an exponent of three or more
 * digits, or (exponent below 100) more than 200 integer digits. Literals lie between structural bytes and
 * separators, so a gap longer than this between those is treated as a possible long literal.
 */
const MAX_QUIET_GAP = 200;

export interface JsonScan {
  /** Byte offset where nesting first exceeded the limit, or -1. */
  deepAt: number;
  /**
   * False when no number literal can be out of double range (so `JSON.parse` yields only finite numbers);
   * true when one might be — conservative: exponents like `e-100` or long whitespace runs also count.
   */
  mayOverflow: boolean;
}

/**
 * One pass over raw JSON bytes before parsing (strings are skipped): nesting deeper than `max`, and whether any
 * number could overflow a double. Deep documents cost seconds to parse and overflow the stack of every recursive
 * consumer (JSON.stringify, validators), so they are refused up front; documents without large literals skip
 * the walk of `findNonFinite`. A byte-class table keeps the loop to one load and one compare for most bytes.
 */
export function scanJson(buf: Uint8Array, max = MAX_JSON_DEPTH): JsonScan {
  let depth = 0;
  let last = -1;
  let overflow = false;
  const n = buf.length;
  for (let i = 0; i < n; i++) {
    const k = CLASS[buf[i]];
    if (k === 0) continue;
    if (k === 5) {
      // An exponent follows a digit; `true`/`false` do not.
      const p = buf[i - 1];
      if (p >= 0x30 && p <= 0x39) {
        let j = i + 1;
        if (buf[j] === 0x2b || buf[j] === 0x2d) j++;
        const from = j;
        while (j < n && buf[j] >= 0x30 && buf[j] <= 0x39) j++;
        if (j - from >= 3) overflow = true;
      }
      continue;
    }
    if (i - last > MAX_QUIET_GAP) overflow = true;
    if (k === 1) {
      for (i++; i < n; i++) {
        const c = buf[i];
        if (c === 0x22) break;
        if (c === 0x5c) i++; // backslash: skip the escaped byte
      }
    } else if (k === 2) {
      if (++depth > max) return { deepAt: i, mayOverflow: overflow };
    } else if (k === 3) depth--;
    last = i;
  }
  if (n - last > MAX_QUIET_GAP) overflow = true;
  return { deepAt: -1, mayOverflow: overflow };
}

/**
 * Scans raw JSON bytes for nesting deeper than `max` without parsing (strings are skipped).
 * Returns the byte offset where the limit was crossed, or -1. See `scanJson`.
 */
export function exceedsDepth(buf: Uint8Array, max = MAX_JSON_DEPTH): number {
  return scanJson(buf, max).deepAt;
}

/**
 * JSON pointer of the first number that is not finite (`1e999` parses to Infinity), or undefined.
 * Recursive: callers bound the depth with `exceedsDepth` first. Paths are built only on the way out of a hit.
 */
export function findNonFinite(v: unknown): string | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? undefined : "";
  if (v === null || typeof v !== "object") return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === "number" ? !Number.isFinite(x) : x !== null && typeof x === "object") {
        const at = findNonFinite(x);
        if (at !== undefined) return `/${i}${at}`;
      }
    }
    return undefined;
  }
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (typeof x === "number" ? !Number.isFinite(x) : x !== null && typeof x === "object") {
      const at = findNonFinite(x);
      if (at !== undefined) return `/${escapePointer(k)}${at}`;
    }
  }
  return undefined;
}

const escapePointer = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");

/** Canonical JSON (sorted keys, no whitespace): two documents are the same content iff these are equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .filter((k) => obj[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Describes a JSON.parse failure with a position; input cut short is called out as such. */
export function describeParseError(e: unknown, textLength: number): string {
  const msg = e instanceof Error ? e.message : String(e);
  // V8 messages quote a slice of the input; keep only the diagnosis and position.
  const pos = /position (\d+)/.exec(msg);
  if (/Unexpected end of JSON input/.test(msg) || (pos && Number(pos[1]) >= textLength))
    return "invalid JSON: unexpected end of input (truncated?)";
  return pos ? `invalid JSON at character ${pos[1]}` : "invalid JSON";
}
