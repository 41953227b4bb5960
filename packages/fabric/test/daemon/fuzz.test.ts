import { connect, type Socket } from "node:net";
import * as shm from "@rtt/shm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FabricClient } from "../../src/daemon/client.js";
import { encodeFrame, MAX_FRAME_PAYLOAD } from "../../src/lanes/frame.js";
import type { ShmRing } from "../../src/lanes/shm-ring.js";
import { type Daemon, json, project, route, startDaemon } from "./harness.js";

// 10,000 malformed frames to every lane (fast-check generated): the daemon survives, every one is dropped and counted
// by reason, and good traffic afterwards still works.
const p = project([route(1, "rtt://app/echo", "rtt://svc/echo")], { "rtt://svc/echo": { builtin: "echo" } });
let d: Daemon;
beforeAll(async () => {
  d = await startDaemon(p, ["--tcp", "0"]);
});
afterAll(async () => {
  await d?.stop();
  p.cleanup();
});

type Kind = "bad_magic" | "too_large" | "bad_crc" | "reserved" | "unknown_flags" | "truncated" | "random";
/** Kinds that lose the stream's framing (each needs its own connection) or end it (truncated). */
const FATAL = new Set<Kind>(["bad_magic", "too_large", "truncated", "random"]);

const malformed = fc
  .record({
    kind: fc.constantFrom<Kind>(
      "bad_magic",
      "too_large",
      "bad_crc",
      "bad_crc",
      "bad_crc",
      "reserved",
      "unknown_flags",
      "truncated",
      "random",
    ),
    payload: fc.uint8Array({ maxLength: 200 }),
    bit: fc.nat(),
    rnd: fc.uint8Array({ minLength: 24, maxLength: 64 }),
  })
  .map(({ kind, payload, bit, rnd }): { kind: Kind; bytes: Buffer } => {
    const f = encodeFrame({ flags: 0, routeId: 1, frameId: bit >>> 0 }, payload);
    switch (kind) {
      case "bad_magic":
        f[bit % 4] ^= 1 << (bit % 8);
        break;
      case "too_large":
        f.writeUInt32LE(MAX_FRAME_PAYLOAD + 1 + (bit % 1000), 16);
        break;
      case "bad_crc": {
        // a bit of route_id, frame_id, the CRC or the payload (flags, reserved and len have reasons of their own)
        const spots = f.length - 12;
        const k = bit % spots;
        const at = k < 8 ? 8 + k : 20 + (k - 8);
        f[at] ^= 1 << (bit % 8);
        break;
      }
      case "reserved":
        f.writeUInt16LE(1 + (bit % 0xfffe), 6);
        break;
      case "unknown_flags":
        f.writeUInt16LE(0x0100 << (bit % 7), 4);
        break;
      case "truncated":
        return { kind, bytes: f.subarray(0, 1 + (bit % (f.length - 1))) };
      case "random":
        rnd[0] = 0; // never "R": not a magic
        return { kind, bytes: Buffer.from(rnd) };
    }
    return { kind, bytes: f };
  });

const N = 10_000;

function openSocket(lane: "uds" | "tcp"): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = lane === "uds" ? connect(p.socket) : connect(d.tcp?.port as number, d.tcp?.host);
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/** Writes `bytes` then closes; resolves when the daemon closed its side too. */
async function sendAndClose(lane: "uds" | "tcp", bytes: Buffer): Promise<void> {
  const s = await openSocket(lane);
  s.on("error", () => {});
  await new Promise<void>((r) => {
    s.once("close", () => r());
    s.end(bytes);
    s.resume();
  });
}

const expected = (frames: Array<{ kind: Kind; bytes: Buffer }>) => {
  const want: Record<string, number> = {};
  for (const f of frames) {
    const reason = f.kind === "random" ? (f.bytes.length >= 24 ? "bad_magic" : "truncated") : f.kind;
    want[reason] = (want[reason] ?? 0) + 1;
  }
  return want;
};

async function status(): Promise<any> {
  const c = await FabricClient.uds(p.socket);
  try {
    return await c.control("status");
  } finally {
    c.close();
  }
}

describe("fabric daemon under malformed frames (integration)", () => {
  for (const lane of ["uds", "tcp"] as const)
    it(`${lane}: ${N} malformed frames dropped and counted, then good calls work`, async () => {
      const frames = fc.sample(malformed, { numRuns: N, seed: lane === "uds" ? 16 : 61 });
      const before = (await status()).drops[lane];
      // frames that keep the framing go back to back on one connection; the others each get their own
      const keep = Buffer.concat(frames.filter((f) => !FATAL.has(f.kind)).map((f) => f.bytes));
      await sendAndClose(lane, keep);
      const fatal = frames.filter((f) => FATAL.has(f.kind));
      for (let i = 0; i < fatal.length; i += 32)
        await Promise.all(fatal.slice(i, i + 32).map((f) => sendAndClose(lane, f.bytes)));
      const got = (await status()).drops[lane];
      for (const [reason, n] of Object.entries(expected(frames)))
        expect({ reason, n: (got[reason] ?? 0) - (before[reason] ?? 0) }).toEqual({ reason, n });
      const c =
        lane === "uds"
          ? await FabricClient.uds(p.socket)
          : await FabricClient.tcp(d.tcp?.host as string, d.tcp?.port as number);
      expect(Buffer.from(await c.call(1, json({ still: "fine" }))).toString()).toBe('{"still":"fine"}');
      c.close();
    }, 240_000);

  it(`shm: ${N} malformed frames (+40 unframeable) into request rings: skipped and counted, unframeable bytes close the lane only`, async () => {
    const c = await FabricClient.uds(p.socket);
    const frames = fc.sample(malformed, { numRuns: 2 * N, seed: 7 });
    // the ring reader skips bad CRC / reserved / unknown flags and goes on; a bad magic or impossible length breaks
    // the lane (then the daemon closes it and a new lane is asked for). Truncation cannot happen in a ring.
    const skip = frames.filter((f) => !FATAL.has(f.kind)).slice(0, N);
    expect(skip.length).toBe(N);
    const breaking = frames.filter((f) => f.kind === "bad_magic" || f.kind === "too_large").slice(0, 40);
    let lane = await c.openShm({ route_id: 1 }, 1 << 16);
    for (const f of skip) {
      while (!rawWrite(lane.req, f.bytes)) await lane.req.waitForSpace(10_000);
    }
    expect(Buffer.from(await lane.call(json("after skips"))).toString()).toBe('"after skips"');
    let broken = 0;
    for (const f of breaking) {
      rawWrite(lane.req, f.bytes);
      for (let i = 0; i < 200 && (await status()).lanes.shm_open.length > 0; i++)
        await new Promise((r) => setTimeout(r, 10));
      broken++;
      lane = await c.openShm({ route_id: 1 }, 1 << 16);
    }
    expect(Buffer.from(await lane.call(json("still fine"))).toString()).toBe('"still fine"');
    await lane.close();
    const s = await status();
    const want = expected(skip);
    expect(s.drops.shm.bad_crc).toBe(want.bad_crc);
    expect(s.drops.shm.reserved).toBe(want.reserved);
    expect(s.drops.shm.unknown_flags).toBe(want.unknown_flags);
    expect(s.drops.shm.lane_broken).toBe(broken);
    expect(s.drops.shm.corrupt).toBe(broken);
    c.close();
  }, 240_000);
});

/** Writes raw bytes as the producer of `ring` (the layout of shm-ring.ts: head word at byte 64, tail at 128). */
function rawWrite(ring: ShmRing, bytes: Uint8Array): boolean {
  const ctrl = new Int32Array(ring.buffer, 0, 64);
  const data = new Uint8Array(ring.buffer, 256, ring.capacity);
  const need = (bytes.length + 7) & ~7;
  const head = Atomics.load(ctrl, 16) >>> 0;
  const tail = Atomics.load(ctrl, 32) >>> 0;
  const pos = head & (ring.capacity - 1);
  const toEnd = ring.capacity - pos;
  const skip = toEnd < need ? toEnd : 0;
  if (ring.capacity - ((head - tail) >>> 0) < need + skip) return false;
  if (skip >= 24) {
    // a PAD frame up to the end (the reader skips it before any CRC check), as tryWrite writes
    const v = new DataView(ring.buffer, 256 + pos, 24);
    v.setUint32(0, 0x31545452, true);
    v.setUint16(4, 0x8000, true);
    v.setUint16(6, 0, true);
    v.setUint32(16, skip - 24, true);
  }
  if (skip > 0) return rawWriteAt(ring, ctrl, data, (head + skip) >>> 0, bytes, need);
  return rawWriteAt(ring, ctrl, data, head, bytes, need);
}

function rawWriteAt(
  ring: ShmRing,
  ctrl: Int32Array,
  data: Uint8Array,
  head: number,
  bytes: Uint8Array,
  need: number,
): boolean {
  data.set(bytes, head & (ring.capacity - 1));
  (ring as unknown as { head: number }).head = (head + need) >>> 0;
  Atomics.store(ctrl, 16, (head + need) | 0);
  if (Atomics.load(ctrl, 48) !== 0) shm.wake(ring.buffer, 64, 1);
  return true;
}
