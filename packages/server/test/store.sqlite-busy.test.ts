// Issue 13: the sessions store and the diagnostics connection write to the same SQLite file. A write
// transaction that began with a read could not take the write lock once the other connection held it
// ("database is locked" → 500). Here the other connection is held open deterministically.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { deriveSession } from "../src/ingest/derive.js";
import { GroupCommitter } from "../src/store/group-commit.js";
import { openDiagnosticsStore } from "../src/store/open.js";
import { SqliteStore } from "../src/store/sqlite.js";
import { ThreadedSqliteStore } from "../src/store/sqlite-threaded.js";
import { type IngestItem, type SessionStore, StoreBusyError } from "../src/store/types.js";
import { JSON_HEADERS, NDJSON_HEADERS, testApp } from "./support/app.js";
import { json, makeV2 } from "./support/fixtures.js";
import { holdWriteLock } from "./support/sqlite-lock.js";

const dir = mkdtempSync(join(tmpdir(), "rtt-sqlite-busy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `busy-${++n}.db`);

function item(id: string): IngestItem {
  const log = makeV2(id, { samples: 20 });
  const document = Buffer.from(JSON.stringify(log));
  const d = deriveSession(log);
  return {
    columns: d.columns,
    summary: d.summary,
    document,
    sha256: createHash("sha256").update(document).digest("hex"),
  };
}

const support = new URL("./support/", import.meta.url);
const threaded = { execArgv: ["--import", new URL("register.mjs", support).href] };

describe("SQLite store while another connection holds the write lock", () => {
  it("waits for the lock and commits instead of failing with 'database is locked'", async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    await store.ingest([item("BUSY-SEED")]);
    const lock = holdWriteLock(path, 200);
    await lock.locked;
    // Synchronous: the store's thread waits inside SQLite while the holder's thread commits.
    const out = await store.ingest([item("BUSY-WAITED"), item("BUSY-WAITED-2")]);
    expect(out.map((o) => o.status)).toEqual(["created", "created"]);
    await lock.released;
    expect(await store.countSessions()).toBe(3);
    await store.close();
    const check = new Database(path, { readonly: true });
    expect(check.prepare("SELECT COUNT(*) AS n FROM lock_probe").get()).toEqual({ n: 1 });
    check.close();
  });

  it("reports a lock held past the busy timeout as a StoreBusyError, and writes nothing", async () => {
    const path = freshPath();
    const store = new SqliteStore(path, undefined, { busyTimeoutMs: 50 });
    const lock = holdWriteLock(path, 600);
    await lock.locked;
    await expect(store.ingest([item("BUSY-TIMEOUT")])).rejects.toBeInstanceOf(StoreBusyError);
    await lock.released;
    expect(await store.getSession("BUSY-TIMEOUT")).toBeUndefined();
    expect((await store.ingest([item("BUSY-TIMEOUT")]))[0].status).toBe("created");
    await store.close();
  });

  it("does not retry merged groups one by one when the lock is the problem (each retry would wait again)", async () => {
    const path = freshPath();
    const store = new SqliteStore(path, undefined, { busyTimeoutMs: 300 });
    const lock = holdWriteLock(path, 4000);
    await lock.locked;
    const started = performance.now();
    const results = store.ingestGroups([[item("G-1")], [item("G-2")], [item("G-3")], [item("G-4")]]);
    const elapsed = performance.now() - started;
    expect(results.every((r) => "error" in r && r.error instanceof StoreBusyError)).toBe(true);
    // One wait (300 ms), not five (1,500 ms): the margin is wide enough for a loaded machine.
    expect(elapsed).toBeLessThan(1200);
    await lock.released;
    await store.close();
  });

  it("keeps the error's type across the worker thread", async () => {
    const path = freshPath();
    const store = await ThreadedSqliteStore.open(path, { ...threaded, busyTimeoutMs: 50 });
    const lock = holdWriteLock(path, 600);
    await lock.locked;
    await expect(store.ingest([item("BUSY-THREAD")])).rejects.toBeInstanceOf(StoreBusyError);
    await lock.released;
    expect((await store.ingest([item("BUSY-THREAD")]))[0].status).toBe("created");
    await store.close();
  });
});

describe("GroupCommitter and a busy store", () => {
  it("fails the whole batch with the busy error instead of retrying each item", async () => {
    let calls = 0;
    const store = {
      kind: "sqlite",
      async ingest() {
        calls++;
        throw new StoreBusyError();
      },
    } as unknown as SessionStore;
    const committer = new GroupCommitter(store);
    const results = await Promise.allSettled(committer.submitAll([item("C-1"), item("C-2"), item("C-3")]));
    expect(results.map((r) => r.status === "rejected" && r.reason instanceof StoreBusyError)).toEqual([
      true,
      true,
      true,
    ]);
    expect(calls).toBe(1);
  });
});

describe("HTTP while the SQLite file is locked past the busy timeout", () => {
  it("POST /sessions, POST /run?store=true and NDJSON batches answer 503 with Retry-After, never 500; retry succeeds", async () => {
    const path = freshPath();
    const app = await testApp({ store: new SqliteStore(path, undefined, { busyTimeoutMs: 50 }) });
    try {
      const body = json(makeV2("HTTP-BUSY", { samples: 20 }));
      const lock = holdWriteLock(path, 1500);
      await lock.locked;
      const one = await app.app.inject({ method: "POST", url: "/sessions", headers: JSON_HEADERS, payload: body });
      expect(one.statusCode, one.body).toBe(503);
      expect(one.headers["retry-after"]).toMatch(/^\d+$/);
      expect(one.json().error).toMatch(/busy/);
      const run = await app.app.inject({ method: "POST", url: "/run?store=true" });
      expect(run.statusCode, run.body).toBe(503);
      expect(run.headers["retry-after"]).toMatch(/^\d+$/);
      const batch = await app.app.inject({
        method: "POST",
        url: "/sessions",
        headers: NDJSON_HEADERS,
        payload: `${json(makeV2("HTTP-BUSY-B1", { samples: 20 }))}\n${json(makeV2("HTTP-BUSY-B2", { samples: 20 }))}\n`,
      });
      expect(batch.statusCode, batch.body).toBe(503);
      expect(batch.headers["retry-after"]).toMatch(/^\d+$/);
      await lock.released;
      const again = await app.app.inject({ method: "POST", url: "/sessions", headers: JSON_HEADERS, payload: body });
      expect(again.statusCode, again.body).toBe(201);
      expect((await app.app.inject({ method: "GET", url: "/replay/HTTP-BUSY/export" })).body).toBe(body);
      const metrics = (await app.app.inject({ method: "GET", url: "/metrics" })).body;
      expect(metrics).not.toMatch(/status="500"/);
    } finally {
      await app.close();
    }
  });
});

describe("sessions and beacons written at the same time (the shape of rtt serve)", () => {
  it("answers no request with a 5xx and loses nothing it acknowledged", async () => {
    // The sessions store on its worker thread, diagnostics on the main thread: two connections, one file.
    const path = freshPath();
    const store = await ThreadedSqliteStore.open(path, threaded);
    const diagnostics = await openDiagnosticsStore(path);
    const app = await testApp({ store, diagnostics: diagnostics.store });
    const statuses = new Map<string, number>();
    const count = (kind: string, status: number) =>
      statuses.set(`${kind} ${status}`, (statuses.get(`${kind} ${status}`) ?? 0) + 1);
    const created: string[] = [];
    let beacons = 0;
    try {
      const body = json(makeV2("HAMMER", { samples: 20 }));
      // A fixed amount of work, not a time window: the contention is the same on a fast or a loaded machine.
      let i = 0;
      const sessions = async () => {
        for (let n = 0; n < 12; n++) {
          const id = `HAMMER-${i++}`;
          const r = await app.app.inject({
            method: "POST",
            url: "/sessions",
            headers: JSON_HEADERS,
            payload: body.replace('"HAMMER"', JSON.stringify(id)),
          });
          count("session", r.statusCode);
          if (r.statusCode === 201) created.push(id);
        }
      };
      const beacon = async (site: string) => {
        for (let n = 0; n < 48; n++) {
          const r = await app.app.inject({
            method: "POST",
            url: "/api/rtt/beacon",
            payload: {
              site,
              session: "s",
              event: "heartbeat",
              ts: new Date().toISOString(),
              structure: {
                url: "internal://x",
                title: "x",
                nav_count: 0,
                main_count: 0,
                form_count: 0,
                button_count: 0,
                dom_nodes: beacons,
              },
            },
          });
          count("beacon", r.statusCode);
          if (r.statusCode === 200) beacons++;
        }
      };
      await Promise.all([...Array.from({ length: 8 }, sessions), beacon("site-a"), beacon("site-b")]);
      console.info(`sessions and beacons under contention: ${JSON.stringify(Object.fromEntries(statuses))}`);
      expect([...statuses.keys()].filter((k) => !/ (200|201)$/.test(k))).toEqual([]);
      expect(created.length).toBe(96);
      expect(beacons).toBe(96);
      expect(await store.countSessions()).toBe(created.length);
      for (const id of created) expect((await store.getSession(id))?.session_id).toBe(id);
      const stored =
        (await diagnostics.store.listBeacons("site-a", 100_000)).length +
        (await diagnostics.store.listBeacons("site-b", 100_000)).length;
      expect(stored).toBe(beacons);
    } finally {
      await app.close();
      await diagnostics.close();
    }
  });
});

describe("the diagnostics store while the SQLite file is locked past its busy timeout", () => {
  it("a beacon and a profile answer 503 with Retry-After (RTT_ERR_STORE_BUSY), never 500; retry succeeds", async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    const diagnostics = await openDiagnosticsStore(path, { busyTimeoutMs: 50 });
    const app = await testApp({ store, diagnostics: diagnostics.store });
    const beacon = {
      site: "busy-site",
      session: "s",
      event: "heartbeat",
      ts: new Date().toISOString(),
      structure: {
        url: "internal://x",
        title: "x",
        nav_count: 0,
        main_count: 0,
        form_count: 0,
        button_count: 0,
        dom_nodes: 1,
      },
    };
    try {
      const lock = holdWriteLock(path, 1500);
      await lock.locked;
      const b = await app.app.inject({ method: "POST", url: "/api/rtt/beacon", payload: beacon });
      expect(b.statusCode, b.body).toBe(503);
      expect(b.headers["retry-after"]).toBe("1");
      expect(b.json().code).toBe("RTT_ERR_STORE_BUSY");
      const p = await app.app.inject({
        method: "PUT",
        url: "/api/rtt/profile/busy-site",
        payload: { version: "1.0", supports: ["drift"] },
      });
      expect(p.statusCode, p.body).toBe(503);
      expect(p.headers["retry-after"]).toBe("1");
      await lock.released;
      expect(await diagnostics.store.listBeacons("busy-site", 10)).toEqual([]);
      const again = await app.app.inject({ method: "POST", url: "/api/rtt/beacon", payload: beacon });
      expect(again.statusCode, again.body).toBe(200);
      expect((await diagnostics.store.getSite("busy-site"))?.beacons).toBe(1);
    } finally {
      await app.close();
      await diagnostics.close();
    }
  });
});
