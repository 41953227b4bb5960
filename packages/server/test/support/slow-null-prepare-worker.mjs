// A prepare-pool worker that takes 300 ms and then reports that every preparation "threw", so the request
// thread prepares the bodies itself: a window in which a request is received but not yet stored.
import { parentPort } from "node:worker_threads";

parentPort.on("message", (m) =>
  setTimeout(() => parentPort.postMessage({ id: m.id, results: JSON.stringify(m.bodies.map(() => null)) }), 300),
);
