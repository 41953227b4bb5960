import { parentPort } from "node:worker_threads";
import { prepareSession, toWire } from "./prepare.js";

/**
 * Worker thread of the prepare pool (prepare-pool.ts): {id, bodies: ArrayBuffer[]} → {id, results}, one result
 * per body, in order: its PreparedWire, or null when preparing it threw (the caller then prepares that body
 * itself, so the error surfaces in the request as it would without the pool). Pure computation.
 */
const port = parentPort!;
port.on("message", (m: { id: number; bodies: ArrayBuffer[] }) => {
  const results = m.bodies.map((b) => {
    try {
      return toWire(prepareSession(Buffer.from(b)));
    } catch {
      return null;
    }
  });
  port.postMessage({ id: m.id, results });
});
