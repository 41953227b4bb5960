import { parentPort } from "node:worker_threads";
import { prepareSession, toWire } from "./prepare.js";

/**
 * Worker thread of the prepare pool (prepare-pool.ts): {id, bodies: ArrayBuffer[]} → {id, results: PreparedWire[]},
 * one result per body, in order. Pure computation; the bodies stay with the caller.
 */
const port = parentPort!;
port.on("message", (m: { id: number; bodies: ArrayBuffer[] }) => {
  const results = m.bodies.map((b) => toWire(prepareSession(Buffer.from(b))));
  port.postMessage({ id: m.id, results });
});
