import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { RingDrops, ShmRing } from "../lanes/shm-ring.js";

/** How the daemon waits on a lane's request ring (spec/fabric/daemon.md, "SHM lane"; bench/lanes/run.mjs measures both). */
export type ShmServeMode = "loop" | "worker";

export interface ShmServerOptions {
  mode: ShmServeMode;
  /** Spin budget before parking, µs. */
  spinMicros: number;
  /** Requests read but not yet answered before the server stops reading (the ring then fills: back-pressure). */
  maxInflight: number;
  /** How long an answer may wait for room in a full response ring before it is dropped (counted), ms. */
  blockMs: number;
  onFrame: (routeId: number, frameId: number, flags: number, payload: Uint8Array, reply: ShmReply) => void;
  onBroken: (why: string) => void;
}

export type ShmReply = (flags: number, payload: Uint8Array) => void;

const WORKER = fileURLToPath(new URL("./shm-worker.js", import.meta.url));
/** Worker mode needs the built JavaScript (a worker cannot load the .ts sources under test); else the loop serves. */
export const workerAvailable = (): boolean => existsSync(WORKER);

/** Shared words between the main thread and a lane's worker. */
const S_STOP = 0;
const S_INFLIGHT = 1;

/**
 * Serves one SHM lane: reads request frames from `req`, hands them to `onFrame`, writes answers to `resp`. The main
 * thread is always `resp`'s only producer; `req`'s consumer is the main thread (`loop`: spin, then park through the
 * libuv pool with waitForData) or a worker thread (`worker`: waitForDataSync, frames posted to the main thread).
 */
export class ShmLaneServer {
  private closed = false;
  private inflight = 0;
  private slotWaiter: (() => void) | undefined;
  private outQueue: Array<{ routeId: number; frameId: number; flags: number; payload: Uint8Array; at: number }> = [];
  private flushing = false;
  private worker: Worker | undefined;
  private shared: Int32Array | undefined;
  private workerDrops: RingDrops | undefined;
  readonly counters = { frames_in: 0, frames_out: 0, ring_full_waits: 0, ring_full_drops: 0 };

  constructor(
    readonly req: ShmRing,
    readonly resp: ShmRing,
    private readonly opts: ShmServerOptions,
  ) {
    if (opts.mode === "worker") this.startWorker();
    else void this.loop();
  }

  get mode(): ShmServeMode {
    return this.worker ? "worker" : "loop";
  }

  get drops(): RingDrops {
    return this.workerDrops ?? this.req.drops;
  }

  private dispatch(routeId: number, frameId: number, flags: number, payload: Uint8Array): void {
    this.inflight++;
    this.counters.frames_in++;
    let answered = false;
    this.opts.onFrame(routeId, frameId, flags, payload, (rflags, body) => {
      if (answered) return;
      answered = true;
      this.inflight--;
      if (this.shared) {
        Atomics.sub(this.shared, S_INFLIGHT, 1);
        Atomics.notify(this.shared, S_INFLIGHT);
      }
      this.write(routeId, frameId, rflags, body);
      const w = this.slotWaiter;
      this.slotWaiter = undefined;
      w?.();
    });
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      while (this.inflight < this.opts.maxInflight) {
        const f = this.req.tryRead();
        if (!f) break;
        const payload = Buffer.from(f.payload); // the view dies at release()
        this.req.release();
        this.dispatch(f.routeId, f.frameId, f.flags, payload);
      }
      if (this.req.broken) {
        this.opts.onBroken(this.req.broken);
        return;
      }
      if (this.inflight >= this.opts.maxInflight) await new Promise<void>((r) => (this.slotWaiter = r));
      else if (!this.req.hasData()) await this.req.waitForData(this.opts.spinMicros, 50_000);
    }
  }

  private startWorker(): void {
    const sab = new SharedArrayBuffer(8);
    this.shared = new Int32Array(sab);
    this.worker = new Worker(WORKER, {
      workerData: { req: this.req.name, spin: this.opts.spinMicros, max: this.opts.maxInflight, sab },
    });
    this.worker.on("message", (m: WorkerMessage) => {
      if (m.t === "frames") {
        for (let i = 0; i < m.ids.length; i++)
          this.dispatch(
            m.routes[i] as number,
            m.ids[i] as number,
            m.flags[i] as number,
            new Uint8Array(m.bufs[i] as ArrayBuffer),
          );
      } else if (m.t === "drops") this.workerDrops = m.drops;
      else if (m.t === "broken") this.opts.onBroken(m.why);
    });
    this.worker.on("error", (e) => this.opts.onBroken(`worker failed: ${e.message}`));
  }

  private write(routeId: number, frameId: number, flags: number, payload: Uint8Array): void {
    if (this.closed) return;
    if (this.outQueue.length === 0 && this.resp.tryWrite({ flags, routeId, frameId }, payload)) {
      this.counters.frames_out++;
      return;
    }
    this.outQueue.push({ routeId, frameId, flags, payload, at: Date.now() });
    if (!this.flushing) void this.flush();
  }

  /** Answers wait (in order, bounded by maxInflight) for the client to free room; past `blockMs` they are dropped. */
  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.outQueue.length > 0 && !this.closed) {
      const o = this.outQueue[0] as (typeof this.outQueue)[0];
      if (this.resp.tryWrite({ flags: o.flags, routeId: o.routeId, frameId: o.frameId }, o.payload)) {
        this.counters.frames_out++;
        this.outQueue.shift();
      } else if (Date.now() - o.at > this.opts.blockMs) {
        this.counters.ring_full_drops++;
        this.outQueue.shift();
      } else {
        this.counters.ring_full_waits++;
        await this.resp.waitForSpace(10_000);
      }
    }
    this.flushing = false;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.slotWaiter?.();
    if (this.worker && this.shared) {
      Atomics.store(this.shared, S_STOP, 1);
      await this.worker.terminate();
    }
    this.req.unlink();
    this.resp.unlink();
  }
}

export type WorkerMessage =
  | { t: "frames"; routes: number[]; ids: number[]; flags: number[]; bufs: ArrayBuffer[] }
  | { t: "drops"; drops: RingDrops }
  | { t: "broken"; why: string };
