import { readFileSync } from "node:fs";
import * as hdr from "hdr-histogram-js";
import { FabricError } from "../errors.js";
import type { BreakerView } from "./breaker.js";

/**
 * The flight recorder (seed 004 layer 4; spec/fabric/flight.md). The daemon keeps cumulative per-route state — call
 * and error counts, drops by reason, a latency histogram — and hands out snapshots; a tap (`rtt tap --flight 5s`)
 * takes one snapshot per interval and writes the differences as NDJSON, so any number of taps can run at once and
 * the daemon keeps no per-tap state.
 *
 * Latencies are recorded into a plain Float64Array laid out exactly like an HdrHistogram with lowest value 1 ns,
 * 2 significant digits (256 sub-buckets, ≤ 1 % error) and highest 2^36 ns (68.7 s): one `Math.clz32` and an array
 * increment per call (hdr-histogram-js's own recordValue costs ~10× more). Snapshots convert the buckets into a real
 * hdr-histogram-js histogram — exactly, bucket for bucket — whose compressed base64 merges and travels.
 */

/** HDR layout of the recorder: sub-bucket half count 128 (2 significant digits), unit 1 ns. */
export const LATENCY_HDR = Object.freeze({ unit: "ns", lowest: 1, highest: 2 ** 36, significant_digits: 2 as const });
const SUB_HALF_BITS = 7;
const SUB_HALF = 1 << SUB_HALF_BITS; // 128
const MAX_BUCKET = 36 - SUB_HALF_BITS - 1; // bucket index of 2^36 - 1
const COUNTS = (MAX_BUCKET + 1) * SUB_HALF + SUB_HALF; // 3840

/** HDR counts index of a value (ns, ≥ 1); values above 2^36 - 1 count as 2^36 - 1. */
export function latencyIndex(v: number): number {
  if (v < 4294967296) {
    const bi = 24 - Math.clz32(v | 255);
    return (bi << SUB_HALF_BITS) + (v >>> bi);
  }
  if (v >= LATENCY_HDR.highest) v = LATENCY_HDR.highest - 1;
  const bi = Math.floor(Math.log2(v)) - SUB_HALF_BITS;
  return (bi << SUB_HALF_BITS) + Math.floor(v / 2 ** bi);
}

/** The lowest value of the bucket at `index` (recording it lands in the same bucket). */
export function latencyValue(index: number): number {
  if (index < 2 * SUB_HALF) return index;
  const bi = (index >> SUB_HALF_BITS) - 1;
  return ((index & (SUB_HALF - 1)) + SUB_HALF) * 2 ** bi;
}

/** Sparse buckets: [index, count] pairs in index order. */
export type Buckets = Array<[number, number]>;

/** A latency histogram for the hot path: record() is a clz and an increment. */
export class LatencyRecorder {
  readonly counts = new Float64Array(COUNTS);
  total = 0;

  record(ns: number): void {
    const i = latencyIndex(ns < 1 ? 1 : ns);
    this.counts[i] = (this.counts[i] as number) + 1;
    this.total++;
  }

  buckets(): Buckets {
    const out: Buckets = [];
    const c = this.counts;
    for (let i = 0; i < c.length; i++) if (c[i]) out.push([i, c[i] as number]);
    return out;
  }
}

/** A new empty hdr-histogram-js histogram with the recorder's layout. */
export function newHdr(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: 64,
    lowestDiscernibleValue: LATENCY_HDR.lowest,
    highestTrackableValue: LATENCY_HDR.highest,
    numberOfSignificantValueDigits: LATENCY_HDR.significant_digits,
    autoResize: false,
  });
}

/** Buckets as an hdr-histogram-js histogram (exact: every count lands in the bucket it came from). */
export function hdrOf(buckets: Buckets): hdr.Histogram {
  const h = newHdr();
  for (const [i, c] of buckets) if (c > 0) h.recordValueWithCount(latencyValue(i), c);
  return h;
}

/** `later − earlier`, bucket by bucket (cumulative snapshots of one recorder). */
export function bucketDiff(later: Buckets, earlier: Buckets | undefined): Buckets {
  if (!earlier || earlier.length === 0) return later;
  const before = new Map(earlier);
  const out: Buckets = [];
  for (const [i, c] of later) {
    const d = c - (before.get(i) ?? 0);
    if (d > 0) out.push([i, d]);
  }
  return out;
}

/** Base64 of the compressed HDR encoding (V2, as every HdrHistogram implementation reads it); "" when empty. */
export function encodeHdr(h: hdr.Histogram): string {
  return h.totalCount === 0 ? "" : hdr.encodeIntoCompressedBase64(h);
}

export function decodeHdr(b64: string): hdr.Histogram {
  const h = newHdr();
  if (b64) h.add(hdr.decodeFromCompressedBase64(b64, 64));
  return h;
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** p50/p95/p99/max of a histogram in µs (3 decimals), null when it holds nothing. */
export function percentilesUs(h: hdr.Histogram): Percentiles | null {
  if (h.totalCount === 0) return null;
  const us = (ns: number) => Math.round(ns) / 1000;
  return {
    p50: us(h.getValueAtPercentile(50)),
    p95: us(h.getValueAtPercentile(95)),
    p99: us(h.getValueAtPercentile(99)),
    max: us(h.maxValue),
  };
}

// ---- per-route state -------------------------------------------------------------------------------------------

/** What the daemon records for one route (cumulative since it first served the route). */
export class RouteRecord {
  calls = 0;
  ok = 0;
  errors = 0;
  inflight = 0;
  /** Calls waiting for the endpoint (its queue), now. */
  queued = 0;
  /** Highest `queued` seen since the last snapshot. */
  queuedMax = 0;
  readonly errorsByCode: Record<string, number> = {};
  readonly drops: Record<string, number> = {};
  readonly latency = new LatencyRecorder();

  constructor(readonly routeId: number) {}

  /** A call finished after `ns` nanoseconds; `code` when it failed. */
  done(ns: number, code?: string): void {
    this.calls++;
    this.latency.record(ns);
    if (code === undefined) this.ok++;
    else {
      this.errors++;
      this.errorsByCode[code] = (this.errorsByCode[code] ?? 0) + 1;
    }
  }

  drop(reason: string): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
  }

  enqueue(): void {
    if (++this.queued > this.queuedMax) this.queuedMax = this.queued;
  }

  dequeue(): void {
    this.queued--;
  }
}

/** The route a snapshot line describes (the table in force). */
export interface RouteInfo {
  route_id: number;
  from: string;
  to: string;
  lane: string;
}

/** A route's call counters and queue gauges: in a snapshot cumulative, in a flight line over its interval. */
export interface RouteCounts {
  calls: number;
  ok: number;
  errors: number;
  errors_by_code: Record<string, number>;
  drops: Record<string, number>;
  inflight: number;
  queued: number;
  queued_max: number;
}

/** One route in a snapshot: cumulative counters and buckets, gauges as of now. */
export interface RouteSnapshot extends RouteInfo, RouteCounts {
  breaker: BreakerView | null;
  latency: Buckets;
}

/** What `{op: "flight"}` answers: the daemon's cumulative state now. */
export interface FlightSnapshot {
  /** Wall clock (ms since the epoch) and a monotonic clock (ms) when taken. */
  t: number;
  mono_ms: number;
  pid: number;
  plan_id: string | null;
  routes: RouteSnapshot[];
  /** Drops no route can be blamed for (unknown route_id, broken frames), by lane and reason. */
  lane_drops: Record<string, Record<string, number>>;
  process: ProcessCounters | null;
}

/**
 * The recorder of a daemon: per-route records and the sources a snapshot reads (breaker views, lane drops). Routes a
 * plan removes keep their record until `retain` drops them, so a tap sees their last calls.
 */
export class FlightRecorder {
  readonly routes = new Map<number, RouteRecord>();

  route(routeId: number): RouteRecord {
    let r = this.routes.get(routeId);
    if (!r) {
      r = new RouteRecord(routeId);
      this.routes.set(routeId, r);
    }
    return r;
  }

  /** Forgets routes not in `keep` with nothing in flight or queued. */
  retain(keep: ReadonlySet<number>): void {
    for (const [id, r] of this.routes) if (!keep.has(id) && r.inflight === 0 && r.queued === 0) this.routes.delete(id);
  }

  /** A cumulative snapshot of `table`'s routes (and of routes gone from it that still have a record). */
  snapshot(opts: {
    table: readonly RouteInfo[];
    planId: string | null;
    breakers?: (routeId: number) => BreakerView | undefined;
    laneDrops?: Record<string, Record<string, number>>;
    process?: boolean;
  }): FlightSnapshot {
    const seen = new Set<number>();
    const routes: RouteSnapshot[] = [];
    const add = (info: RouteInfo) => {
      seen.add(info.route_id);
      const r = this.routes.get(info.route_id) ?? new RouteRecord(info.route_id);
      routes.push({
        route_id: info.route_id,
        from: info.from,
        to: info.to,
        lane: info.lane,
        calls: r.calls,
        ok: r.ok,
        errors: r.errors,
        errors_by_code: { ...r.errorsByCode },
        drops: { ...r.drops },
        inflight: r.inflight,
        queued: r.queued,
        queued_max: r.queuedMax,
        breaker: opts.breakers?.(info.route_id) ?? null,
        latency: r.latency.buckets(),
      });
      r.queuedMax = r.queued;
    };
    for (const info of opts.table) add(info);
    for (const id of this.routes.keys()) if (!seen.has(id)) add({ route_id: id, from: "", to: "", lane: "retired" });
    return {
      t: Date.now(),
      mono_ms: performance.now(),
      pid: process.pid,
      plan_id: opts.planId,
      routes,
      lane_drops: opts.laneDrops ?? {},
      process: opts.process === false ? null : readProcessCounters(),
    };
  }
}

// ---- process counters ------------------------------------------------------------------------------------------

/**
 * Process-wide counters Linux exposes for free (one small procfs read each): /proc/self/io `syscr`/`syscw` (read- and
 * write-like system calls: read, pread, readv, recv… / write, pwrite, writev, send…), `rchar`/`wchar` (bytes through
 * them); /proc/self/stat fields 10/12 `minflt`/`majflt` (page faults) and 14/15 `utime`/`stime` (clock ticks);
 * /proc/self/status `voluntary_ctxt_switches`/`nonvoluntary_ctxt_switches`. Null off Linux.
 */
export interface ProcessCounters {
  syscr: number;
  syscw: number;
  rchar: number;
  wchar: number;
  minflt: number;
  majflt: number;
  utime_ticks: number;
  stime_ticks: number;
  voluntary_ctxt_switches: number;
  nonvoluntary_ctxt_switches: number;
}

const field = (text: string, name: string): number => {
  const m = new RegExp(`^${name}:\\s*(\\d+)`, "m").exec(text);
  return m ? Number(m[1]) : 0;
};

export function readProcessCounters(): ProcessCounters | null {
  try {
    const io = readFileSync("/proc/self/io", "utf8");
    const stat = readFileSync("/proc/self/stat", "utf8");
    const status = readFileSync("/proc/self/status", "utf8");
    // fields after "(comm)": the comm may contain spaces, so split after the last ')'
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const n = (i: number) => Number(f[i - 3] ?? 0); // f[0] is field 3 (state)
    return {
      syscr: field(io, "syscr"),
      syscw: field(io, "syscw"),
      rchar: field(io, "rchar"),
      wchar: field(io, "wchar"),
      minflt: n(10),
      majflt: n(12),
      utime_ticks: n(14),
      stime_ticks: n(15),
      voluntary_ctxt_switches: field(status, "voluntary_ctxt_switches"),
      nonvoluntary_ctxt_switches: field(status, "nonvoluntary_ctxt_switches"),
    };
  } catch {
    return null;
  }
}

// ---- the tap: snapshots → NDJSON lines -------------------------------------------------------------------------

export const FLIGHT_FORMAT = "rtt-flight/1";

/** The longest window `rtt tap --flight` accepts unless told otherwise (an hour of 1 s lines). */
export const MAX_FLIGHT_WINDOW_MS = 3_600_000;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration such as `5s`, `500ms`, `2m`, `1h` or `1.5s` in ms. Refuses (RTT_FABRIC_USAGE, saying why) anything
 * else, zero, and more than `maxMs`.
 */
export function parseDuration(text: string, what: string, maxMs = MAX_FLIGHT_WINDOW_MS, minMs = 1): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m)
    throw new FabricError(
      "RTT_FABRIC_USAGE",
      `${what} ${JSON.stringify(text)}: expected a duration like 5s, 500ms, 2m or 1h`,
    );
  const ms = Number(m[1]) * (UNITS[m[2] as string] as number);
  if (!(ms > 0)) throw new FabricError("RTT_FABRIC_USAGE", `${what} ${text}: a window must be longer than 0`);
  if (ms < minMs) throw new FabricError("RTT_FABRIC_USAGE", `${what} ${text}: at least ${fmtMs(minMs)}`);
  if (ms > maxMs)
    throw new FabricError(
      "RTT_FABRIC_USAGE",
      `${what} ${text}: longer than the ${fmtMs(maxMs)} cap (a recording that long is a job for metrics, not a tap)`,
    );
  return Math.round(ms);
}

const fmtMs = (ms: number) =>
  ms % 3_600_000 === 0
    ? `${ms / 3_600_000}h`
    : ms % 60_000 === 0
      ? `${ms / 60_000}m`
      : ms % 1000 === 0
        ? `${ms / 1000}s`
        : `${ms}ms`;

export interface FlightHeader {
  type: "header";
  format: typeof FLIGHT_FORMAT;
  started: string;
  window_ms: number;
  interval_ms: number;
  source: Record<string, unknown>;
  pid: number;
  plan_id: string | null;
  latency: typeof LATENCY_HDR;
  routes: RouteInfo[];
}

export interface FlightRouteLine extends RouteInfo, RouteCounts {
  type: "route";
  seq: number;
  t: string;
  interval_ms: number;
  breaker: Pick<BreakerView, "state" | "caps_open" | "ejections" | "consecutive_errors"> | null;
  latency_us: Percentiles | null;
  hdr: string;
}

export interface FlightProcessLine {
  type: "process";
  seq: number;
  t: string;
  interval_ms: number;
  /** Deltas over the interval (null off Linux). */
  syscalls: { read: number; write: number } | null;
  io_bytes: { read: number; write: number } | null;
  faults: { minor: number; major: number } | null;
  cpu_ticks: { user: number; system: number } | null;
  ctx_switches: { voluntary: number; involuntary: number } | null;
  lane_drops: Record<string, Record<string, number>>;
}

export interface FlightFooter {
  type: "footer";
  ended: string;
  window_ms: number;
  intervals: number;
  lines: number;
  /** Per route over the whole window: the interval histograms merged. */
  routes: Array<{ route_id: number; calls: number; errors: number; latency_us: Percentiles | null; hdr: string }>;
  /** Set when the capture ended early (the daemon went away). */
  error?: string;
}

export type FlightLine = FlightHeader | FlightRouteLine | FlightProcessLine | FlightFooter;

const sub = (a: number, b: number | undefined) => Math.max(0, a - (b ?? 0));
const subRec = (a: Record<string, number>, b: Record<string, number> | undefined) => {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(a)) {
    const d = sub(v, b?.[k]);
    if (d) out[k] = d;
  }
  return out;
};

/** The lines of one interval: one per route of `cur`, then the process line. */
export function intervalLines(prev: FlightSnapshot, cur: FlightSnapshot, seq: number): FlightLine[] {
  const before = new Map(prev.routes.map((r) => [r.route_id, r]));
  const t = new Date(cur.t).toISOString();
  const interval_ms = Math.round(cur.mono_ms - prev.mono_ms);
  const out: FlightLine[] = [];
  for (const r of cur.routes) {
    const b = before.get(r.route_id);
    const h = hdrOf(bucketDiff(r.latency, b?.latency));
    out.push({
      type: "route",
      seq,
      t,
      interval_ms,
      route_id: r.route_id,
      from: r.from,
      to: r.to,
      lane: r.lane,
      calls: sub(r.calls, b?.calls),
      ok: sub(r.ok, b?.ok),
      errors: sub(r.errors, b?.errors),
      errors_by_code: subRec(r.errors_by_code, b?.errors_by_code),
      drops: subRec(r.drops, b?.drops),
      inflight: r.inflight,
      queued: r.queued,
      queued_max: r.queued_max,
      breaker: r.breaker
        ? {
            state: r.breaker.state,
            caps_open: r.breaker.caps_open,
            ejections: r.breaker.ejections,
            consecutive_errors: r.breaker.consecutive_errors,
          }
        : null,
      latency_us: percentilesUs(h),
      hdr: encodeHdr(h),
    });
  }
  const p = cur.process;
  const q = prev.process;
  const laneDrops: Record<string, Record<string, number>> = {};
  for (const [lane, d] of Object.entries(cur.lane_drops)) {
    const x = subRec(d, prev.lane_drops[lane]);
    if (Object.keys(x).length) laneDrops[lane] = x;
  }
  out.push({
    type: "process",
    seq,
    t,
    interval_ms,
    syscalls: p && q ? { read: sub(p.syscr, q.syscr), write: sub(p.syscw, q.syscw) } : null,
    io_bytes: p && q ? { read: sub(p.rchar, q.rchar), write: sub(p.wchar, q.wchar) } : null,
    faults: p && q ? { minor: sub(p.minflt, q.minflt), major: sub(p.majflt, q.majflt) } : null,
    cpu_ticks: p && q ? { user: sub(p.utime_ticks, q.utime_ticks), system: sub(p.stime_ticks, q.stime_ticks) } : null,
    ctx_switches:
      p && q
        ? {
            voluntary: sub(p.voluntary_ctxt_switches, q.voluntary_ctxt_switches),
            involuntary: sub(p.nonvoluntary_ctxt_switches, q.nonvoluntary_ctxt_switches),
          }
        : null,
    lane_drops: laneDrops,
  });
  return out;
}

export interface CaptureOptions {
  /** A snapshot of the recorder now (a daemon's `flight` control op, or a FlightRecorder in-process). */
  snapshot: () => Promise<FlightSnapshot> | FlightSnapshot;
  windowMs: number;
  intervalMs?: number;
  /** Receives each line as it is made. */
  write: (line: FlightLine) => void | Promise<void>;
  /** What the header names as the source (socket, …). */
  source?: Record<string, unknown>;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Captures a window: header, then every interval one line per route and a process line, then a footer with each
 * route's merged histogram. Intervals are scheduled on a monotonic clock (no drift); the last one is cut to end at the
 * window. A snapshot that fails ends the capture with the footer's `error` (the lines so far stay valid).
 */
export async function captureFlight(o: CaptureOptions): Promise<FlightFooter> {
  const intervalMs = Math.min(o.intervalMs ?? 1000, o.windowMs);
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let prev = await o.snapshot();
  const start = performance.now();
  await o.write({
    type: "header",
    format: FLIGHT_FORMAT,
    started: new Date(prev.t).toISOString(),
    window_ms: o.windowMs,
    interval_ms: intervalMs,
    source: o.source ?? {},
    pid: prev.pid,
    plan_id: prev.plan_id,
    latency: LATENCY_HDR,
    routes: prev.routes.map(({ route_id, from, to, lane }) => ({ route_id, from, to, lane })),
  });
  let lines = 1;
  const merged = new Map<number, { calls: number; errors: number; h: hdr.Histogram }>();
  let seq = 0;
  let error: string | undefined;
  while (performance.now() - start < o.windowMs - 0.5) {
    const due = Math.min(start + (seq + 1) * intervalMs, start + o.windowMs);
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    let cur: FlightSnapshot;
    try {
      cur = await o.snapshot();
    } catch (e) {
      error = (e as Error).message;
      break;
    }
    for (const line of intervalLines(prev, cur, seq)) {
      if (line.type === "route") {
        let m = merged.get(line.route_id);
        if (!m) {
          m = { calls: 0, errors: 0, h: newHdr() };
          merged.set(line.route_id, m);
        }
        m.calls += line.calls;
        m.errors += line.errors;
        if (line.hdr) m.h.add(decodeHdr(line.hdr));
      }
      await o.write(line);
      lines++;
    }
    prev = cur;
    seq++;
  }
  const footer: FlightFooter = {
    type: "footer",
    ended: new Date().toISOString(),
    window_ms: o.windowMs,
    intervals: seq,
    lines: lines + 1,
    routes: [...merged].map(([route_id, m]) => ({
      route_id,
      calls: m.calls,
      errors: m.errors,
      latency_us: percentilesUs(m.h),
      hdr: encodeHdr(m.h),
    })),
    ...(error !== undefined ? { error } : {}),
  };
  await o.write(footer);
  return footer;
}
