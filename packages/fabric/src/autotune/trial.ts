import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { seededRandom } from "@rtt/core";
import { FRAME_HEADER } from "../lanes/frame.js";
import { ShmRing } from "../lanes/shm-ring.js";
import type { LoadSpec } from "./load.js";

/** One point of the sweep (spec/fabric/autotune.md, "What is swept"). */
export interface TuneParams {
  /** Frames the ring holds at the load's largest payload (the seed's 512 … 4096); null for the daemon's default bytes. */
  ring_slots: number | null;
  /** Data bytes of each ring (a power of two ≥ 4 KiB: what ShmRing and the daemon's shmCapacity take). */
  ring_bytes: number;
  /** Producer coalescing: frames that arrive within this many µs of the first held one go out in one publish/wake. */
  batch_window_us: number;
  /** Busy-poll threshold: µs a waiting consumer spins before it parks on the futex. */
  spin_us: number;
}

export interface TrialResult {
  p50_us: number;
  p99_us: number;
  max_us: number;
  /** Answers per second over the measured part (warm-up excluded). */
  throughput_hz: number;
  offered_hz: number;
  /** Frames sent but never answered before the trial's deadline. */
  lost: number;
  /** Sends that found the ring full and had to wait. */
  ring_full: number;
  /** Publishes (≥ 1 frame each) — the producer's wakes; frames / sends is the coalescing. */
  sends: number;
}

/** The daemon's defaults (daemon.ts): 1 MiB rings, 50 µs spin, no coalescing. */
export const DAEMON_DEFAULTS = { shmCapacity: 1 << 20, spinMicros: 50 } as const;

const align8 = (n: number) => (n + 7) & ~7;

/** Ring bytes for `slots` frames of `payload` bytes: the next power of two, at least ShmRing's 4 KiB minimum. */
export function ringBytesFor(slots: number, payload: number): number {
  const need = Math.max(4096, slots * align8(FRAME_HEADER + payload), 2 * (FRAME_HEADER + payload));
  let b = 4096;
  while (b < need) b *= 2;
  return b;
}

/** Resolves the built echo worker: beside this module, or (sources under test) the package's dist/. */
function workerFile(): string {
  for (const rel of ["./echo-worker.js", "../../dist/autotune/echo-worker.js"]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error("autotune: the echo worker is not built (npm run build, or npx tsc -b packages/fabric)");
}

let ringSeq = 0;

/**
 * A live trial rig: an echo worker thread (the daemon's side) and this thread as the producer/client. Each trial
 * creates a fresh request/response ring pair of the trial's size in /dev/shm, replays the load's arrivals, and
 * unlinks the rings. The calling thread blocks for the trial (≈ frames / rate): no event-loop work runs meanwhile.
 */
export class TrialRig {
  private readonly shared = new Int32Array(new SharedArrayBuffer(8));
  private readonly worker: Worker;
  private readonly arrivals: Float64Array;
  private readonly payloads: Uint8Array[];
  private readonly routeOf: Uint32Array;

  private constructor(
    readonly load: LoadSpec,
    seed: number,
  ) {
    this.worker = new Worker(workerFile(), { workerData: { sab: this.shared.buffer } });
    const n = load.frames;
    const rand = seededRandom(seed);
    this.arrivals = new Float64Array(n);
    this.routeOf = new Uint32Array(n);
    const byRoute = load.routes.map((r) => {
      const b = new Uint8Array(r.payload_bytes);
      for (let i = 0; i < b.length; i++) b[i] = (rand() * 256) | 0;
      return b;
    });
    this.payloads = [];
    const mean = 1e6 / load.rate_hz; // µs between arrivals
    let t = 0;
    for (let i = 0; i < n; i++) {
      t += -Math.log(1 - rand()) * mean; // Poisson arrivals
      this.arrivals[i] = t;
      let u = rand();
      let k = 0;
      while (k < load.routes.length - 1 && u >= (load.routes[k] as { share: number }).share) {
        u -= (load.routes[k] as { share: number }).share;
        k++;
      }
      this.routeOf[i] = (load.routes[k] as { route_id: number }).route_id;
      this.payloads.push(byRoute[k] as Uint8Array);
    }
  }

  static async start(load: LoadSpec, seed: number): Promise<TrialRig> {
    const rig = new TrialRig(load, seed);
    await new Promise<void>((resolve, reject) => {
      rig.worker.once("online", () => resolve());
      rig.worker.once("error", reject);
    });
    return rig;
  }

  get maxPayload(): number {
    return Math.max(0, ...this.load.routes.map((r) => r.payload_bytes));
  }

  private next(type: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const onMsg = (m: Record<string, unknown>) => {
        if (m.t !== type) return;
        this.worker.off("message", onMsg);
        this.worker.off("error", reject);
        resolve(m);
      };
      this.worker.on("message", onMsg);
      this.worker.once("error", reject);
    });
  }

  /** Runs one trial of the load with `p` and measures every answer's latency from its frame's scheduled arrival. */
  async run(p: TuneParams): Promise<TrialResult> {
    const base = `/rtt-autotune-${process.pid}-${++ringSeq}`;
    const req = ShmRing.create(`${base}-req`, p.ring_bytes);
    const resp = ShmRing.create(`${base}-resp`, p.ring_bytes);
    try {
      Atomics.store(this.shared, 0, 0);
      const ready = this.next("ready");
      this.worker.postMessage({ req: req.name, resp: resp.name, spin: p.spin_us });
      await ready;
      const done = this.next("done");
      const r = this.drive(req, resp, p);
      Atomics.store(this.shared, 0, 1);
      await done;
      return r;
    } finally {
      req.unlink();
      resp.unlink();
    }
  }

  private drive(req: ShmRing, resp: ShmRing, p: TuneParams): TrialResult {
    const n = this.load.frames;
    const arrivals = this.arrivals;
    const lat = new Float64Array(n).fill(-1);
    const batchCap = 64;
    const held: Array<{ h: { flags: number; routeId: number; frameId: number }; payload: Uint8Array }> = [];
    let next = 0;
    let sent = 0;
    let received = 0;
    let ringFull = 0;
    let sends = 0;
    const warm = Math.floor(n / 10);
    const t0 = performance.now() * 1000 + 200; // µs; a short lead so the first arrival is not already late
    const deadline = t0 + (arrivals[n - 1] as number) * 3 + 2_000_000;
    let firstMeasured = 0;
    let lastRecv = 0;
    for (;;) {
      let now = performance.now() * 1000 - t0;
      while (next < n && (arrivals[next] as number) <= now) {
        held.push({
          h: { flags: 0, routeId: this.routeOf[next] as number, frameId: next },
          payload: this.payloads[next] as Uint8Array,
        });
        next++;
      }
      let progressed = false;
      if (held.length > 0) {
        const firstAt = arrivals[(held[0] as { h: { frameId: number } }).h.frameId] as number;
        if (p.batch_window_us <= 0 || now >= firstAt + p.batch_window_us || held.length >= batchCap) {
          const w = req.tryWriteMany(held);
          if (w > 0) {
            held.splice(0, w);
            sent += w;
            sends++;
            progressed = true;
          }
          if (held.length > 0 && w === 0) ringFull++;
        }
      }
      for (let f = resp.tryRead(); f; f = resp.tryRead()) {
        const at = performance.now() * 1000 - t0;
        const id = f.frameId;
        resp.release();
        if (id < n && (lat[id] as number) < 0) {
          lat[id] = at - (arrivals[id] as number);
          received++;
          if (id === warm) firstMeasured = at;
          lastRecv = at;
        }
        progressed = true;
      }
      if (received === n) break;
      now = performance.now() * 1000 - t0;
      if (now + t0 > deadline) break;
      if (progressed) continue;
      // Idle until the next event: an answer (spin budget, then park), the next arrival, or the batch window's end.
      let until = next < n ? (arrivals[next] as number) : Number.POSITIVE_INFINITY;
      if (held.length > 0) {
        const firstAt = arrivals[(held[0] as { h: { frameId: number } }).h.frameId] as number;
        until = Math.min(until, p.batch_window_us > 0 ? firstAt + p.batch_window_us : now);
      }
      const waitUs = Math.min(20_000, Math.max(0, until - now));
      if (sent > received) {
        if (waitUs > 0) resp.waitForDataSync(p.spin_us, Math.ceil(waitUs));
      } else if (waitUs > 0) resp.waitForDataSync(0, Math.ceil(waitUs));
    }
    const measured: number[] = [];
    for (let i = warm; i < n; i++) if ((lat[i] as number) >= 0) measured.push(lat[i] as number);
    measured.sort((a, b) => a - b);
    const q = (x: number) =>
      measured.length
        ? (measured[Math.min(measured.length - 1, Math.floor(x * measured.length))] as number)
        : Number.NaN;
    const span = (lastRecv - firstMeasured) / 1e6;
    const offered = (n - 1 - warm) / (((arrivals[n - 1] as number) - (arrivals[warm] as number)) / 1e6);
    return {
      p50_us: round3(q(0.5)),
      p99_us: round3(q(0.99)),
      max_us: round3(measured[measured.length - 1] ?? Number.NaN),
      throughput_hz: span > 0 ? Math.round((measured.length - 1) / span) : 0,
      offered_hz: Math.round(offered),
      lost: n - received,
      ring_full: ringFull,
      sends,
    };
  }

  async close(): Promise<void> {
    Atomics.store(this.shared, 0, 1);
    await this.worker.terminate();
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
