import { FabricError } from "../errors.js";
import { parseJsonText } from "../json-file.js";

/**
 * The load a trial drives through a ring pair (spec/fabric/autotune.md, "Trace input"): an open-loop Poisson arrival
 * process at `rate_hz` (seeded: every trial of one run sees the same arrivals), each frame of a route drawn by its
 * share of the rate, carrying that route's payload size.
 */
export interface LoadSpec {
  source: "synthetic" | "flight";
  /** The recording it was made from (`--from`), when one. */
  from?: string;
  rate_hz: number;
  /** Frames per trial (the first 10 % warm the lane up and are not measured). */
  frames: number;
  routes: Array<{ route_id: number; share: number; payload_bytes: number }>;
}

/** Bounds on what a trial replays: rates outside are clamped (and said in `notes`), so a trial stays short. */
export const LOAD_LIMITS = { minRate: 100, maxRate: 50_000, minFrames: 200, maxFrames: 4000, trialSeconds: 0.25 };

const framesFor = (rate: number) =>
  Math.max(LOAD_LIMITS.minFrames, Math.min(LOAD_LIMITS.maxFrames, Math.round(rate * LOAD_LIMITS.trialSeconds)));

/** The default live load: one route, 256-byte payloads, 10,000 frames/s. */
export function syntheticLoad(opts: { rate?: number; payload?: number; frames?: number } = {}): LoadSpec {
  const rate = opts.rate ?? 10_000;
  if (!(rate > 0) || rate > 1e6) throw new FabricError("RTT_FABRIC_USAGE", `a load rate of ${rate}/s`);
  const payload = opts.payload ?? 256;
  if (!Number.isInteger(payload) || payload < 0 || payload > 1 << 20)
    throw new FabricError("RTT_FABRIC_USAGE", `a payload of ${payload} bytes`);
  return {
    source: "synthetic",
    rate_hz: rate,
    frames: opts.frames ?? framesFor(rate),
    routes: [{ route_id: 1, share: 1, payload_bytes: payload }],
  };
}

/**
 * A load from a flight recording (`rtt tap --flight 5s > flight.ndjson`, format rtt-flight/1): each route's rate is
 * its calls over the window. The recorder keeps no per-call sizes, so every route gets one size: the daemon's
 * read + write bytes (the `process` lines' io_bytes, which see UDS/TCP traffic, not SHM) over twice the calls,
 * clamped to 16 B … 64 KiB, 256 B when the recording has none. The total rate is clamped to LOAD_LIMITS.
 */
export function loadFromFlight(text: string, where: string): { load: LoadSpec; notes: string[] } {
  const notes: string[] = [];
  let header: { format?: unknown; window_ms?: unknown } | undefined;
  const calls = new Map<number, number>();
  let ioBytes = 0;
  let windowMs = 0;
  let n = 0;
  for (const raw of text.split("\n")) {
    n++;
    const line = raw.trim();
    if (!line) continue;
    const v = parseJsonText(line, `${where}:${n}`) as Record<string, unknown>;
    if (typeof v !== "object" || v === null || Array.isArray(v))
      throw new FabricError("RTT_FABRIC_INVALID", "not an rtt-flight/1 line (an object)", `${where}:${n}`);
    if (v.type === "header") header = v;
    else if (v.type === "route") {
      const id = v.route_id;
      const c = v.calls;
      if (typeof id !== "number" || typeof c !== "number" || c < 0)
        throw new FabricError("RTT_FABRIC_INVALID", "a route line needs route_id and calls", `${where}:${n}`);
      calls.set(id, (calls.get(id) ?? 0) + c);
    } else if (v.type === "process") {
      if (typeof v.interval_ms === "number") windowMs += v.interval_ms;
      const io = v.io_bytes as { read?: unknown; write?: unknown } | null | undefined;
      if (io && typeof io.read === "number" && typeof io.write === "number") ioBytes += io.read + io.write;
    }
  }
  if (header?.format !== "rtt-flight/1")
    throw new FabricError("RTT_FABRIC_INVALID", "not an rtt-flight/1 recording (no header line)", where);
  if (windowMs <= 0 && typeof header.window_ms === "number") windowMs = header.window_ms;
  const total = [...calls.values()].reduce((a, b) => a + b, 0);
  if (total === 0 || windowMs <= 0)
    throw new FabricError("RTT_FABRIC_INVALID", "the recording has no calls to replay", where);
  let rate = total / (windowMs / 1000);
  if (rate < LOAD_LIMITS.minRate || rate > LOAD_LIMITS.maxRate) {
    const r = Math.min(LOAD_LIMITS.maxRate, Math.max(LOAD_LIMITS.minRate, rate));
    notes.push(`recorded ${rate.toFixed(1)} calls/s, replayed at ${r}/s (autotune's trial range)`);
    rate = r;
  }
  let size = 256;
  if (ioBytes > 0) size = Math.round(Math.min(65_536, Math.max(16, ioBytes / (2 * total))));
  else notes.push("the recording has no byte counts (SHM traffic or not Linux): 256-byte payloads");
  const routes = [...calls.entries()]
    .filter(([, c]) => c > 0)
    .sort((a, b) => a[0] - b[0])
    .map(([route_id, c]) => ({ route_id, share: c / total, payload_bytes: size }));
  return { load: { source: "flight", from: where, rate_hz: rate, frames: framesFor(rate), routes }, notes };
}
