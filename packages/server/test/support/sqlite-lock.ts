import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

const betterSqlite = createRequire(import.meta.url).resolve("better-sqlite3");

export interface HeldLock {
  /** Resolves once the other connection holds the write lock (with an uncommitted row). */
  locked: Promise<void>;
  /** Resolves once it committed and closed. */
  released: Promise<void>;
}

/**
 * Another connection to the same SQLite file takes the write lock (BEGIN IMMEDIATE and an insert into a
 * table of its own) and holds it for `ms` before committing, as the diagnostics connection does while a
 * beacon commits. It runs on a thread of its own: the stores under test block their thread while they wait.
 */
export function holdWriteLock(path: string, ms: number): HeldLock {
  const worker = new Worker(
    `const { parentPort, workerData } = require("node:worker_threads");
     const Database = require(workerData.betterSqlite);
     const db = new Database(workerData.path);
     db.exec("CREATE TABLE IF NOT EXISTS lock_probe (n INTEGER)");
     db.exec("BEGIN IMMEDIATE");
     db.prepare("INSERT INTO lock_probe VALUES (1)").run();
     parentPort.postMessage("locked");
     Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.ms);
     db.exec("COMMIT");
     db.close();
     parentPort.postMessage("released");`,
    { eval: true, workerData: { path, ms, betterSqlite } },
  );
  const next = (want: string) =>
    new Promise<void>((resolve, reject) => {
      const onMessage = (m: string) => {
        if (m !== want) return;
        worker.off("message", onMessage);
        resolve();
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
    });
  return { locked: next("locked"), released: next("released") };
}
