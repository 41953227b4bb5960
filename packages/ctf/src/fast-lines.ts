import { open } from "node:fs/promises";
import type { CorridorStatus, QEvent, StatusEvent, StepEvent, Violation } from "./types.js";

/**
 * Byte-level reading of the lines RTT's own writer produces, for the hot loops (validate, diff): a file is split
 * on '\n' bytes without being decoded, and the three frequent event shapes (step, q, status) are recognised by
 * an exact template — RTT's key order, no whitespace, no escapes, no exponent, every value in its schema range —
 * and built without JSON.parse. A line that does not match its template exactly goes the general way (decoded,
 * JSON.parse, line guards, schema), so what a trace means never depends on which path read it: a template match
 * is by construction a depth-1 object without repeated keys that the event's JSON Schema accepts, and its value
 * is what JSON.parse would return (numbers through the exact Clinger fast path or Number()).
 */

/**
 * One non-empty line as bytes `buf[start, end)` (a trailing '\r' and a BOM opening the file already dropped).
 * `buf` is reused for a later chunk of the file: a handler that keeps bytes past its return copies them, at the
 * latest when readByteLines announces the reuse (its `beforeReuse`).
 */
export type ByteLineHandler = (buf: Buffer, start: number, end: number, line: number, terminated: boolean) => void;

/**
 * Streams a file's non-empty lines as bytes, with the line numbers and blank-line rules of reader.ts's
 * LineSplitter. Resolves with the number of lines read. `beforeReuse(buf)` is called before a buffer that lines
 * were handed out in is filled again.
 */
export async function readByteLines(
  path: string,
  onLine: ByteLineHandler,
  chunkBytes = 1 << 20,
  beforeReuse?: (buf: Buffer) => void,
): Promise<number> {
  const fh = await open(path, "r");
  let lineNo = 0;
  const emit = (buf: Buffer, from: number, to: number, terminated: boolean): void => {
    const line = ++lineNo;
    if (to > from && buf[to - 1] === 13) to--; // tolerate \r\n
    if (line === 1 && to - from >= 3 && buf[from] === 0xef && buf[from + 1] === 0xbb && buf[from + 2] === 0xbf)
      from += 3; // a BOM opening the file
    if (to === from) return;
    // Only a line starting with whitespace can be blank.
    if (buf[from]! <= 32 && buf.toString("utf8", from, to).trim().length === 0) return;
    onLine(buf, from, to, line, terminated);
  };
  // Two buffers take turns: one is split while the next chunk is read into the other, so the thread does not wait
  // for the disk between chunks. (A new buffer per chunk counted as external memory to V8, which collected garbage
  // for it: a scavenge or a mark-compact every few dozen chunks, the nodes of the whole replay marked each time.)
  const buffers = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)];
  let turn = 0;
  const readChunk = async (buf: Buffer) => {
    const { bytesRead } = await fh.read(buf, 0, chunkBytes, null);
    return { buf, len: bytesRead };
  };
  /** The unfinished last line of the chunks so far (several chunks long for a very long line). */
  let carry: Buffer | null = null;
  /** The chunk buffer `carry` is a view of, if it is one (it is copied before that buffer is reused). */
  let carryIn: Buffer | null = null;
  try {
    let next = readChunk(buffers[0] as Buffer);
    for (;;) {
      const { buf, len } = await next;
      if (len === 0) break;
      const other = buffers[++turn & 1] as Buffer;
      if (turn > 1) {
        if (carryIn === other) {
          carry = Buffer.from(carry as Buffer);
          carryIn = null;
        }
        beforeReuse?.(other);
      }
      next = readChunk(other);
      let start = 0;
      let nl = buf.indexOf(10);
      if (carry && nl >= 0 && nl < len) {
        const joined: Buffer = Buffer.concat([carry, buf.subarray(0, nl)]);
        emit(joined, 0, joined.length, true);
        carry = null;
        carryIn = null;
        start = nl + 1;
        nl = buf.indexOf(10, start);
      }
      for (; nl >= 0 && nl < len; nl = buf.indexOf(10, start)) {
        emit(buf, start, nl, true);
        start = nl + 1;
      }
      if (start < len) {
        if (carry) {
          carry = Buffer.concat([carry, buf.subarray(0, len)]);
          carryIn = null;
        } else {
          carry = buf.subarray(start, len);
          carryIn = buf;
        }
      }
    }
    await next.catch(() => {});
    if (carry) emit(carry, 0, carry.length, false);
    return lineNo;
  } finally {
    await fh.close();
  }
}

type FastBuffer = Buffer & { latin1Slice?(start: number, end: number): string };
/** Bytes [s, e) as Latin-1 (ASCII here) without toString's argument handling, where Node has the binding. */
const latin1: (b: Buffer, s: number, e: number) => string =
  typeof (Buffer.prototype as FastBuffer).latin1Slice === "function"
    ? (b, s, e) => (b as FastBuffer).latin1Slice!(s, e)
    : (b, s, e) => b.toString("latin1", s, e);

// ---- template matching ----------------------------------------------------------------------------------------
// The matchers advance one cursor, P, through the line; each step returns false where the template is missed.

const bytes = (s: string): Uint8Array => Buffer.from(s, "latin1");

/** Position in the line being matched. */
let P = 0;

/** Literal `l` at P (P moves past it), or false. */
function lit(buf: Buffer, l: Uint8Array): boolean {
  const n = l.length;
  for (let k = 0; k < n; k++) if (buf[P + k] !== l[k]) return false;
  P += n;
  return true;
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
/** Value and integer-ness of the number `num` read last. */
let NUM = 0;
let NUM_INT = true;

/**
 * A non-negative JSON number without exponent at P (digits, optional fraction) before `end`, or false (a sign, an
 * exponent, a leading zero followed by a digit: left to JSON.parse). Up to 15 significant digits the value is
 * m / 10^k, both exact doubles, so the one division is correctly rounded: JSON.parse's value. Longer: Number().
 */
function num(buf: Buffer, end: number): boolean {
  const start = P;
  let pos = P;
  let m = 0;
  let digits = 0;
  let c = buf[pos];
  if (c === 0x30) {
    c = buf[++pos];
    if (c !== undefined && c >= 0x30 && c <= 0x39) return false;
  } else if (c !== undefined && c >= 0x31 && c <= 0x39) {
    while (c !== undefined && c >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30);
      digits++;
      c = buf[++pos];
    }
  } else return false;
  let frac = 0;
  if (c === 0x2e) {
    c = buf[++pos];
    while (c !== undefined && c >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30);
      digits++;
      frac++;
      c = buf[++pos];
    }
    if (frac === 0) return false;
  }
  if (c === 0x65 || c === 0x45 || pos > end) return false;
  NUM_INT = frac === 0;
  NUM = digits <= 15 ? (frac === 0 ? m : m / (POW10[frac] as number)) : Number(buf.toString("latin1", start, pos));
  P = pos;
  return true;
}

/** A non-negative integer at P (see num). */
const int = (buf: Buffer, end: number): boolean => num(buf, end) && NUM_INT;

/** The tool name read last by `tool`. */
let STR = "";
/** Where `strBytes` found the string read last: its content is bytes [STR_FROM, STR_TO), all ASCII or not. */
let STR_FROM = 0;
let STR_TO = 0;
let STR_ASCII = true;

/** A JSON string at P without escapes or control characters, located but not decoded (P moves past it), or false. */
function strBytes(buf: Buffer, end: number): boolean {
  if (buf[P] !== 0x22) return false;
  const from = P + 1;
  let ascii = true;
  for (let i = from; i < end; i++) {
    const c = buf[i] as number;
    if (c === 0x22) {
      STR_FROM = from;
      STR_TO = i;
      STR_ASCII = ascii;
      P = i + 1;
      return true;
    }
    if (c === 0x5c || c < 0x20) return false;
    if (c >= 0x80) ascii = false;
  }
  return false;
}

/** The content of a string located by `strBytes`, as JSON.parse decodes it (without escapes: plain UTF-8). */
const decode = (buf: Buffer, from: number, to: number, ascii: boolean): string =>
  ascii ? latin1(buf, from, to) : buf.toString("utf8", from, to);

/** Tool names repeat on every step: the few seen so far are reused instead of a new string per step. */
const TOOL_CACHE: Array<{ b: Uint8Array; s: string }> = [];

/** A string (see strBytes) into STR, reusing the string of an earlier equal tool name (decoded only when new). */
function tool(buf: Buffer, end: number): boolean {
  if (!strBytes(buf, end)) return false;
  const from = STR_FROM;
  const len = STR_TO - from;
  if (len <= 32) {
    next: for (const t of TOOL_CACHE) {
      if (t.b.length !== len) continue;
      for (let k = 0; k < len; k++) if (t.b[k] !== buf[from + k]) continue next;
      STR = t.s;
      return true;
    }
  }
  STR = decode(buf, from, STR_TO, STR_ASCII);
  if (len <= 32 && TOOL_CACHE.length < 32) TOOL_CACHE.push({ b: Uint8Array.from(buf.subarray(from, STR_TO)), s: STR });
  return true;
}

/** The line ends at P with its closing brace. */
const close = (buf: Buffer, e: number): boolean => P === e - 1 && buf[P] === 0x7d;

const Q_HEAD = bytes('{"type":"q","step_id":');
const Q_KEYS = [
  ',"semantic_drift":',
  ',"tool_entropy":',
  ',"latency_drift":',
  ',"branching_pressure":',
  ',"retry_ratio":',
].map(bytes);

/** step_id, then the five metrics in Q_METRICS order, of the q line matched last by `matchQ`. */
export const Q_VALUES = new Float64Array(6);

/**
 * Matches RTT's q line `{"type":"q","step_id":N,"semantic_drift":…,…,"retry_ratio":…}` into Q_VALUES, with the
 * schema's ranges (step_id and branching_pressure integers, drift and retry ratio at most 1). False: not the template.
 */
export function matchQ(buf: Buffer, s: number, e: number): boolean {
  P = s;
  if (!lit(buf, Q_HEAD) || !int(buf, e)) return false;
  Q_VALUES[0] = NUM;
  for (let j = 0; j < 5; j++) {
    if (!lit(buf, Q_KEYS[j] as Uint8Array) || !num(buf, e)) return false;
    if ((j === 0 || j === 4) && NUM > 1) return false;
    if (j === 3 && !NUM_INT) return false;
    Q_VALUES[j + 1] = NUM;
  }
  return close(buf, e);
}

/** The q event of the line matched last by `matchQ`, as JSON.parse would have built it. */
export const qEvent = (): QEvent => ({
  type: "q",
  step_id: Q_VALUES[0] as number,
  semantic_drift: Q_VALUES[1] as number,
  tool_entropy: Q_VALUES[2] as number,
  latency_drift: Q_VALUES[3] as number,
  branching_pressure: Q_VALUES[4] as number,
  retry_ratio: Q_VALUES[5] as number,
});

const STATUS_PREFIX = bytes('{"type":"status"');
/** True when the line starts exactly like RTT's status events (`{"type":"status"`). */
export function isStatusLine(buf: Buffer, s: number): boolean {
  P = s;
  return lit(buf, STATUS_PREFIX);
}
const STATUS_HEAD = bytes('{"type":"status","step_id":');
const STATUS_MID = bytes(',"corridor_status":');
const STATUS_VIOL = bytes(',"violations":[');
const STATUSES: Array<[Uint8Array, CorridorStatus]> = (["stable", "warning", "critical", "halted"] as const).map(
  (x) => [bytes(`"${x}"`), x],
);
const VIOLATIONS: Array<[Uint8Array, Violation]> = (
  ["semantic_drift", "tool_entropy", "latency_drift", "branching_pressure", "retry_ratio", "max_steps"] as const
).map((x) => [bytes(`"${x}"`), x]);

/** One of `options` at P, or null. */
function oneOf<T>(buf: Buffer, options: Array<[Uint8Array, T]>): T | null {
  for (const [l, x] of options) if (lit(buf, l)) return x;
  return null;
}

/** RTT's status line (known status, known violations, none twice), or null. */
export function matchStatus(buf: Buffer, s: number, e: number): StatusEvent | null {
  P = s;
  if (!lit(buf, STATUS_HEAD) || !int(buf, e)) return null;
  const step_id = NUM;
  if (!lit(buf, STATUS_MID)) return null;
  const corridor_status = oneOf(buf, STATUSES);
  if (corridor_status === null || !lit(buf, STATUS_VIOL)) return null;
  const violations: Violation[] = [];
  if (buf[P] !== 0x5d) {
    for (;;) {
      const v = oneOf(buf, VIOLATIONS);
      if (v === null || violations.includes(v)) return null;
      violations.push(v);
      if (buf[P] !== 0x2c) break;
      P++;
    }
    if (buf[P] !== 0x5d) return null;
  }
  P++;
  return close(buf, e) ? { type: "status", step_id, corridor_status, violations } : null;
}

const STEP_HEAD = bytes('{"type":"step","step_id":');
const STEP_PARENT = bytes(',"parent_step_id":');
const NULL = bytes("null");
const STEP_TS = bytes(',"timestamp":');
const STEP_ACTION = bytes(',"action":');
const STEP_OBS = bytes(',"observation":');
const STEP_TOOL = bytes(',"tool":');
const STEP_LAT = bytes(',"latency_ms":');

/**
 * The step line matched last by `scanStep`: its numbers and tool, and where its action and observation are in the
 * line (content bytes [from, to), without escapes; `ascii` when every byte is below 0x80). `tool` is undefined
 * when the line has no tool member.
 */
export const STEP_FIELDS = {
  step_id: 0,
  parent_step_id: null as number | null,
  timestamp: 0,
  actionFrom: 0,
  actionTo: 0,
  actionAscii: true,
  observationFrom: 0,
  observationTo: 0,
  observationAscii: true,
  tool: undefined as string | null | undefined,
  latency_ms: 0,
};

/**
 * Matches RTT's step line `{"type":"step","step_id":N,"parent_step_id":N|null,"timestamp":T,"action":"…",
 * "observation":"…",["tool":"…"|null,]"latency_ms":L}` (strings without escapes) into STEP_FIELDS, without
 * decoding its action and observation (a reader that only compares them can compare the bytes). False: not the
 * template.
 */
export function scanStep(buf: Buffer, s: number, e: number): boolean {
  const f = STEP_FIELDS;
  P = s;
  if (!lit(buf, STEP_HEAD) || !int(buf, e)) return false;
  f.step_id = NUM;
  if (!lit(buf, STEP_PARENT)) return false;
  if (lit(buf, NULL)) f.parent_step_id = null;
  else if (int(buf, e)) f.parent_step_id = NUM;
  else return false;
  if (!lit(buf, STEP_TS) || !num(buf, e)) return false;
  f.timestamp = NUM;
  if (!lit(buf, STEP_ACTION) || !strBytes(buf, e)) return false;
  f.actionFrom = STR_FROM;
  f.actionTo = STR_TO;
  f.actionAscii = STR_ASCII;
  if (!lit(buf, STEP_OBS) || !strBytes(buf, e)) return false;
  f.observationFrom = STR_FROM;
  f.observationTo = STR_TO;
  f.observationAscii = STR_ASCII;
  f.tool = undefined;
  if (lit(buf, STEP_TOOL)) {
    if (lit(buf, NULL)) f.tool = null;
    else if (tool(buf, e)) f.tool = STR;
    else return false;
  }
  if (!lit(buf, STEP_LAT) || !num(buf, e) || !close(buf, e)) return false;
  f.latency_ms = NUM;
  return true;
}

/**
 * The step event of the line matched last by `scanStep`, as JSON.parse would have built it (same keys, same order),
 * with the given action and observation.
 */
export function scannedStep(action: string, observation: string): StepEvent {
  const f = STEP_FIELDS;
  const { step_id, parent_step_id, timestamp, tool, latency_ms } = f;
  return tool === undefined
    ? { type: "step", step_id, parent_step_id, timestamp, action, observation, latency_ms }
    : { type: "step", step_id, parent_step_id, timestamp, action, observation, tool, latency_ms };
}

/** RTT's step line (see scanStep) as the event JSON.parse would build, or null. */
export function matchStep(buf: Buffer, s: number, e: number): StepEvent | null {
  if (!scanStep(buf, s, e)) return null;
  const f = STEP_FIELDS;
  return scannedStep(
    decode(buf, f.actionFrom, f.actionTo, f.actionAscii),
    decode(buf, f.observationFrom, f.observationTo, f.observationAscii),
  );
}
