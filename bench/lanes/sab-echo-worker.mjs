// Baseline far end: a worker thread echoing through a SharedArrayBuffer (the in-process limit of a shared-memory
// round trip: no segment, no frames, no CRC). Word 0: sequence from the main thread; word 1: echoed sequence.
import { workerData } from "node:worker_threads";

const { sab, size } = workerData;
const words = new Int32Array(sab, 0, 2);
const req = new Uint8Array(sab, 8, size);
const resp = new Uint8Array(sab, 8 + size, size);
let seen = 0;
for (;;) {
  Atomics.wait(words, 0, seen);
  seen = Atomics.load(words, 0);
  if (seen < 0) break;
  resp.set(req);
  Atomics.store(words, 1, seen);
  Atomics.notify(words, 1);
}
