import { createReadStream, statSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

/** One JSON document found in an input, or why none could be read there. */
export type LogRecord =
  | { source: string; line: number; value: unknown; error?: undefined }
  | { source: string; line: number; value?: undefined; error: string };

export interface ReadOptions {
  /** Called with bytes consumed so far, for progress display. */
  onBytes?: (bytes: number) => void;
}

/**
 * Streams session logs from a file or stdin ("-") in constant memory.
 * NDJSON is read line by line; if the first non-blank line is not JSON on its own, the whole input is taken as one
 * (pretty-printed) JSON document instead, so `rtt run | rtt validate -` and `.json` files both work.
 */
export async function* readLogs(source: string, opts: ReadOptions = {}): AsyncGenerator<LogRecord> {
  let stream: Readable;
  try {
    if (source === "-") stream = process.stdin;
    else {
      if (statSync(source).isDirectory()) {
        yield { source, line: 0, error: "is a directory, expected a .json or .ndjson file" };
        return;
      }
      stream = createReadStream(source);
    }
  } catch (err) {
    yield { source, line: 0, error: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    return;
  }

  let bytes = 0;
  if (opts.onBytes) {
    const report = opts.onBytes;
    stream.on("data", (chunk: Buffer | string) => {
      bytes += chunk.length;
      report(bytes);
    });
  }
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  let documentMode: string[] | null = null;
  let sawContent = false;
  try {
    for await (const line of lines) {
      lineNo++;
      if (documentMode) {
        documentMode.push(line);
        continue;
      }
      if (line.trim() === "") continue;
      try {
        const value = JSON.parse(line);
        sawContent = true;
        yield { source, line: lineNo, value };
      } catch (err) {
        if (!sawContent) {
          documentMode = [line];
          sawContent = true;
        } else yield { source, line: lineNo, error: `not JSON: ${(err as Error).message}` };
      }
    }
  } catch (err) {
    yield {
      source,
      line: lineNo,
      error: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    };
    return;
  }
  if (documentMode) {
    const text = documentMode.join("\n");
    try {
      yield { source, line: 1, value: JSON.parse(text) };
    } catch (err) {
      yield { source, line: 1, error: `not JSON: ${(err as Error).message}` };
    }
  } else if (!sawContent) {
    yield { source, line: 0, error: "empty input: expected a JSON session log or NDJSON lines" };
  }
}

export function inputSize(source: string): number {
  if (source === "-") return 0;
  try {
    return statSync(source).size;
  } catch {
    return 0;
  }
}
