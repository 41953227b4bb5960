import * as shm from "@rtt/shm";
import { FabricError } from "../errors.js";
import {
  FLAG_PAD,
  FRAME_HEADER,
  type FrameDrop,
  type FrameHeader,
  frameCrcOk,
  readFrameHeader,
  writeFrameHeader,
} from "./frame.js";

/**
 * A single-producer single-consumer ring of frames in a POSIX shared-memory segment (spec/fabric/frame.md, "SHM
 * ring"). Two processes map the same segment; the producer owns `head`, the consumer owns `tail`, both are byte
 * counts that only grow (mod 2^32; the capacity is a power of two so positions are `index & mask`). Frames are
 * written in place, 8-byte aligned; one that does not fit before the end is preceded by a PAD frame (or, with fewer
 * than 24 bytes left, an implicit wrap both sides apply).
 *
 * Waiting: the consumer spins for its budget, then raises `consumerWaiting`, re-reads `head`, and parks on the futex
 * at `head`; the producer publishes `head` and wakes only when the flag is up — so an active lane costs no system
 * calls. The same in reverse when the ring is full.
 */
const CTRL = 256;
const W_MAGIC = 0; // word indexes into the control area (Int32Array)
const W_CAPACITY = 2;
const W_HEAD = 16; // byte 64: its own cache line
const W_TAIL = 32; // byte 128
const W_CONSUMER_WAITING = 48; // byte 192
const W_PRODUCER_WAITING = 56; // byte 224
const RING_MAGIC = 0x52545452; // "RTTR"
const RING_VERSION = 1;

const align8 = (n: number) => (n + 7) & ~7;

export interface RingFrame extends FrameHeader {
  /** A view of the payload inside the shared segment: valid until `release()`. Copy it to keep it. */
  payload: Uint8Array;
}

export type RingDrops = Record<FrameDrop | "corrupt", number>;

export class ShmRing {
  private readonly ctrl: Int32Array;
  private readonly data: Uint8Array;
  private readonly mask: number;
  /** Producer's and consumer's own copies of their index (the shared word is written, never re-read). */
  private head: number;
  private tail: number;
  /** Bytes the frame returned by `tryRead` occupies, released by `release()`. */
  private pending = 0;
  readonly drops: RingDrops = {
    bad_magic: 0,
    bad_crc: 0,
    too_large: 0,
    reserved: 0,
    unknown_flags: 0,
    truncated: 0,
    corrupt: 0,
  };
  /** Set when the ring's bytes can no longer be framed (a hostile or broken peer): the lane must be torn down. */
  broken: string | undefined;

  private constructor(
    readonly name: string,
    readonly buffer: ArrayBuffer,
    readonly capacity: number,
  ) {
    this.ctrl = new Int32Array(buffer, 0, CTRL / 4);
    this.data = new Uint8Array(buffer, CTRL, capacity);
    this.mask = capacity - 1;
    this.head = Atomics.load(this.ctrl, W_HEAD) >>> 0;
    this.tail = Atomics.load(this.ctrl, W_TAIL) >>> 0;
  }

  /** Creates the segment `/dev/shm/<name>` with `capacity` data bytes (a power of two, 4 KiB … 1 GiB). */
  static create(name: string, capacity: number): ShmRing {
    if (!Number.isInteger(capacity) || capacity < 4096 || capacity > 2 ** 30 || (capacity & (capacity - 1)) !== 0)
      throw new FabricError(
        "RTT_FABRIC_USAGE",
        `ring capacity must be a power of two from 4 KiB to 1 GiB, not ${capacity}`,
      );
    const buf = shm.create(name, CTRL + capacity);
    const ctrl = new Int32Array(buf, 0, CTRL / 4);
    ctrl[1] = RING_VERSION;
    ctrl[W_CAPACITY] = capacity;
    Atomics.store(ctrl, W_MAGIC, RING_MAGIC); // last: an opener that sees the magic sees the rest
    return new ShmRing(name, buf, capacity);
  }

  /** Maps a ring another process created. */
  static open(name: string): ShmRing {
    const head = new Int32Array(shm.open(name, CTRL), 0, CTRL / 4);
    if (Atomics.load(head, W_MAGIC) !== RING_MAGIC || head[1] !== RING_VERSION)
      throw new FabricError("RTT_FABRIC_CORRUPT", "not an RTT ring (magic or version)", name);
    const capacity = head[W_CAPACITY] as number;
    if (capacity < 4096 || (capacity & (capacity - 1)) !== 0)
      throw new FabricError("RTT_FABRIC_CORRUPT", `ring capacity ${capacity} is not a power of two`, name);
    return new ShmRing(name, shm.open(name, CTRL + capacity), capacity);
  }

  /** Removes the segment's name (mappings stay valid until collected). */
  unlink(): void {
    shm.unlink(this.name);
  }

  /** Largest payload one frame can carry in this ring. */
  get maxPayload(): number {
    return this.capacity / 2 - FRAME_HEADER;
  }

  // ---- producer ---------------------------------------------------------------------------------------------

  /**
   * Writes one frame if there is room; false when the ring is full (the caller waits with `waitForSpace` or drops by
   * its policy). `fill`, when given, writes the payload in place into the view it receives instead of copying one.
   */
  tryWrite(h: Omit<FrameHeader, "len">, payload: Uint8Array, fill?: (view: Uint8Array) => void): boolean {
    const len = payload.length;
    if (len > this.maxPayload)
      throw new FabricError("RTT_FABRIC_USAGE", `a ${len}-byte frame does not fit this ring (max ${this.maxPayload})`);
    const need = align8(FRAME_HEADER + len);
    let head = this.head;
    const pos = head & this.mask;
    const toEnd = this.capacity - pos;
    const skip = toEnd < need ? toEnd : 0;
    const tail = Atomics.load(this.ctrl, W_TAIL) >>> 0;
    if (this.capacity - ((head - tail) >>> 0) < need + skip) return false;
    if (skip > 0) {
      if (toEnd >= FRAME_HEADER)
        writeFrameHeader(this.data, pos, { flags: FLAG_PAD, routeId: 0, frameId: 0, len: toEnd - FRAME_HEADER }, EMPTY);
      head = (head + skip) >>> 0;
    }
    const at = head & this.mask;
    const view = this.data.subarray(at + FRAME_HEADER, at + FRAME_HEADER + len);
    if (fill) fill(view);
    else view.set(payload);
    writeFrameHeader(this.data, at, { ...h, len }, view);
    this.head = (head + need) >>> 0;
    Atomics.store(this.ctrl, W_HEAD, this.head | 0);
    if (Atomics.load(this.ctrl, W_CONSUMER_WAITING) !== 0) shm.wake(this.buffer, W_HEAD * 4, 1);
    return true;
  }

  /**
   * Coalesced send (autotune's batch window, spec/fabric/autotune.md): writes as many of `frames` as fit, in order,
   * publishing `head` once and waking the consumer at most once — one wake for the batch instead of one per frame.
   * Returns how many were written (the rest wait for space).
   */
  tryWriteMany(frames: ReadonlyArray<{ h: Omit<FrameHeader, "len">; payload: Uint8Array }>): number {
    let head = this.head;
    let n = 0;
    for (const f of frames) {
      const len = f.payload.length;
      if (len > this.maxPayload)
        throw new FabricError(
          "RTT_FABRIC_USAGE",
          `a ${len}-byte frame does not fit this ring (max ${this.maxPayload})`,
        );
      const need = align8(FRAME_HEADER + len);
      const pos = head & this.mask;
      const toEnd = this.capacity - pos;
      const skip = toEnd < need ? toEnd : 0;
      const tail = Atomics.load(this.ctrl, W_TAIL) >>> 0;
      if (this.capacity - ((head - tail) >>> 0) < need + skip) break;
      if (skip > 0) {
        if (toEnd >= FRAME_HEADER)
          writeFrameHeader(
            this.data,
            pos,
            { flags: FLAG_PAD, routeId: 0, frameId: 0, len: toEnd - FRAME_HEADER },
            EMPTY,
          );
        head = (head + skip) >>> 0;
      }
      const at = head & this.mask;
      const view = this.data.subarray(at + FRAME_HEADER, at + FRAME_HEADER + len);
      view.set(f.payload);
      writeFrameHeader(this.data, at, { ...f.h, len }, view);
      head = (head + need) >>> 0;
      n++;
    }
    if (n === 0) return 0;
    this.head = head;
    Atomics.store(this.ctrl, W_HEAD, this.head | 0);
    if (Atomics.load(this.ctrl, W_CONSUMER_WAITING) !== 0) shm.wake(this.buffer, W_HEAD * 4, 1);
    return n;
  }

  /** Parks (off the event loop) until the consumer frees space or `timeoutMicros` pass. */
  async waitForSpace(timeoutMicros: number): Promise<void> {
    const seen = Atomics.load(this.ctrl, W_TAIL);
    Atomics.store(this.ctrl, W_PRODUCER_WAITING, 1);
    await shm.waitAsync(this.buffer, W_TAIL * 4, seen, timeoutMicros);
    Atomics.store(this.ctrl, W_PRODUCER_WAITING, 0);
  }

  // ---- consumer ---------------------------------------------------------------------------------------------

  /** True when a frame (or padding) is waiting. */
  hasData(): boolean {
    return Atomics.load(this.ctrl, W_HEAD) >>> 0 !== this.tail;
  }

  /**
   * The next good frame, or undefined when the ring is empty. Frames with a bad CRC or header bits are skipped and
   * counted; bytes that cannot be framed (bad magic, a length past the written data) break the ring.
   * Call `release()` when done with the payload view.
   */
  tryRead(): RingFrame | undefined {
    if (this.broken) return undefined;
    if (this.pending) this.release();
    for (;;) {
      const head = Atomics.load(this.ctrl, W_HEAD) >>> 0;
      const used = (head - this.tail) >>> 0;
      if (used === 0) return undefined;
      if (used > this.capacity) return this.breakRing(`head is ${used} bytes ahead of tail`);
      const pos = this.tail & this.mask;
      const toEnd = this.capacity - pos;
      if (toEnd < FRAME_HEADER) {
        this.advance(toEnd);
        continue;
      }
      const h = readFrameHeader(this.data, pos);
      if (h === "bad_magic" || h === "too_large") {
        this.drops[h]++;
        return this.breakRing(`${h} at ring offset ${pos}`);
      }
      const len =
        typeof h === "string"
          ? new DataView(this.data.buffer, this.data.byteOffset + pos + 16, 4).getUint32(0, true)
          : h.len;
      const size = FRAME_HEADER + len;
      if (size > toEnd || align8(size) > used) return this.breakRing(`a ${len}-byte frame runs past the written data`);
      if (typeof h !== "string" && h.flags & FLAG_PAD) {
        this.advance(toEnd);
        continue;
      }
      const payload = this.data.subarray(pos + FRAME_HEADER, pos + size);
      if (typeof h === "string" || !frameCrcOk(this.data, pos, payload)) {
        this.drops[typeof h === "string" ? h : "bad_crc"]++;
        this.advance(align8(size));
        continue;
      }
      this.pending = align8(size);
      return { ...h, payload };
    }
  }

  /** Gives the last frame's bytes back to the producer. */
  release(): void {
    if (!this.pending) return;
    const n = this.pending;
    this.pending = 0;
    this.advance(n);
  }

  /**
   * Waits for data: spins for `spinMicros` (cheap when the peer answers fast), then parks on the futex through the
   * libuv pool for up to `timeoutMicros`. Resolves true when data is there.
   */
  async waitForData(spinMicros: number, timeoutMicros: number): Promise<boolean> {
    if (this.spin(spinMicros)) return true;
    const seen = this.tail | 0;
    Atomics.store(this.ctrl, W_CONSUMER_WAITING, 1);
    if (!this.hasData()) await shm.waitAsync(this.buffer, W_HEAD * 4, seen, timeoutMicros);
    Atomics.store(this.ctrl, W_CONSUMER_WAITING, 0);
    return this.hasData();
  }

  /** The same, blocking the calling thread (for a worker that does nothing else). */
  waitForDataSync(spinMicros: number, timeoutMicros: number): boolean {
    if (this.spin(spinMicros)) return true;
    const seen = this.tail | 0;
    Atomics.store(this.ctrl, W_CONSUMER_WAITING, 1);
    if (!this.hasData()) shm.wait(this.buffer, W_HEAD * 4, seen, timeoutMicros);
    Atomics.store(this.ctrl, W_CONSUMER_WAITING, 0);
    return this.hasData();
  }

  /** Parks this thread until the consumer frees space or `timeoutMicros` pass (a producer thread that does nothing else). */
  waitForSpaceSync(timeoutMicros: number): void {
    const seen = Atomics.load(this.ctrl, W_TAIL);
    Atomics.store(this.ctrl, W_PRODUCER_WAITING, 1);
    shm.wait(this.buffer, W_TAIL * 4, seen, timeoutMicros);
    Atomics.store(this.ctrl, W_PRODUCER_WAITING, 0);
  }

  private spin(micros: number): boolean {
    if (this.hasData()) return true;
    if (micros <= 0) return false;
    const until = performance.now() + micros / 1000;
    while (performance.now() < until) if (this.hasData()) return true;
    return false;
  }

  private advance(n: number): void {
    this.tail = (this.tail + n) >>> 0;
    Atomics.store(this.ctrl, W_TAIL, this.tail | 0);
    if (Atomics.load(this.ctrl, W_PRODUCER_WAITING) !== 0) shm.wake(this.buffer, W_TAIL * 4, 1);
  }

  private breakRing(why: string): undefined {
    this.drops.corrupt++;
    this.broken = why;
    return undefined;
  }
}

const EMPTY = new Uint8Array(0);
