import { parentPort, workerData } from "node:worker_threads";
import { loadPackedDiffSide } from "./diff-load.js";

// Loads one side of a diff off the main thread; its typed arrays are transferred, the lineage text is one string.
loadPackedDiffSide((workerData as { path: string }).path).then(
  (side) => {
    if ("text" in side) {
      const buffers = [side.ids, side.offs, side.noTool, side.q].map((a) => a.buffer as ArrayBuffer);
      parentPort!.postMessage({ packed: side }, buffers);
    } else parentPort!.postMessage({ side }, [side.q.buffer as ArrayBuffer]);
  },
  (err: Error) => parentPort!.postMessage({ error: err.message }),
);
