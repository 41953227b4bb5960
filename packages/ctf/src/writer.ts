import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import type { CorridorStatus, CTFEvent } from "./types.js";

/** Anything that accepts CTF events in order: a file, memory, an HTTP uploader. */
export interface CTFSink {
  write(event: CTFEvent): void;
  close(finalStatus?: CorridorStatus): void;
}

export interface CTFWriterOptions {
  /** fsync after every event: survives power loss, at the cost of a disk flush per event. */
  fsync?: boolean;
  /** "w" truncates (default), "a" appends to an existing open trace. */
  flags?: "w" | "a";
  /** Clock for the footer's timestamp, in Unix seconds. */
  now?: () => number;
}

/**
 * Writes one event per line. Each write is a single synchronous write(2) of the whole line, so the
 * line reaches the OS immediately (the seed's flush per event) and a crash can only cut the line
 * being written — which the reader then reports as truncated.
 */
export class CTFWriter implements CTFSink {
  private fd: number | null;
  private lastStatus: CorridorStatus = "stable";
  private footerWritten = false;

  constructor(
    readonly path: string,
    private readonly opts: CTFWriterOptions = {},
  ) {
    this.fd = openSync(path, opts.flags ?? "w");
  }

  write(event: CTFEvent): void {
    if (this.fd === null) throw new Error(`CTFWriter(${this.path}): write after close`);
    if (this.footerWritten) throw new Error(`CTFWriter(${this.path}): the footer was already written`);
    writeSync(this.fd, `${JSON.stringify(event)}\n`);
    if (this.opts.fsync) fsyncSync(this.fd);
    if (event.type === "status") this.lastStatus = event.corridor_status;
    if (event.type === "footer") this.footerWritten = true;
  }

  /** Writes the footer (unless one was written) and closes the file. `finalStatus` defaults to the last status written. */
  close(finalStatus?: CorridorStatus): void {
    if (this.fd === null) return;
    if (!this.footerWritten) {
      const now = this.opts.now ?? (() => Date.now() / 1000);
      this.write({ type: "footer", timestamp: now(), final_status: finalStatus ?? this.lastStatus });
    }
    if (this.opts.fsync) fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
  }
}

/** Keeps events in memory (tests, the server's demo generator) and can render them as CTF text. */
export class MemorySink implements CTFSink {
  readonly events: CTFEvent[] = [];
  closed = false;
  write(event: CTFEvent): void {
    this.events.push(event);
  }
  close(): void {
    this.closed = true;
  }
  text(): string {
    return this.events.map((e) => `${JSON.stringify(e)}\n`).join("");
  }
}
