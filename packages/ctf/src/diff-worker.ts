import { parentPort, workerData } from "node:worker_threads";
import { loadPackedDiffSide } from "./diff-load.js";

// Loads one side of a diff off the main thread; its typed arrays (the lineage's text among them) are transferred.
loadPackedDiffSide((workerData as { path: string }).path).then(
  (side) => {
    const buffers = [side.ids, side.tools, side.text, side.offs, side.q].map((a) => a.buffer as ArrayBuffer);
    parentPort!.postMessage({ packed: side }, buffers);
  },
  (err: Error) => parentPort!.postMessage({ error: err.message }),
);
