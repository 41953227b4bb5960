/** Deepest nesting of arrays/objects accepted in a document; real session logs stay below 10. */
export const MAX_JSON_DEPTH = 64;

/**
 * Byte classes for `scanJson`: 1 quote, 2 opener, 3 closer, 4 comma, 5 exponent letter, 6 colon; 0 anything else.
 */
const CLASS = new Uint8Array(256);
CLASS[0x22] = 1;
CLASS[0x5b] = 2;
CLASS[0x7b] = 2;
CLASS[0x5d] = 3;
CLASS[0x7d] = 3;
CLASS[0x2c] = 4;
CLASS[0x3a] = 6;
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
  /**
   * Colons outside strings: the number of key/value pairs written. More than `inspectParsed(value).members`
   * means a key was repeated in some object (JSON.parse kept only its last value). Counted up to `deepAt`.
   */
  pairs: number;
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
  let pairs = 0;
  const n = buf.length;
  // Indexes below `n` are in range; a byte (0..255) is always a CLASS index.
  for (let i = 0; i < n; i++) {
    const k = CLASS[buf[i]!];
    if (k === 0) continue;
    if (k === 5) {
      // An exponent follows a digit; `true`/`false` do not. (At i = 0 there is no previous byte.)
      const p = buf[i - 1];
      if (p !== undefined && p >= 0x30 && p <= 0x39) {
        let j = i + 1;
        if (buf[j] === 0x2b || buf[j] === 0x2d) j++;
        const from = j;
        for (; j < n; j++) {
          const d = buf[j]!;
          if (d < 0x30 || d > 0x39) break;
        }
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
      if (++depth > max) return { deepAt: i, mayOverflow: overflow, pairs };
    } else if (k === 3) depth--;
    else if (k === 6) pairs++;
    last = i;
  }
  if (n - last > MAX_QUIET_GAP) overflow = true;
  return { deepAt: -1, mayOverflow: overflow, pairs };
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

/**
 * Canonical JSON (sorted keys, no whitespace, undefined members left out): two values are the same content iff these
 * are equal. Recursive: callers bound the depth first (the JSON guard, or a schema).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
}

/** One reference token of a JSON Pointer (RFC 6901): `~` → `~0`, `/` → `~1`. */
export const escapePointer = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");
/** The reverse of `escapePointer`. */
export const unescapePointer = (s: string) => s.replace(/~1/g, "/").replace(/~0/g, "~");

/** Describes a JSON.parse failure with a position; input cut short is called out as such. */
export function describeParseError(e: unknown, textLength: number): string {
  const msg = e instanceof Error ? e.message : String(e);
  // V8 messages quote a slice of the input; keep only the diagnosis and position.
  const pos = /position (\d+)/.exec(msg);
  if (/Unexpected end of JSON input/.test(msg) || (pos && Number(pos[1]) >= textLength))
    return "invalid JSON: unexpected end of input (truncated?)";
  return pos ? `invalid JSON at character ${pos[1]}` : "invalid JSON";
}

/** What one walk of a parsed value tells about it and the text it was parsed from (see `inspectParsed`). */
export interface ParsedShape {
  /** Members (key/value pairs) of every object; -1 when the value nests deeper than the limit. */
  members: number;
  /** ':' characters in its keys and string values (counted up to where the walk stopped). */
  stringColons: number;
  /** Some number is not finite: a literal beyond double range (`1e999`) parsed to ±Infinity. */
  nonFinite: boolean;
}

/**
 * One bounded walk of a value `JSON.parse` made: its members, the colons inside its strings and whether a number is
 * not finite — what a byte scan of the text would otherwise be needed for (`jsonProblem`, and POST /sessions
 * after its parse). The recursion is bounded by `max` (the value itself is level 1, as in `scanJson`).
 */
export function inspectParsed(v: unknown, max = MAX_JSON_DEPTH): ParsedShape {
  const shape: ParsedShape = { members: 0, stringColons: 0, nonFinite: false };
  if (typeof v === "string") shape.stringColons = countChar(v, ":");
  else if (typeof v === "number") shape.nonFinite = !Number.isFinite(v);
  else if (v !== null && typeof v === "object" && !inspect(v, max, shape)) shape.members = -1;
  return shape;
}

/** Adds `v`'s counts to `shape`; false when it nests deeper than `levels`. */
function inspect(v: object, levels: number, shape: ParsedShape): boolean {
  if (levels <= 0) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!inspectMember(v[i], levels, shape)) return false;
    return true;
  }
  for (const k in v) {
    shape.members++;
    if (k.includes(":")) shape.stringColons += countChar(k, ":");
    if (!inspectMember((v as Record<string, unknown>)[k], levels, shape)) return false;
  }
  return true;
}

function inspectMember(x: unknown, levels: number, shape: ParsedShape): boolean {
  if (typeof x === "number") {
    if (!Number.isFinite(x)) shape.nonFinite = true;
  } else if (typeof x === "string") {
    if (x.includes(":")) shape.stringColons += countChar(x, ":");
  } else if (x !== null && typeof x === "object") return inspect(x, levels - 1, shape);
  return true;
}

/**
 * Whether `text` may repeat a key, from its parsed value's shape: every member was written with one colon outside
 * strings, so when the text's colons less those inside strings equal the members, no key was repeated (JSON.parse
 * keeps only the last value of a repeated key). A colon written as an escape (`\u003a`) is in a parsed string but
 * not in the text, so then the answer is "maybe" and `findDuplicateKey` decides.
 */
export function mayRepeatKey(text: string, shape: ParsedShape): boolean {
  const colons = countChar(text, ":");
  if (colons === shape.members) return false;
  return colons - shape.stringColons !== shape.members || text.includes("\\u003a") || text.includes("\\u003A");
}

function countChar(s: string, c: string): number {
  let n = 0;
  for (let i = s.indexOf(c); i >= 0; i = s.indexOf(c, i + 1)) n++;
  return n;
}

/** Index of the quote that closes the string opened at `open`. */
function stringEnd(text: string, open: number): number {
  let q = text.indexOf('"', open + 1);
  for (;;) {
    let b = q - 1;
    while (text.charCodeAt(b) === 0x5c) b--;
    if ((q - 1 - b) % 2 === 0) return q; // an even run of backslashes escapes only itself
    q = text.indexOf('"', q + 1);
  }
}

/**
 * The first key repeated within one object of a JSON text, with the JSON pointer of its second occurrence; or
 * undefined. Keys are compared decoded (`"k"` and `"\u006b"` are the same key). Expects text `JSON.parse`
 * accepted; its cost (a Set per object) is why `jsonProblem` calls it only when the member count says so.
 */
export function findDuplicateKey(text: string): { key: string; path: string } | undefined {
  // One frame per open container: the keys an object has seen, or the index an array is at.
  const keys: Array<Set<string> | null> = [];
  const at: Array<string | number> = [];
  let expectKey = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = stringEnd(text, i);
      if (expectKey) {
        const raw = text.slice(i + 1, end);
        const key: string = raw.includes("\\") ? JSON.parse(text.slice(i, end + 1)) : raw;
        const seen = keys[keys.length - 1]!;
        at[at.length - 1] = key;
        if (seen.has(key)) return { key, path: at.map((s) => `/${escapePointer(String(s))}`).join("") };
        seen.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b) {
      keys.push(new Set());
      at.push("");
      expectKey = true;
    } else if (c === 0x5b) {
      keys.push(null);
      at.push(0);
    } else if (c === 0x7d || c === 0x5d) {
      keys.pop();
      at.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      if (keys[keys.length - 1]) expectKey = true;
      else at[at.length - 1] = (at[at.length - 1] as number) + 1;
    }
  }
  return undefined;
}

/** A JSON text that parsed but is refused: nested too deep, or a key repeated (its value would be ambiguous). */
export interface JsonProblem {
  code: "too_deep" | "duplicate_key";
  /** JSON pointer of the repeated key; "" for nesting. */
  path: string;
  message: string;
}

export const duplicateKeyMessage = (d: { key: string; path: string }) =>
  `duplicate key ${JSON.stringify(d.key)} at ${d.path}`;

/**
 * Checks a value `JSON.parse` just made from `text` (one CTF line, typically) for what a byte scan would refuse
 * before parsing: nesting deeper than `max` and repeated keys. Cheap when neither is there: one bounded walk
 * (`inspectParsed`) and one count of the text's colons (`mayRepeatKey`) before the exact search.
 */
export function jsonProblem(text: string, value: unknown, max = MAX_JSON_DEPTH): JsonProblem | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const shape = inspectParsed(value, max);
  if (shape.members < 0) return { code: "too_deep", path: "", message: `JSON nested deeper than ${max} levels` };
  const dup = mayRepeatKey(text, shape) ? findDuplicateKey(text) : undefined;
  return dup ? { code: "duplicate_key", path: dup.path, message: duplicateKeyMessage(dup) } : undefined;
}
