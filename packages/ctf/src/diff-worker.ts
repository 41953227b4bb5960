import { parentPort, workerData } from "node:worker_threads";
import { loadDiffSide } from "./diff-load.js";

// Loads one side of a diff off the main thread; the q buffer is transferred, not copied.
loadDiffSide((workerData as { path: string }).path).then(
  (side) => parentPort!.postMessage({ side }, [side.q.buffer as ArrayBuffer]),
  (err: Error) => parentPort!.postMessage({ error: err.message }),
);
