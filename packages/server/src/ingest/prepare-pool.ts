import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { fromWire, type PreparedWire, type PrepareResult, prepareSession } from "./prepare.js";

/** Bodies smaller than this (in total) are prepared on the calling thread: messaging would cost more. */
export const INLINE_BYTES = 4096;

/** Messages a worker may have queued or in work: one being prepared and the next one waiting, so it never idles. */
const IN_FLIGHT_PER_WORKER = 2;

interface Call {
  bodies: Buffer[];
  resolve: (r: PrepareResult[]) => void;
  reject: (e: unknown) => void;
}

/** Settles a call with `make`'s results, or with its error (an inline `prepareSession` may throw). */
function settle(c: Call, make: () => PrepareResult[]): void {
  try {
    c.resolve(make());
  } catch (e) {
    c.reject(e);
  }
}

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (w: Array<PreparedWire | null>) => void; reject: () => void }>;
}

/**
 * Parsing and validating a session log (scan, UTF-8, JSON.parse, schema, semantics, derive, SHA-256, mastery
 * summary) is most of the CPU a request costs. The pool does it on worker threads so the request thread only
 * moves bytes, and several sessions are prepared at once on a multi-core machine. Results are exactly
 * `prepareSession`'s (same code); a body is sent as a copy, so the request keeps its own bytes. If a worker
 * fails, its bodies are prepared on the calling thread instead.
 */
export class PreparePool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private queue: Call[] = [];
  /** Bodies prepared on a worker so far. */
  prepared = 0;

  constructor(url: URL, size: number, execArgv?: string[]) {
    for (let i = 0; i < size; i++) this.spawn(url, execArgv);
  }

  get size(): number {
    return this.slots.length;
  }

  private spawn(url: URL, execArgv?: string[]): void {
    const slot: Slot = { worker: new Worker(url, { execArgv }), pending: new Map() };
    // `results`: the worker's JSON text of one PreparedWire (or null) per body (see prepare-worker.ts).
    slot.worker.on("message", (m: { id: number; results: string }) => {
      const p = slot.pending.get(m.id);
      slot.pending.delete(m.id);
      if (slot.pending.size === 0) slot.worker.unref();
      p?.resolve(JSON.parse(m.results) as Array<PreparedWire | null>);
      this.flush(); // what queued while this worker was busy
    });
    const fail = () => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      for (const p of slot.pending.values()) p.reject();
      slot.pending.clear();
      this.flush();
    };
    slot.worker.on("error", fail);
    slot.worker.on("exit", fail);
    // An idle pool never keeps the process alive; a worker with work pending does (see `send`). Unref'd after
    // the listeners: adding a "message" listener refs the worker's port again.
    slot.worker.unref();
    this.slots.push(slot);
  }

  /**
   * Prepares each body (in order); same results as `prepareSession` on each. Calls wait while every worker has
   * IN_FLIGHT_PER_WORKER messages and then travel together in one message, so under load a message carries many
   * bodies: every message costs both threads a wake-up (~20 us each way), and one a session doubled the request
   * thread's messaging.
   */
  prepare(bodies: Buffer[]): Promise<PrepareResult[]> {
    if (this.slots.length === 0) return Promise.resolve(bodies.map(prepareSession));
    return new Promise((resolve, reject) => {
      this.queue.push({ bodies, resolve, reject });
      if (this.queue.length === 1) setImmediate(() => this.flush());
    });
  }

  /** Sends the waiting calls to the workers with room, one message each; with none, a worker's answer sends them. */
  private flush(): void {
    if (this.queue.length === 0) return;
    if (this.slots.length === 0) {
      for (const c of this.queue.splice(0)) settle(c, () => c.bodies.map(prepareSession));
      return;
    }
    const idle = this.slots.filter((s) => s.pending.size < IN_FLIGHT_PER_WORKER);
    if (idle.length === 0) return;
    const calls = this.queue.splice(0);
    const n = Math.min(idle.length, calls.length);
    for (const [k, slot] of idle.slice(0, n).entries())
      this.send(
        slot,
        calls.filter((_, i) => i % n === k),
      );
  }

  private send(slot: Slot, calls: Call[]): void {
    const copies = calls.flatMap((c) =>
      c.bodies.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer),
    );
    const id = this.nextId++;
    slot.pending.set(id, {
      resolve: (wires) => {
        this.prepared += wires.length;
        let at = 0;
        for (const c of calls) {
          const mine = wires.slice(at, at + c.bodies.length);
          at += c.bodies.length;
          // null: preparing the body threw in the worker; doing it here lets the error reach the request.
          settle(c, () => c.bodies.map((b, i) => (mine[i] ? fromWire(mine[i], b) : prepareSession(b))));
        }
      },
      // The worker failed: prepare here instead.
      reject: () => {
        for (const c of calls) settle(c, () => c.bodies.map(prepareSession));
      },
    });
    if (slot.pending.size === 1) slot.worker.ref();
    slot.worker.postMessage({ id, bodies: copies }, copies);
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }
}

/** The worker entry beside this module, when compiled (from TypeScript sources it would need a loader). */
function workerUrl(): URL | undefined {
  const url = new URL("./prepare-worker.js", import.meta.url);
  return import.meta.url.endsWith(".js") && existsSync(fileURLToPath(url)) ? url : undefined;
}

let shared: PreparePool | null | undefined;

/**
 * The process-wide pool: one worker per core beyond the first (at least one, at most four), or none when
 * RTT_PREPARE_THREADS=0 or the compiled worker is missing. Workers are unref'd and hold no resources.
 */
export function sharedPreparePool(): PreparePool | null {
  if (shared !== undefined) return shared;
  const url = workerUrl();
  const configured = process.env.RTT_PREPARE_THREADS;
  const size = configured !== undefined ? Number(configured) : Math.min(4, Math.max(1, availableParallelism() - 1));
  shared = url && Number.isInteger(size) && size > 0 ? new PreparePool(url, size) : null;
  return shared;
}

/** Replaces the process-wide pool (tests run one from TypeScript sources); `undefined` detects it again. */
export function usePreparePool(pool: PreparePool | null | undefined): void {
  shared = pool;
}

/** Prepares request bodies off the request thread when a pool exists and they are big enough to be worth it. */
export function prepareBodies(
  bodies: Buffer[],
  pool = sharedPreparePool(),
): Promise<PrepareResult[]> | PrepareResult[] {
  let total = 0;
  for (const b of bodies) total += b.length;
  if (!pool || total < INLINE_BYTES) return bodies.map(prepareSession);
  return pool.prepare(bodies);
}
