import { crc32c } from "../crc32c.js";

/**
 * The fabric's frame (seed 004, "SHM Frame Format"; spec/fabric/frame.md), the same on every lane:
 *
 *   offset 0  magic    4 bytes  "RTT1" (0x52 0x54 0x54 0x31)
 *          4  flags    u16 LE   FLAG_* below
 *          6  reserved u16      0
 *          8  route_id u32 LE
 *         12  frame_id u32 LE
 *         16  len      u32 LE   payload bytes
 *         20  crc32c   u32 LE   CRC-32C of bytes [4, 20) then the payload
 *         24  payload[len]
 */
export const FRAME_HEADER = 24;
export const FRAME_MAGIC = 0x31545452; // "RTT1" read as a little-endian u32
/** Upper bound of one frame's payload on stream lanes; SHM rings are bounded by their capacity. */
export const MAX_FRAME_PAYLOAD = 16 * 1024 * 1024;

export const FLAG_RESPONSE = 0x0001;
export const FLAG_ERROR = 0x0002;
export const FLAG_CONTROL = 0x0004;
/** Padding in an SHM ring up to its end: the reader skips to the ring's start. Never sent on a stream. */
export const FLAG_PAD = 0x8000;
const KNOWN_FLAGS = FLAG_RESPONSE | FLAG_ERROR | FLAG_CONTROL | FLAG_PAD;

export interface FrameHeader {
  flags: number;
  routeId: number;
  frameId: number;
  len: number;
}

/** Why a frame was dropped; each is counted (fabric metrics `drop reason`). */
export type FrameDrop = "bad_magic" | "bad_crc" | "too_large" | "reserved" | "unknown_flags" | "truncated";

/** CRC-32C of header bytes [4, 20) (flags … len) chained with the payload: a flipped header bit is caught too. */
export function frameCrc(header: Uint8Array, payload: Uint8Array): number {
  return crc32c(payload, crc32c(header.subarray(4, 20)));
}

/** Writes a header for `payload` at `out[at…]` (24 bytes), CRC included. */
export function writeFrameHeader(out: Uint8Array, at: number, h: FrameHeader, payload: Uint8Array): void {
  const v = new DataView(out.buffer, out.byteOffset + at, FRAME_HEADER);
  v.setUint32(0, FRAME_MAGIC, true);
  v.setUint16(4, h.flags, true);
  v.setUint16(6, 0, true);
  v.setUint32(8, h.routeId, true);
  v.setUint32(12, h.frameId, true);
  v.setUint32(16, h.len, true);
  v.setUint32(20, frameCrc(out.subarray(at, at + FRAME_HEADER), payload), true);
}

/** A whole frame as one buffer (stream lanes). */
export function encodeFrame(h: Omit<FrameHeader, "len">, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  out.set(payload, FRAME_HEADER);
  writeFrameHeader(out, 0, { ...h, len: payload.length }, payload);
  return out;
}

/** Reads the header at `buf[at…]` (at least 24 bytes there). Checks what the header alone can tell. */
export function readFrameHeader(buf: Uint8Array, at: number): FrameHeader | FrameDrop {
  const v = new DataView(buf.buffer, buf.byteOffset + at, FRAME_HEADER);
  if (v.getUint32(0, true) !== FRAME_MAGIC) return "bad_magic";
  const flags = v.getUint16(4, true);
  const len = v.getUint32(16, true);
  if (len > MAX_FRAME_PAYLOAD) return "too_large";
  if (v.getUint16(6, true) !== 0) return "reserved";
  if ((flags & ~KNOWN_FLAGS) !== 0) return "unknown_flags";
  return { flags, routeId: v.getUint32(8, true), frameId: v.getUint32(12, true), len };
}

/** True when the CRC in the header at `buf[at…]` matches it and `payload`. */
export function frameCrcOk(buf: Uint8Array, at: number, payload: Uint8Array): boolean {
  const want = new DataView(buf.buffer, buf.byteOffset + at + 20, 4).getUint32(0, true);
  return frameCrc(buf.subarray(at, at + FRAME_HEADER), payload) === want;
}

export interface Frame extends FrameHeader {
  payload: Buffer;
}

/**
 * Splits a byte stream (UDS, TCP) into frames. A bad CRC, reserved bits or unknown flags drop that frame and the
 * stream goes on (the length still frames it); a bad magic or an oversized length means the stream lost its
 * framing: `fatal` is set and the connection must be closed. Memory stays bounded by one frame.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  fatal: FrameDrop | undefined;
  readonly drops: Record<FrameDrop, number> = {
    bad_magic: 0,
    bad_crc: 0,
    too_large: 0,
    reserved: 0,
    unknown_flags: 0,
    truncated: 0,
  };

  constructor(private readonly maxPayload = MAX_FRAME_PAYLOAD) {}

  /** Feeds bytes; returns the complete good frames they finish. */
  push(chunk: Buffer): Frame[] {
    if (this.fatal) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Frame[] = [];
    while (this.buffered >= FRAME_HEADER) {
      const head = this.peek(FRAME_HEADER);
      const h = readFrameHeader(head, 0);
      const len = typeof h === "string" ? head.readUInt32LE(16) : h.len;
      if (h === "bad_magic" || h === "too_large" || len > this.maxPayload) {
        const reason = h === "bad_magic" ? "bad_magic" : "too_large";
        this.drops[reason]++;
        this.fatal = reason;
        this.chunks = [];
        this.buffered = 0;
        return out;
      }
      if (this.buffered < FRAME_HEADER + len) break;
      const whole = this.take(FRAME_HEADER + len);
      const payload = whole.subarray(FRAME_HEADER);
      if (typeof h === "string") this.drops[h]++;
      else if (!frameCrcOk(whole, 0, payload)) this.drops.bad_crc++;
      else out.push({ ...h, payload });
    }
    return out;
  }

  /** Bytes of a frame cut off when the stream ended (the peer died mid-frame): counted as `truncated`. */
  end(): void {
    if (this.buffered > 0) this.drops.truncated++;
    this.chunks = [];
    this.buffered = 0;
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) return first;
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined;
  }

  private take(n: number): Buffer {
    const first = this.peek(n);
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }
}
