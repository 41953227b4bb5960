/** Deepest nesting of arrays/objects accepted in a document; real session logs stay below 10. */
export const MAX_JSON_DEPTH = 64;

/**
 * Scans raw JSON bytes for nesting deeper than `max` without parsing (strings are skipped).
 * Runs before JSON.parse: deep documents cost seconds to parse and overflow the stack of every
 * recursive consumer (JSON.stringify, validators), so they are refused up front.
 * Returns the byte offset where the limit was crossed, or -1.
 */
export function exceedsDepth(buf: Uint8Array, max = MAX_JSON_DEPTH): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return -1;
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
