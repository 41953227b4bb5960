import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { encodeFrame, FrameReader } from "../../src/lanes/frame.js";
import { ShmRing } from "../../src/lanes/shm-ring.js";

const rings: ShmRing[] = [];
let n = 0;
function pair(capacity = 4096): [ShmRing, ShmRing] {
  const p = ShmRing.create(`/rtt-ring-test-${process.pid}-${++n}`, capacity);
  rings.push(p);
  return [p, ShmRing.open(p.name)];
}
afterEach(() => {
  for (const r of rings.splice(0)) r.unlink();
});

const bytes = (len: number, seed: number) => Uint8Array.from({ length: len }, (_, i) => (i * 31 + seed) & 0xff);

describe("SHM ring", () => {
  it("carries frames in order through many wrap-arounds, byte for byte (any sizes)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1500 }), { minLength: 1, maxLength: 200 }), (sizes) => {
        const [w, r] = pair();
        let next = 0;
        for (let i = 0; i < sizes.length; i++) {
          const payload = bytes(sizes[i] as number, i);
          while (!w.tryWrite({ flags: 0, routeId: 7, frameId: i }, payload)) {
            const f = r.tryRead();
            expect(f?.frameId).toBe(next);
            expect(Buffer.from(f?.payload ?? []).equals(Buffer.from(bytes(sizes[next] as number, next)))).toBe(true);
            r.release();
            next++;
          }
        }
        for (let f = r.tryRead(); f; f = r.tryRead()) {
          expect(f.frameId).toBe(next);
          expect(f.payload.length).toBe(sizes[next]);
          next++;
        }
        expect(next).toBe(sizes.length);
        expect(r.drops.bad_crc + r.drops.corrupt).toBe(0);
        w.unlink();
        rings.pop();
      }),
      { numRuns: 30 },
    );
  });

  it("says full instead of overwriting, and refuses a frame larger than half the ring", () => {
    const [w, r] = pair();
    let written = 0;
    while (w.tryWrite({ flags: 0, routeId: 1, frameId: written }, bytes(1000, 1))) written++;
    expect(written).toBe(4); // 4 × 1024 bytes fill 4 KiB
    expect(r.tryRead()?.frameId).toBe(0);
    r.release();
    expect(w.tryWrite({ flags: 0, routeId: 1, frameId: 99 }, bytes(1000, 1))).toBe(true);
    expect(() => w.tryWrite({ flags: 0, routeId: 1, frameId: 0 }, bytes(3000, 0))).toThrow(/does not fit this ring/);
  });

  it("drops and counts a frame whose payload changed after it was written, and goes on", () => {
    const [w, r] = pair();
    w.tryWrite({ flags: 0, routeId: 1, frameId: 1 }, bytes(100, 1));
    w.tryWrite({ flags: 0, routeId: 1, frameId: 2 }, bytes(100, 2));
    new Uint8Array(r.buffer, 256 + 24 + 50, 1)[0] ^= 0xff; // flip a byte in frame 1's payload
    expect(r.tryRead()?.frameId).toBe(2);
    expect(r.drops.bad_crc).toBe(1);
  });

  it("breaks (does not guess) when the bytes cannot be framed, and says why", () => {
    const [w, r] = pair();
    w.tryWrite({ flags: 0, routeId: 1, frameId: 1 }, bytes(10, 1));
    new Uint8Array(r.buffer, 256, 4).set([0, 0, 0, 0]); // magic gone
    expect(r.tryRead()).toBeUndefined();
    expect(r.broken).toMatch(/bad_magic at ring offset 0/);
    expect(r.drops.corrupt).toBe(1);
  });

  it("refuses a segment that is not a ring", () => {
    expect(() => ShmRing.open("/rtt-no-such-ring")).toThrow(/No such file/);
    expect(() => ShmRing.create("/rtt-x", 1000)).toThrow(/power of two/);
  });
});

describe("stream framing (UDS, TCP)", () => {
  it("splits frames however the stream is chunked, drops a bad CRC and keeps going", () => {
    const frames = [0, 1, 2, 3].map((i) => encodeFrame({ flags: 0, routeId: 3, frameId: i }, bytes(i * 700, i)));
    (frames[1] as Buffer)[30] ^= 1;
    const all = Buffer.concat(frames);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 600 }), { maxLength: 30 }), (cuts) => {
        const reader = new FrameReader();
        const got: number[] = [];
        let at = 0;
        for (const c of cuts) {
          for (const f of reader.push(all.subarray(at, Math.min(all.length, at + c)))) got.push(f.frameId);
          at = Math.min(all.length, at + c);
        }
        for (const f of reader.push(all.subarray(at))) got.push(f.frameId);
        expect(got).toEqual([0, 2, 3]);
        expect(reader.drops.bad_crc).toBe(1);
      }),
    );
  });

  it("a bad magic or an oversized length ends the stream; a peer that dies mid-frame is counted", () => {
    const r = new FrameReader(1024);
    expect(r.push(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))).toEqual([]);
    expect(r.fatal).toBe("bad_magic");
    const big = new FrameReader(1024);
    big.push(encodeFrame({ flags: 0, routeId: 1, frameId: 1 }, new Uint8Array(2000)));
    expect(big.fatal).toBe("too_large");
    const cut = new FrameReader();
    cut.push(encodeFrame({ flags: 0, routeId: 1, frameId: 1 }, new Uint8Array(100)).subarray(0, 60));
    cut.end();
    expect(cut.drops.truncated).toBe(1);
  });
});
