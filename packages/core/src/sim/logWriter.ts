import type { Segment, SessionLog } from "../types.js";
import { type SampleRows, unreadRowsOf } from "./columnSegment.js";
import { SampleColumns, samplesOf } from "./columns.js";

/**
 * The bytes of `JSON.stringify(log, null, space)`, as a sequence of text chunks, written straight from the columns of
 * segments whose samples were never read (see columnSegment.ts): no sample object is built, and no single string
 * has to hold the whole log — a 1 h session at 1 ms is ~530 M characters, about V8's longest string.
 * Everything else in the log (header, anomalies, scores, triadic snapshots, samples already materialised) goes
 * through JSON.stringify itself, so only the path log → segments → segment → samples is written here.
 */
export function* sessionLogChunks(log: SessionLog, space?: number): Generator<string> {
  const out = new ChunkedText();
  yield* new LogWriter(out, gapOf(space)).value(log, 0);
  yield* out.flush();
}

/** `sessionLogChunks` into a callback (a file descriptor, a stream that buffers, a byte counter). */
export function writeSessionLog(log: SessionLog, write: (chunk: string) => void, space?: number): void {
  for (const chunk of sessionLogChunks(log, space)) write(chunk);
}

/**
 * The log as UTF-8, the bytes of `Buffer.from(JSON.stringify(log, null, space))`. Chunks end between JSON tokens,
 * never inside a surrogate pair, so encoding them one by one is encoding the whole text.
 */
export function sessionLogBuffer(log: SessionLog, space?: number): Buffer {
  const parts: Buffer[] = [];
  for (const chunk of sessionLogChunks(log, space)) parts.push(Buffer.from(chunk, "utf8"));
  return Buffer.concat(parts);
}

const CHUNK_CHARS = 1 << 16;

/** JSON.stringify's gap for a numeric `space`: that many spaces, at most 10 (none below 1). */
const gapOf = (space: number | undefined) => " ".repeat(Math.max(0, Math.min(10, Math.trunc(space ?? 0))));

class ChunkedText {
  text = "";
  *flush(): Generator<string> {
    if (this.text) yield this.text;
    this.text = "";
  }
}

class LogWriter {
  constructor(
    private readonly out: ChunkedText,
    private readonly gap: string,
  ) {}

  /** Any JSON value at nesting depth `depth`; JSON.stringify unless it holds unread column segments. */
  *value(v: unknown, depth: number): Generator<string> {
    if (isObject(v) && holdsColumns(v)) {
      if (Array.isArray(v)) yield* this.array(v, depth);
      else yield* this.object(v, depth);
    } else this.put(this.stringify(v, depth) ?? "null");
  }

  private *object(o: Record<string, unknown>, depth: number): Generator<string> {
    const rows = unreadRowsOf(o as Segment);
    // JSON.stringify's members: own enumerable keys in order, skipping values it would leave out (undefined, …).
    // `samples` of an unread segment is not read here (reading it would build the objects).
    const keys = Object.keys(o).filter((k) => (rows && k === "samples") || isJsonValue(o[k]));
    if (!keys.length) return this.put("{}");
    const colon = this.gap ? ": " : ":";
    this.put("{");
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      this.put(`${i ? "," : ""}${this.newline(depth + 1)}${JSON.stringify(k)}${colon}`);
      if (rows && k === "samples") yield* this.samples(rows, depth + 1);
      else yield* this.value(o[k], depth + 1);
    }
    this.put(`${this.newline(depth)}}`);
  }

  private *array(a: unknown[], depth: number): Generator<string> {
    if (!a.length) return this.put("[]");
    this.put("[");
    for (let i = 0; i < a.length; i++) {
      this.put(`${i ? "," : ""}${this.newline(depth + 1)}`);
      yield* this.value(a[i], depth + 1);
    }
    this.put(`${this.newline(depth)}]`);
  }

  /** The samples array of an unread segment, one row of its columns per sample (see `RowTemplate`). */
  private *samples(rows: SampleRows, depth: number): Generator<string> {
    const n = rows.cols.length;
    if (!n) return this.put("[]");
    const [first, next] = rowTemplates(rows, (sample) => this.stringify(sample, depth + 1) ?? "");
    const out = this.out;
    const sep = `,${this.newline(depth + 1)}`;
    out.text += `[${this.newline(depth + 1)}${first!.row(0)}`;
    for (let i = 1; i < n; i++) {
      out.text += sep + next!.row(i);
      if (out.text.length >= CHUNK_CHARS) yield* out.flush();
    }
    this.put(`${this.newline(depth)}]`);
  }

  /** JSON.stringify(v, null, gap) as it reads nested `depth` levels deep (its lines indented by the enclosing gaps). */
  private stringify(v: unknown, depth: number): string | undefined {
    const text = JSON.stringify(v, null, this.gap);
    // A newline only occurs between tokens (JSON escapes those inside strings), so re-indenting is a replace.
    return this.gap && text?.includes("\n") ? text.replace(/\n/g, this.newline(depth)) : text;
  }

  private newline(depth: number): string {
    return this.gap ? `\n${this.gap.repeat(depth)}` : "";
  }

  private put(s: string): void {
    this.out.text += s;
  }
}

/** What JSON.stringify keeps as an object member (it drops undefined, functions and symbols). */
const isJsonValue = (v: unknown) => v !== undefined && typeof v !== "function" && typeof v !== "symbol";
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const isUnread = (v: unknown) => isObject(v) && unreadRowsOf(v as Segment) !== undefined;

/** Whether a value is, or directly holds, a segment whose samples are still columns (a log, its segments array). */
function holdsColumns(v: Record<string, unknown>): boolean {
  if (Array.isArray(v)) return v.some(isUnread);
  return isUnread(v) || (Array.isArray(v.segments) && v.segments.some(isUnread));
}

/**
 * The text of one sample as JSON.stringify writes it, split around its numbers: fragments[0], column slots[0] at the
 * row, fragments[1], … The layout is not written down here but read off a sample that `samplesOf` builds, so the
 * writer's key order, nesting and indentation are by construction those of the materialised objects.
 */
class RowTemplate {
  constructor(
    private readonly fragments: string[],
    private readonly slots: Float64Array[],
  ) {}

  row(i: number): string {
    const { fragments, slots } = this;
    let s = fragments[0]!;
    // fragments has one more entry than slots; i < the segment's sample count, which every column holds.
    for (let j = 0; j < slots.length; j++) s += numberText(slots[j]![i]!) + fragments[j + 1]!;
    return s;
  }
}

/** How JSON.stringify writes a number: V8's shortest round-trip form, "null" when not finite (-0 is "0" either way). */
const numberText = (x: number) => (Number.isFinite(x) ? String(x) : "null");

/** The columns of a segment's samples in a fixed order; a probe row holds its index in that order in each. */
function columnsOfRows(rows: SampleRows): Float64Array[] {
  const { t, C, D, Q, R, u } = rows.cols;
  return rows.set ? [t, C, D, Q, R, u, rows.set.S, rows.set.E, rows.set.T] : [t, C, D, Q, R, u];
}

/**
 * The templates of a segment's first sample and of every later one (they differ: the first has no `u`), from two
 * probe samples built by `samplesOf` whose every number is the index of the column it came from.
 */
function rowTemplates(rows: SampleRows, stringify: (sample: unknown) => string): RowTemplate[] {
  const probe: SampleRows = {
    cols: new SampleColumns(2),
    withU: rows.withU,
    set: rows.set ? { S: new Float64Array(2), E: new Float64Array(2), T: new Float64Array(2) } : undefined,
  };
  probe.cols.length = 2;
  const probeColumns = columnsOfRows(probe);
  for (const [j, col] of probeColumns.entries()) col.fill(j);
  const columns = columnsOfRows(rows);
  const marked = samplesOf(probe.cols, probe.withU, probe.set).map((sample) =>
    JSON.parse(JSON.stringify(sample), (_k, v) => (typeof v === "number" ? `\u0000${v}\u0000` : v)),
  );
  return marked.map((sample) => {
    const parts = stringify(sample).split(/"\\u0000(\d+)\\u0000"/);
    const fragments = parts.filter((_, i) => i % 2 === 0);
    const slots = parts.filter((_, i) => i % 2 === 1).map((j) => columns[Number(j)]!);
    return new RowTemplate(fragments, slots);
  });
}
