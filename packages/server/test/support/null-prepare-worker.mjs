// A prepare-pool worker whose every preparation "threw": it answers null for each body, as JSON text (see prepare-worker.ts).
import { parentPort } from "node:worker_threads";

parentPort.on("message", (m) =>
  parentPort.postMessage({ id: m.id, results: JSON.stringify(m.bodies.map(() => null)) }),
);
