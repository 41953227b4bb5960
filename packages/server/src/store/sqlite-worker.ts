import { parentPort, workerData } from "node:worker_threads";
import { SqliteStore } from "./sqlite.js";
import type { IngestItem, MasteryRule } from "./types.js";

/**
 * Worker thread owning the SQLite connection (see sqlite-threaded.ts). Messages: {id, method, args};
 * replies: {id, result} or {id, error}. Posts {ready} (or {ready: false, error}) once the database is open.
 */
const port = parentPort!;
const data = workerData as { path: string; masteryRuleModule?: string };
let store: SqliteStore;
try {
  // Tests substitute the mastery rule with a module exporting `masteryRule`; the server uses core's.
  const rule = data.masteryRuleModule
    ? ((await import(data.masteryRuleModule)) as { masteryRule: MasteryRule }).masteryRule
    : undefined;
  store = new SqliteStore(data.path, rule);
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ ready: false, error: (e as Error).message });
  process.exit(0);
}

const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

port.on("message", async (msg: { id: number; method: keyof SqliteStore; args: unknown[] }) => {
  try {
    if (msg.method === "ingest")
      for (const it of msg.args[0] as IngestItem[]) it.document = asBuffer(it.document as Uint8Array);
    const result = await (store[msg.method] as (...a: unknown[]) => Promise<unknown>).apply(store, msg.args);
    port.postMessage({ id: msg.id, result });
  } catch (e) {
    port.postMessage({ id: msg.id, error: { name: (e as Error).name, message: (e as Error).message } });
  }
});
