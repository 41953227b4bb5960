import { createWriteStream, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import type { Writable } from "node:stream";
import type { PreparedSession } from "./ingest/prepare.js";
import type { MasteryUpdate } from "./store/types.js";

/** Unwritten bytes the Loki feed may hold before it drops lines: about 3,000 sessions of 20 KB. */
export const DEFAULT_MAX_BUFFERED = 64 * 2 ** 20;

/**
 * The Loki feed: one NDJSON line per accepted session (the document plus the seed's top-level fields it lacked),
 * then one line per anomaly with segment_label, severity, type and session_id, plus the stream label fields,
 * so the seed's Alloy `loki.process "rtt_logs"` pipeline works unchanged.
 */
export class SessionEmitter {
  private failed = false;
  /** Sessions whose lines were not written because the output fell behind (see `maxBuffered`). */
  dropped = 0;
  private droppedHere = 0;

  /**
   * `maxBuffered`: bytes the output may hold unwritten. A reader that stalls (a stopped collector on a pipe, a
   * slow disk) must cost a bounded amount of memory, never the server: past this, whole sessions' lines are
   * dropped and counted until it catches up. Ingest itself is never held back by the feed.
   */
  constructor(
    private readonly out: Writable,
    private readonly onError: (message: string) => void = () => {},
    private readonly maxBuffered = DEFAULT_MAX_BUFFERED,
  ) {
    // A closed pipe or full disk must never take the server down; it is reported once.
    out.on("error", (e: NodeJS.ErrnoException) => {
      if (!this.failed) this.onError(`session log output failed (${e.code ?? e.message}); lines are being dropped`);
      this.failed = true;
    });
  }

  /** Opens `path` for appending (creating folders); fails now rather than on the first session. */
  static toFile(path: string, onError?: (message: string) => void): SessionEmitter {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, "a");
    return new SessionEmitter(createWriteStream("", { fd }), onError);
  }

  accepted(p: PreparedSession, mastery?: MasteryUpdate): void {
    if (this.failed) return;
    if (this.out.writableLength > this.maxBuffered) {
      if (this.droppedHere++ === 0)
        this.onError(
          `session log output is ${Math.round(this.out.writableLength / 2 ** 20)} MiB behind; dropping lines until it catches up`,
        );
      this.dropped++;
      return;
    }
    if (this.droppedHere) {
      this.onError(`session log output caught up; lines of ${this.droppedHere} sessions were dropped`);
      this.droppedHere = 0;
    }
    const doc = p.log as Record<string, unknown>;
    const extra: Record<string, unknown> = { ...p.derived.missingTopLevel };
    if (doc.mastery_level === undefined && mastery) extra.mastery_level = mastery.state.level;
    const line = sessionLine(p.raw, extra, doc);
    const c = p.derived.columns;
    const level = c.mastery_level ?? mastery?.state.level;
    let anomalies = "";
    for (const a of p.derived.anomalies) {
      anomalies += `${JSON.stringify({
        event: "anomaly",
        session_id: c.session_id,
        segment_id: a.segment_id,
        segment_label: a.segment_label,
        type: a.type,
        severity: a.severity ?? undefined,
        t: a.t,
        spec_version: c.spec_version,
        engine_version: c.engine_version ?? undefined,
        mode: c.mode ?? undefined,
        operator_id: c.operator_id ?? undefined,
        mastery_level: level,
        device_type: c.device_type ?? undefined,
        scenario: c.scenario,
        difficulty: c.difficulty,
      })}\n`;
    }
    // The pieces go out in one write (writev) once uncorked.
    this.out.cork();
    for (const piece of line) this.out.write(piece);
    if (anomalies) this.out.write(anomalies);
    this.out.uncork();
  }

  close(): Promise<void> {
    const out = this.out;
    if (out === (process.stdout as Writable) || out === (process.stderr as Writable)) return Promise.resolve();
    return new Promise((resolve) => out.end(resolve));
  }
}

/**
 * The session as one line, in pieces to write one after the other. A compact document (no line breaks) is its
 * own bytes — never decoded and encoded again — with the missing fields spliced in after its opening brace; a
 * pretty-printed one is re-serialized.
 */
export function sessionLine(
  raw: Buffer,
  extra: Record<string, unknown>,
  doc: Record<string, unknown>,
): Array<string | Buffer> {
  const keys = Object.keys(extra);
  if (raw.indexOf(0x0a) < 0 && raw.indexOf(0x0d) < 0) {
    const text = trimJson(raw); // starts with "{": the document is an object
    if (keys.length === 0) return [text, "\n"];
    const head = JSON.stringify(extra).slice(1, -1);
    return [`{${head},`, text.subarray(1), "\n"];
  }
  return [`${JSON.stringify(keys.length ? { ...extra, ...doc } : doc)}\n`];
}

/** The bytes of a JSON document without the byte order mark and the blanks JSON allows around it. */
function trimJson(raw: Buffer): Buffer {
  let start = raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? 3 : 0;
  let end = raw.length;
  while (start < end && isBlank(raw[start]!)) start++;
  while (end > start && isBlank(raw[end - 1]!)) end--;
  return raw.subarray(start, end);
}

const isBlank = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
