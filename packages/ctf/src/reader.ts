import { createReadStream } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { jsonProblem } from "@rtt/core";
import type { CTFIssue } from "./types.js";

/** One non-empty line of a trace, parsed or not. */
export type CTFLine =
  | { line: number; value: unknown; raw: string; issue?: undefined }
  | { line: number; value?: undefined; raw: string; issue: CTFIssue };

export type LineHandler = (item: CTFLine) => void;
/** A raw, unparsed non-empty line; `terminated` is false for a last line without its newline. */
export type RawLineHandler = (raw: string, line: number, terminated: boolean) => void;
/** A parsed line's value and line number. */
export type ValueHandler = (value: unknown, line: number) => void;

/**
 * Splits text into lines and parses each one; keeps the unfinished tail for the next chunk.
 * Shared by the file reader and the in-memory parser so both report identical line numbers.
 */
class LineSplitter {
  private carry = "";
  private lineNo = 0;
  constructor(
    private readonly onLine: LineHandler,
    /** When set, lines are handed over unparsed (callers that can skip lines they do not need). */
    private readonly onRaw?: RawLineHandler,
    /** When set, parsed lines go here without a CTFLine wrapper (one object less per event); issues still go to onLine. */
    private readonly onValue?: ValueHandler,
  ) {}

  push(text: string): void {
    let chunk = this.carry.length > 0 ? this.carry + text : text;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf("\n", start);
      if (nl < 0) break;
      this.emit(chunk, start, nl, true);
      start = nl + 1;
    }
    this.carry = start === 0 ? chunk : chunk.slice(start);
    chunk = "";
  }

  /** Flushes the last line; without its newline and unparsable it is a truncated write. */
  end(): number {
    if (this.carry.length > 0) this.emit(this.carry, 0, this.carry.length, false);
    this.carry = "";
    return this.lineNo;
  }

  private emit(chunk: string, from: number, to: number, terminated: boolean): void {
    const line = ++this.lineNo;
    if (to > from && chunk.charCodeAt(to - 1) === 13) to--; // tolerate \r\n
    // A byte order mark opening the text is dropped, as POST /sessions's decoder does; anywhere else it is data.
    if (line === 1 && to > from && chunk.charCodeAt(from) === 0xfeff) from++;
    const raw = chunk.slice(from, to);
    // Only a line starting with whitespace can be blank; checking the first char avoids a trim per line.
    if (raw.length === 0 || (raw.charCodeAt(0) <= 32 && raw.trim().length === 0)) return;
    if (this.onRaw) {
      this.onRaw(raw, line, terminated);
      return;
    }
    const value = parseLine(raw, line, terminated);
    if (value instanceof BadLine) {
      this.onLine({ line, raw, issue: value.issue });
      return;
    }
    if (this.onValue) this.onValue(value, line);
    else this.onLine({ line, value, raw });
  }
}

/** A line that cannot be used as an event, and why (a class, so a good line's value needs no wrapper). */
export class BadLine {
  constructor(readonly issue: CTFIssue) {}
}

/**
 * One raw line as a value, or a BadLine: not JSON, cut short (an unterminated last line that does not parse), or
 * unusable (`lineProblem`). `truncated` words the cut-short case.
 */
export function parseLine(
  raw: string,
  line: number,
  terminated: boolean,
  truncated = "last line is incomplete (no newline, not valid JSON): the writer stopped mid-line",
): unknown {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return new BadLine(
      terminated
        ? { line, field: "", code: "invalid_json", message: (err as Error).message, severity: "error" }
        : { line, field: "", code: "truncated", message: truncated, severity: "error" },
    );
  }
  const issue = lineProblem(raw, value, line);
  return issue ? new BadLine(issue) : value;
}

/**
 * The issue of a line that parsed but must not be used: nested deeper than MAX_JSON_DEPTH (every recursive
 * consumer — JSON.stringify of a live message, an export — would overflow the stack on it) or with a repeated
 * key (which value counts would depend on the parser). Undefined for a good line, at the cost of one bounded walk.
 */
export function lineProblem(raw: string, value: unknown, line: number): CTFIssue | undefined {
  const p = jsonProblem(raw, value);
  return p && { line, field: p.path, code: p.code, message: p.message, severity: "error" };
}

/** Parses a whole in-memory trace (an upload, a test fixture). Returns the number of lines seen. */
export function parseCTFText(text: string, onLine: LineHandler): number {
  const s = new LineSplitter(onLine);
  s.push(text);
  return s.end();
}

/**
 * Streams a .ctf file line by line in constant memory (one chunk plus the longest line).
 * Callback-based on purpose: a per-line async iterator costs a promise per event, which dominates
 * at a million events. Resolves with the number of lines read.
 */
export function readCTFFile(path: string, onLine: LineHandler, chunkBytes = 1 << 20): Promise<number> {
  return streamLines(path, new LineSplitter(onLine), chunkBytes);
}

/** Like readCTFFile, but parsed values go to `onValue` unwrapped; only unparsable lines reach `onLine`. */
export function readCTFValues(
  path: string,
  onValue: ValueHandler,
  onLine: LineHandler,
  chunkBytes = 1 << 20,
): Promise<number> {
  return streamLines(path, new LineSplitter(onLine, undefined, onValue), chunkBytes);
}

/** Streams a file's non-empty lines without parsing them. */
export function readCTFRawLines(path: string, onRaw: RawLineHandler, chunkBytes = 1 << 20): Promise<number> {
  return streamLines(path, new LineSplitter(() => {}, onRaw), chunkBytes);
}

/** Like readCTFRawLines, over text in memory (a trace read from a database): the same lines, the same numbers. */
export function parseCTFRawLines(text: string, onRaw: RawLineHandler): number {
  const s = new LineSplitter(() => {}, onRaw);
  s.push(text);
  return s.end();
}

/** Feeds a file through a splitter chunk by chunk; resolves with the splitter's line count. */
function streamLines(path: string, splitter: LineSplitter, chunkBytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const decoder = new StringDecoder("utf8");
    const stream = createReadStream(path, { highWaterMark: chunkBytes });
    stream.on("data", (buf) => {
      try {
        splitter.push(decoder.write(buf as Buffer));
      } catch (err) {
        stream.destroy();
        reject(err);
      }
    });
    stream.on("error", reject);
    stream.on("end", () => {
      try {
        splitter.push(decoder.end());
        resolve(splitter.end());
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** Async-iterable view over a file for callers who prefer `for await`; batches per chunk to stay cheap. */
export class CTFReader implements AsyncIterable<CTFLine> {
  constructor(readonly path: string) {}

  async *[Symbol.asyncIterator](): AsyncIterator<CTFLine> {
    const splitter = { batch: [] as CTFLine[] };
    const s = new LineSplitter((item) => splitter.batch.push(item));
    const decoder = new StringDecoder("utf8");
    for await (const buf of createReadStream(this.path, { highWaterMark: 1 << 20 })) {
      s.push(decoder.write(buf as Buffer));
      const out = splitter.batch;
      splitter.batch = [];
      yield* out;
    }
    s.push(decoder.end());
    s.end();
    yield* splitter.batch;
  }
}
