import * as hdr from "hdr-histogram-js";
import { afterAll, describe, expect, it } from "vitest";
import { isFabricError } from "../../src/errors.js";
import { ShmRing } from "../../src/lanes/shm-ring.js";
import { BreakerSet } from "../../src/telemetry/breaker.js";
import {
  bucketDiff,
  captureFlight,
  decodeHdr,
  FLIGHT_FORMAT,
  type FlightLine,
  FlightRecorder,
  hdrOf,
  LatencyRecorder,
  latencyIndex,
  latencyValue,
  newHdr,
  parseDuration,
  readProcessCounters,
} from "../../src/telemetry/recorder.js";

describe("latency recorder: HDR-compatible buckets", () => {
  it("lands every value in the bucket hdr-histogram-js would (same counts index)", () => {
    const h = newHdr() as hdr.Histogram & { countsArrayIndex(v: number): number };
    const values = [
      1,
      2,
      127,
      128,
      255,
      256,
      257,
      1000,
      4095,
      65_535,
      1e6,
      2 ** 31 - 1,
      2 ** 31,
      2 ** 32 - 1,
      2 ** 32,
      5e9,
      2 ** 36 - 1,
    ];
    for (let i = 0; i < 2000; i++) values.push(1 + Math.floor(Math.random() ** 4 * (2 ** 36 - 2)));
    for (const v of values) {
      expect(latencyIndex(v), `value ${v}`).toBe(h.countsArrayIndex(v));
      expect(h.countsArrayIndex(latencyValue(latencyIndex(v))), `bucket of ${v}`).toBe(h.countsArrayIndex(v));
    }
  });

  it("converts to a real HDR histogram exactly: same percentiles as recording into hdr-histogram-js directly", () => {
    const rec = new LatencyRecorder();
    const direct = newHdr();
    for (let i = 0; i < 50_000; i++) {
      const v = Math.round(5_000 + 200_000 * Math.random() ** 6 + (i % 97 === 0 ? 5e7 : 0));
      rec.record(v);
      direct.recordValue(v);
    }
    const h = hdrOf(rec.buckets());
    expect(h.totalCount).toBe(50_000);
    for (const p of [50, 90, 95, 99, 99.9, 100]) expect(h.getValueAtPercentile(p)).toBe(direct.getValueAtPercentile(p));
    // and the base64 travels: decode(encode) keeps every count
    const back = decodeHdr(hdr.encodeIntoCompressedBase64(h));
    expect(back.totalCount).toBe(50_000);
    expect(back.getValueAtPercentile(99)).toBe(direct.getValueAtPercentile(99));
  });

  it("interval histograms are differences of cumulative snapshots, and merge back to the whole", () => {
    const rec = new LatencyRecorder();
    for (let i = 1; i <= 1000; i++) rec.record(i * 1000);
    const a = rec.buckets();
    for (let i = 1; i <= 500; i++) rec.record(i * 50_000);
    const b = rec.buckets();
    const second = hdrOf(bucketDiff(b, a));
    expect(second.totalCount).toBe(500);
    expect(second.minNonZeroValue).toBeGreaterThanOrEqual(49_000);
    const merged = hdrOf(a);
    merged.add(second);
    expect(merged.totalCount).toBe(1500);
    expect(merged.getValueAtPercentile(99)).toBe(hdrOf(b).getValueAtPercentile(99));
  });
});

describe("flight window durations", () => {
  it("accepts 5s, 500ms, 2m, 1h, 1.5s", () => {
    expect(parseDuration("5s", "--flight")).toBe(5000);
    expect(parseDuration("500ms", "--flight")).toBe(500);
    expect(parseDuration("2m", "--flight")).toBe(120_000);
    expect(parseDuration("1h", "--flight")).toBe(3_600_000);
    expect(parseDuration("1.5s", "--flight")).toBe(1500);
  });

  it.each([
    ["0s", /longer than 0/],
    ["0", /expected a duration/],
    ["10h", /longer than the 1h cap/],
    ["-5s", /expected a duration/],
    ["5 seconds", /expected a duration/],
    ["", /expected a duration/],
  ])("refuses %j with a clear error", (text, why) => {
    let err: unknown;
    try {
      parseDuration(text, "--flight");
    } catch (e) {
      err = e;
    }
    expect(isFabricError(err) && err.code).toBe("RTT_FABRIC_USAGE");
    expect((err as Error).message).toMatch(why);
  });
});

describe("flight capture over a real SHM ring echo", () => {
  const rings: ShmRing[] = [];
  afterAll(() => {
    for (const r of rings) r.unlink();
  });

  it("writes a header, one line per route per interval plus a process line, and a footer that merges them", async () => {
    const name = `/rtt-flight-test-${process.pid}`;
    const w = ShmRing.create(name, 1 << 16);
    rings.push(w);
    const r = ShmRing.open(name);
    const recorder = new FlightRecorder();
    const breakers = new BreakerSet(Date.now, { defaults: { consecutive_errors: 0 } });
    const table = [
      { route_id: 1, from: "rtt://app/x", to: "rtt://svc/echo", lane: "shm" },
      { route_id: 2, from: "rtt://app/y", to: "rtt://svc/idle", lane: "shm" },
    ];
    breakers.setRoutes(table);
    const payload = new Uint8Array(64);
    let sent = 0;
    let stop = false;
    // the traffic: a frame written to the ring, read back and timed, as a lane loop does it
    const traffic = (async () => {
      while (!stop) {
        for (let i = 0; i < 200; i++) {
          const t0 = process.hrtime.bigint();
          breakers.get(1)?.admit();
          w.tryWrite({ flags: 0, routeId: 1, frameId: sent++ }, payload);
          const f = r.tryRead();
          r.release();
          const ok = f !== undefined && f.len === 64;
          recorder.route(1).done(Number(process.hrtime.bigint() - t0), ok ? undefined : "RTT_FABRIC_DRIVER");
          breakers.get(1)?.done(ok);
        }
        recorder.route(1).drop("ring_full");
        await new Promise((res) => setImmediate(res));
      }
    })();
    const lines: FlightLine[] = [];
    const footer = await captureFlight({
      windowMs: 600,
      intervalMs: 200,
      snapshot: () =>
        recorder.snapshot({
          table,
          planId: "sha256:test",
          breakers: (id) => breakers.get(id)?.view(),
          laneDrops: { shm: { bad_crc: 0 } },
        }),
      write: (l) => {
        lines.push(JSON.parse(JSON.stringify(l)) as FlightLine);
      },
      source: { test: "shm echo" },
    });
    stop = true;
    await traffic;

    expect(lines[0]).toMatchObject({ type: "header", format: FLIGHT_FORMAT, window_ms: 600, interval_ms: 200 });
    expect(lines.at(-1)).toEqual(footer);
    const routeLines = lines.filter((l) => l.type === "route");
    const procLines = lines.filter((l) => l.type === "process");
    expect(footer.intervals).toBe(3);
    expect(routeLines).toHaveLength(3 * 2);
    expect(procLines).toHaveLength(3);
    expect(footer.lines).toBe(lines.length);
    const busy = routeLines.filter((l) => l.type === "route" && l.route_id === 1);
    let calls = 0;
    for (const l of busy) {
      if (l.type !== "route") continue;
      expect(l.calls).toBeGreaterThan(0);
      expect(l.errors).toBe(0);
      expect(l.drops.ring_full).toBeGreaterThan(0);
      expect(l.breaker).toMatchObject({ state: "closed", caps_open: [] });
      expect(l.latency_us?.p50).toBeGreaterThan(0);
      expect(l.latency_us!.p50).toBeLessThanOrEqual(l.latency_us!.p95);
      expect(l.latency_us!.p95).toBeLessThanOrEqual(l.latency_us!.p99);
      expect(decodeHdr(l.hdr).totalCount).toBe(l.calls);
      calls += l.calls;
    }
    const idle = routeLines.find((l) => l.type === "route" && l.route_id === 2);
    expect(idle).toMatchObject({ calls: 0, latency_us: null, hdr: "" });
    const f1 = footer.routes.find((x) => x.route_id === 1)!;
    expect(f1.calls).toBe(calls);
    expect(decodeHdr(f1.hdr).totalCount).toBe(calls);
    if (readProcessCounters()) {
      const p = procLines[0];
      expect(p?.type === "process" && p.syscalls).toBeTruthy();
    }
    // every line is one JSON object (NDJSON)
    for (const l of lines) expect(JSON.stringify(l)).not.toContain("\n");
  });

  it("a snapshot that fails ends the capture with the footer's error", async () => {
    let n = 0;
    const rec = new FlightRecorder();
    const lines: FlightLine[] = [];
    const footer = await captureFlight({
      windowMs: 10_000,
      intervalMs: 10,
      snapshot: () => {
        if (++n > 2) throw new Error("daemon went away");
        return rec.snapshot({ table: [], planId: null });
      },
      write: (l) => {
        lines.push(l);
      },
    });
    expect(footer).toMatchObject({ type: "footer", intervals: 1, error: "daemon went away" });
    expect(lines.map((l) => l.type)).toEqual(["header", "process", "footer"]);
  });
});
