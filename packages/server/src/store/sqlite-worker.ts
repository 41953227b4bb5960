import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { type PackedItems, unpackItems } from "./ingest-message.js";
import { SqliteStore } from "./sqlite.js";
import type { IngestItem, MasteryRule } from "./types.js";

/**
 * Worker thread owning the SQLite connection (see sqlite-threaded.ts). Messages: {id, method, args} (an ingest
 * group's one argument packed, see ingest-message.ts); replies: {id, result} or {id, error}. Posts {ready} (or
 * {ready: false, error}) once the database is open.
 * Ingest groups that queued up while the previous transaction was committing are written together in one
 * transaction (one fsync), each still answered on its own.
 */
const port = parentPort!;
const data = workerData as { path: string; masteryRuleModule?: string; busyTimeoutMs?: number };
let store: SqliteStore;
try {
  // Tests substitute the mastery rule with a module exporting `masteryRule`; the server uses core's.
  const rule = data.masteryRuleModule
    ? ((await import(data.masteryRuleModule)) as { masteryRule: MasteryRule }).masteryRule
    : undefined;
  store = new SqliteStore(data.path, rule, { busyTimeoutMs: data.busyTimeoutMs });
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ ready: false, error: (e as Error).message });
  process.exit(0);
}

interface Message {
  id: number;
  method: keyof SqliteStore;
  args: unknown[];
}

/** Most sessions written in one merged transaction. */
const MAX_MERGED_ITEMS = 1024;

const errorOf = (e: unknown) => ({ name: (e as Error).name, message: (e as Error).message });

const ingestItems = (msg: Message): IngestItem[] => unpackItems(msg.args[0] as PackedItems);

async function handle(msg: Message): Promise<void> {
  try {
    const result = await (store[msg.method] as (...a: unknown[]) => Promise<unknown>).apply(store, msg.args);
    port.postMessage({ id: msg.id, result });
  } catch (e) {
    port.postMessage({ id: msg.id, error: errorOf(e) });
  }
}

port.on("message", async (first: Message) => {
  if (first.method !== "ingest") return handle(first);
  const group: Message[] = [first];
  let size = (first.args[0] as PackedItems).lengths.length;
  let after: Message | undefined;
  while (size < MAX_MERGED_ITEMS) {
    const next = receiveMessageOnPort(port)?.message as Message | undefined;
    if (!next) break;
    if (next.method !== "ingest") {
      after = next;
      break;
    }
    group.push(next);
    size += (next.args[0] as PackedItems).lengths.length;
  }
  let results: ReturnType<SqliteStore["ingestGroups"]>;
  try {
    results = store.ingestGroups(group.map(ingestItems));
  } catch (e) {
    results = group.map(() => ({ error: e as Error }));
  }
  group.forEach((m, i) => {
    const r = results[i]!; // one result per group, both ways above
    port.postMessage("error" in r ? { id: m.id, error: errorOf(r.error) } : { id: m.id, result: r.outcomes });
  });
  if (after) await handle(after);
});
