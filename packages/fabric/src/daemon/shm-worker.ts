import { parentPort, workerData } from "node:worker_threads";
import { ShmRing } from "../lanes/shm-ring.js";
import type { WorkerMessage } from "./shm-lane.js";

/**
 * The consumer side of one SHM lane's request ring, on its own thread (ShmLaneServer mode `worker`): parks in
 * waitForDataSync (spin, then futex) so the daemon's event loop never spins or holds a libuv pool thread for it, and
 * posts each batch of frames to the main thread, which dispatches and answers on the response ring.
 */
const { req: name, spin, max, sab } = workerData as { req: string; spin: number; max: number; sab: SharedArrayBuffer };
const shared = new Int32Array(sab);
const ring = ShmRing.open(name);
const port = parentPort as NonNullable<typeof parentPort>;
let dropTotal = 0;

while (Atomics.load(shared, 0) === 0) {
  if (Atomics.load(shared, 1) >= max) {
    Atomics.wait(shared, 1, Atomics.load(shared, 1), 10);
    continue;
  }
  if (!ring.waitForDataSync(spin, 50_000)) continue;
  const batch: Extract<WorkerMessage, { t: "frames" }> = { t: "frames", routes: [], ids: [], flags: [], bufs: [] };
  while (Atomics.load(shared, 1) < max) {
    const f = ring.tryRead();
    if (!f) break;
    const copy = f.payload.slice().buffer;
    ring.release();
    Atomics.add(shared, 1, 1);
    batch.routes.push(f.routeId);
    batch.ids.push(f.frameId);
    batch.flags.push(f.flags);
    batch.bufs.push(copy);
  }
  if (batch.ids.length > 0) port.postMessage(batch, batch.bufs);
  const total = Object.values(ring.drops).reduce((a, b) => a + b, 0);
  if (total !== dropTotal) {
    dropTotal = total;
    port.postMessage({ t: "drops", drops: { ...ring.drops } } satisfies WorkerMessage);
  }
  if (ring.broken) {
    port.postMessage({ t: "broken", why: ring.broken } satisfies WorkerMessage);
    break;
  }
}
