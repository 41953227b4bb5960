import { parentPort } from "node:worker_threads";
import { prepareSession, toWire } from "./prepare.js";

/**
 * Worker thread of the prepare pool (prepare-pool.ts): {id, bodies: ArrayBuffer[]} → {id, results}, one result
 * per body, in order: its PreparedWire, or null when preparing it threw (the caller then prepares that body
 * itself, so the error surfaces in the request as it would without the pool). Pure computation.
 * The results travel as one JSON text: a wire is plain JSON data (it comes from a JSON document), and writing
 * and reading it as text costs less than half of a structured clone of the same objects (~8 + 8 us against
 * ~44 us for a 20 KB session's wire), most of it saved on the request thread, which reads it.
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
  port.postMessage({ id: m.id, results: JSON.stringify(results) });
});
