import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { packItems } from "./ingest-message.js";
import { StoreClosedError } from "./sqlite.js";
import {
  type Facets,
  type IngestItem,
  type IngestOptions,
  type IngestOutcome,
  type ListPage,
  type ListQuery,
  type MasteryEvent,
  type Note,
  type NoteInput,
  type OperatorRecord,
  type SessionRecord,
  type SessionStore,
  StoreBusyError,
} from "./types.js";

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Ingest groups posted to the worker at once (see `ingest`). */
const GROUPS_IN_FLIGHT = 2;

const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** The worker's error as the type callers branch on (the HTTP layer maps these to 503). */
function errorFrom(e: { name: string; message: string }): Error {
  if (e.name === "StoreClosedError") return new StoreClosedError();
  if (e.name === "StoreBusyError") return new StoreBusyError(e.message);
  return new Error(e.message);
}

/** The worker entry beside this module: compiled `.js` in dist, `.ts` when run from sources with a TS loader. */
export function sqliteWorkerUrl(): URL | undefined {
  for (const ext of [".js", ".ts"]) {
    const url = new URL(`./sqlite-worker${ext}`, import.meta.url);
    if (existsSync(fileURLToPath(url)) && (ext === ".js" || !import.meta.url.endsWith(".js"))) return url;
  }
  return undefined;
}

/**
 * The SQLite backend on a worker thread. better-sqlite3 is synchronous: with synchronous=FULL every commit
 * waits for fsync, which on the main thread would stop all request handling. Here the main thread keeps
 * parsing and validating the next requests while the worker commits (and fsyncs) the previous group.
 * Same semantics as SqliteStore (it runs one), same contract tests.
 */
export class ThreadedSqliteStore implements SessionStore {
  readonly kind = "sqlite" as const;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  /** Ingest groups posted and not settled, and the `sequenced` callbacks waiting for one of them to settle. */
  private groupsInFlight = 0;
  private readonly sequenceWaiters: Array<() => void> = [];
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (m: { id: number; result?: unknown; error?: { name: string; message: string } }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(errorFrom(m.error));
      else p.resolve(m.result);
    });
    const fail = (e: Error) => {
      this.failure = e;
      this.closed = true;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on("error", (e) => fail(new Error(`SQLite worker failed: ${e.message}`)));
    worker.on("exit", () => fail(new StoreClosedError()));
  }

  static async open(
    path: string,
    opts: { execArgv?: string[]; workerUrl?: URL; masteryRuleModule?: string; busyTimeoutMs?: number } = {},
  ): Promise<ThreadedSqliteStore> {
    const url = opts.workerUrl ?? sqliteWorkerUrl();
    if (!url) throw new Error("SQLite worker module not found");
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const worker = new Worker(url, {
      workerData: { path, masteryRuleModule: opts.masteryRuleModule, busyTimeoutMs: opts.busyTimeoutMs },
      execArgv: opts.execArgv,
    });
    const ready = await new Promise<{ ready: boolean; error?: string }>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    if (!ready.ready) {
      await worker.terminate();
      throw new Error(ready.error ?? "SQLite worker failed to open the database");
    }
    return new ThreadedSqliteStore(worker);
  }

  private call<T>(method: string, ...args: unknown[]): Promise<T> {
    return this.post<T>({ method, args });
  }

  private post<T>(message: { method: string; args: unknown[] }, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.closed) return Promise.reject(this.failure ?? new StoreClosedError());
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, ...message }, transfer);
    });
  }

  /**
   * The worker writes groups in the order they are posted, so a group is sequenced once it is posted — but at
   * most GROUPS_IN_FLIGHT are: one committing and the next waiting, so the worker never idles, while the
   * sessions that arrive meanwhile cross in one message. (The worker merged queued groups into one transaction
   * anyway; every message costs both threads a wake-up, ~20 us each way, and under load the groups had been of
   * about one session.)
   */
  async ingest(items: IngestItem[], opts: IngestOptions = {}): Promise<IngestOutcome[]> {
    const packed = packItems(items);
    const result = this.post<IngestOutcome[]>({ method: "ingest", args: [packed] }, [packed.documents]);
    if (++this.groupsInFlight < GROUPS_IN_FLIGHT) opts.sequenced?.();
    else if (opts.sequenced) this.sequenceWaiters.push(opts.sequenced);
    try {
      const out = await result;
      for (const o of out) if (o.status === "exists") o.stored = asBuffer(o.stored);
      return out;
    } finally {
      this.groupsInFlight--;
      this.sequenceWaiters.shift()?.();
    }
  }
  getSession(id: string) {
    return this.call<SessionRecord | undefined>("getSession", id);
  }
  async getDocument(id: string) {
    const doc = await this.call<Uint8Array | undefined>("getDocument", id);
    return doc ? asBuffer(doc) : undefined;
  }
  listSessions(q: ListQuery) {
    return this.call<ListPage>("listSessions", q);
  }
  facets() {
    return this.call<Facets>("facets");
  }
  countSessions() {
    return this.call<number>("countSessions");
  }
  addNote(n: NoteInput) {
    return this.call<Note>("addNote", n);
  }
  listNotes(id: string) {
    return this.call<Note[]>("listNotes", id);
  }
  listOperators() {
    return this.call<OperatorRecord[]>("listOperators");
  }
  getOperator(id: string) {
    return this.call<OperatorRecord | undefined>("getOperator", id);
  }
  masteryHistory(id: string) {
    return this.call<MasteryEvent[]>("masteryHistory", id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.call("close");
    this.closed = true;
    await this.worker.terminate();
  }
}
