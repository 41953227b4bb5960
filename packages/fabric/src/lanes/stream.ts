import type { Socket } from "node:net";
import { encodeFrame, type Frame, type FrameDrop, FrameReader, MAX_FRAME_PAYLOAD } from "./frame.js";

/** Frames waiting in a socket's user-space buffer before the reader of that socket is paused (back-pressure). */
export const WRITE_HIGH_WATER = 4 * 1024 * 1024;

export type StreamDrops = Record<FrameDrop, number>;

export interface FrameSocketOptions {
  maxPayload?: number;
  /** Called for each good frame, in order. */
  onFrame: (f: Frame, conn: FrameSocket) => void;
  /** Called once when the connection is gone (either side, or because its framing was lost). */
  onClose?: (conn: FrameSocket, why: string) => void;
}

/**
 * One framed stream connection (UDS or TCP; spec/fabric/frame.md, "Stream lanes"): a FrameReader on the way in,
 * whole frames on the way out. A frame with a bad CRC is dropped and counted and the stream goes on; a bad magic or an
 * oversized length ends the connection (its framing is lost). Bytes of a frame cut off when the peer dies are counted
 * as `truncated`. Memory stays bounded: the reader holds at most one frame, and `writable` is false while more than
 * WRITE_HIGH_WATER bytes wait to be sent — callers stop producing (and `pauseReading` the peer) until `drain`.
 */
export class FrameSocket {
  readonly reader: FrameReader;
  private closed = false;
  private readPauses = new Set<string>();
  private drainWaiters: Array<() => void> = [];
  framesIn = 0;
  framesOut = 0;

  constructor(
    readonly socket: Socket,
    private readonly opts: FrameSocketOptions,
  ) {
    this.reader = new FrameReader(opts.maxPayload ?? MAX_FRAME_PAYLOAD);
    socket.setNoDelay?.(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("drain", () => {
      for (const w of this.drainWaiters.splice(0)) w();
    });
    socket.on("end", () => socket.end());
    socket.on("error", () => this.finish("error"));
    socket.on("close", () => this.finish("closed"));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** False while the socket's send buffer is over the high-water mark. */
  get writable(): boolean {
    return !this.closed && this.socket.writableLength < WRITE_HIGH_WATER;
  }

  /** Resolves when the send buffer drained (or the socket closed). */
  drained(): Promise<void> {
    if (this.writable || this.closed) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  send(flags: number, routeId: number, frameId: number, payload: Uint8Array): boolean {
    if (this.closed) return false;
    this.framesOut++;
    this.socket.write(encodeFrame({ flags, routeId, frameId }, payload));
    return true;
  }

  /** Stops reading from the peer for `why` (several reasons may hold at once); the kernel buffer then fills. */
  pauseReading(why: string): void {
    this.readPauses.add(why);
    this.socket.pause();
  }

  resumeReading(why: string): void {
    this.readPauses.delete(why);
    if (this.readPauses.size === 0 && !this.closed) this.socket.resume();
  }

  close(): void {
    this.socket.end();
    this.socket.destroySoon?.();
  }

  destroy(): void {
    this.socket.destroy();
    this.finish("destroyed");
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    const frames = this.reader.push(chunk);
    for (const f of frames) {
      this.framesIn++;
      this.opts.onFrame(f, this);
    }
    if (this.reader.fatal) {
      this.socket.destroy();
      this.finish(`framing lost: ${this.reader.fatal}`);
    }
  }

  private finish(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.reader.end();
    for (const w of this.drainWaiters.splice(0)) w();
    this.opts.onClose?.(this, why);
  }
}
