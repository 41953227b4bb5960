// One contract suite for both DiagnosticsStore implementations. PostgreSQL runs against
// 127.0.0.1:5432 (database `test`) in a throwaway schema, and is skipped with a printed reason when
// unreachable (a failure with RTT_REQUIRE_PG=1, as in CI).
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PG_URL, probePostgres, uniqueSchema } from "../../../test/support/pg.js";
import { applyBeacon, type Beacon, fingerprint } from "../src/drift.js";
import { PgDiagnosticsStore } from "../src/pg-store.js";
import { SqliteDiagnosticsStore } from "../src/sqlite-store.js";
import type { DiagnosticsStore } from "../src/store.js";
import { createTablesPostgres, createTablesSqlite } from "./support/tables.js";

const pgProblem = await probePostgres();

interface Backend {
  name: string;
  skip: boolean;
  open(): Promise<{ store: DiagnosticsStore; reopen(): Promise<DiagnosticsStore>; close(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: "sqlite",
    skip: false,
    async open() {
      const db = new Database(":memory:");
      return {
        store: new SqliteDiagnosticsStore(db, { migrate: createTablesSqlite }),
        reopen: async () => new SqliteDiagnosticsStore(db, { migrate: createTablesSqlite }),
        close: async () => {
          db.close();
        },
      };
    },
  },
  {
    name: "postgres",
    skip: pgProblem !== undefined,
    async open() {
      const pool = new pg.Pool({ connectionString: PG_URL });
      const schema = uniqueSchema("diag");
      return {
        store: new PgDiagnosticsStore(pool, { schema, migrate: createTablesPostgres }),
        reopen: async () => new PgDiagnosticsStore(pool, { schema, migrate: createTablesPostgres }),
        close: async () => {
          await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await pool.end();
        },
      };
    },
  },
];

const beacon = (site: string, event: string, dom_nodes: number): Beacon => ({
  site,
  session: "s-1",
  event,
  ts: "2026-01-19T15:00:00Z",
  structure: {
    url: "internal://x",
    title: "X",
    nav_count: 0,
    main_count: 0,
    form_count: 0,
    button_count: 0,
    dom_nodes,
  },
});

describe.each(backends)("DiagnosticsStore contract: $name", (backend) => {
  let h: Awaited<ReturnType<Backend["open"]>>;
  let store: DiagnosticsStore;

  beforeAll(async () => {
    if (backend.skip) return;
    h = await backend.open();
    store = h.store;
    await store.init();
  });
  afterAll(async () => {
    if (!backend.skip) await h.close();
  });

  it.skipIf(backend.skip)("runs its schema steps idempotently", async () => {
    const again = await h.reopen();
    await again.init();
    await again.init();
    expect(await again.listSites()).toEqual([]);
  });

  it.skipIf(backend.skip)("commits beacon, site state and drift atomically and reads them back", async () => {
    let state = applyBeacon(undefined, beacon("auth-service", "heartbeat", 0), 1000);
    expect(
      await store.commitBeacon(
        {
          ...beacon("auth-service", "heartbeat", 0),
          received_at: 1000,
          fingerprint: fingerprint(beacon("a", "h", 0).structure),
        },
        state.state,
        state.drift,
      ),
    ).toEqual([]);
    const b2 = { ...beacon("auth-service", "heartbeat", 7), meta: { version: "1.2" } };
    state = applyBeacon(state.state, b2, 2000);
    expect(state.drift.map((d) => d.kind)).toEqual(["structure_change"]);
    const saved = await store.commitBeacon(
      { ...b2, received_at: 2000, fingerprint: fingerprint(b2.structure) },
      state.state,
      state.drift,
    );
    expect(saved).toHaveLength(1);
    expect(typeof saved[0].id).toBe("number");

    expect(await store.getSite("auth-service")).toEqual(state.state);
    expect(await store.getSite("nope")).toBeUndefined();
    const beacons = await store.listBeacons("auth-service", 10);
    expect(beacons.map((b) => [b.received_at, b.structure.dom_nodes])).toEqual([
      [1000, 0],
      [2000, 7],
    ]);
    expect(beacons[1].meta).toEqual({ version: "1.2" });
    expect(beacons[0].meta).toBeUndefined();
    expect(await store.listBeacons("auth-service", 1)).toHaveLength(1);

    const drift = await store.listDrift({ site: "auth-service", limit: 10 });
    expect(drift).toEqual([{ ...state.drift[0], id: saved[0].id }]);
  });

  it.skipIf(backend.skip)("lists sites in name order and drift newest-limited, oldest first", async () => {
    let s = applyBeacon(undefined, beacon("b-site", "heartbeat", 0), 10);
    await store.commitBeacon(
      { ...beacon("b-site", "heartbeat", 0), received_at: 10, fingerprint: "x" },
      s.state,
      s.drift,
    );
    for (let i = 1; i <= 3; i++) {
      s = applyBeacon(s.state, beacon("b-site", "heartbeat", i), 10 + i);
      await store.commitBeacon(
        { ...beacon("b-site", "heartbeat", i), received_at: 10 + i, fingerprint: "x" },
        s.state,
        s.drift,
      );
    }
    expect((await store.listSites()).map((x) => x.site)).toEqual(["auth-service", "b-site"]);
    const last2 = await store.listDrift({ site: "b-site", limit: 2 });
    expect(last2.map((d) => d.at)).toEqual([12, 13]);
    expect((await store.listDrift({ limit: 100 })).length).toBe(4);
  });

  it.skipIf(backend.skip)("stores, replaces and lists profiles", async () => {
    expect(await store.getProfile("auth-service")).toBeUndefined();
    await store.putProfile(
      "auth-service",
      { version: "1.0", supports: ["coherence"], contact: "infra@example.com" },
      1,
    );
    await store.putProfile("auth-service", { version: "1.1", supports: ["drift"], scope: "service", name: "auth" }, 2);
    expect(await store.getProfile("auth-service")).toEqual({
      version: "1.1",
      supports: ["drift"],
      scope: "service",
      name: "auth",
    });
    expect([...(await store.listProfiles()).keys()]).toEqual(["auth-service"]);
  });

  it.skipIf(backend.skip)("rolls back the whole beacon when a drift insert fails", async () => {
    const s = applyBeacon(undefined, beacon("atomic", "heartbeat", 0), 1);
    // A drift event with unserialisable details (a BigInt) fails inside the transaction.
    const bad = [
      {
        site: "atomic",
        kind: "structure_change" as const,
        at: 1,
        session: "s",
        event: "heartbeat",
        details: { n: 1n },
      },
    ];
    await expect(
      store.commitBeacon({ ...beacon("atomic", "heartbeat", 0), received_at: 1, fingerprint: "x" }, s.state, bad),
    ).rejects.toThrow();
    expect(await store.getSite("atomic")).toBeUndefined();
    expect(await store.listBeacons("atomic", 10)).toEqual([]);
  });

  it.skipIf(backend.skip)(
    "recordBeacon: concurrent writers of one site (two stores, separate connections) never lose an update",
    async () => {
      const other = await h.reopen();
      const n = 40;
      const writes = Array.from({ length: n }, (_, i) =>
        (i % 2 ? other : store).recordBeacon("contended", (prev) => {
          const b = beacon("contended", "heartbeat", i % 3);
          const next = applyBeacon(prev, b, 10_000 + i);
          return { beacon: { ...b, received_at: 10_000 + i, fingerprint: fingerprint(b.structure) }, ...next };
        }),
      );
      const done = await Promise.all(writes);
      // Each write saw the state the one before it committed: the counts run 1..n without a repeat.
      expect(done.map((d) => d.state.beacons).sort((a, b) => a - b)).toEqual(
        Array.from({ length: n }, (_, i) => i + 1),
      );
      expect((await store.getSite("contended"))?.beacons).toBe(n);
      expect(await store.listBeacons("contended", 1000)).toHaveLength(n);
      const drift = await store.listDrift({ site: "contended", limit: 1000 });
      expect(drift).toHaveLength(done.reduce((a, d) => a + d.drift.length, 0));
    },
  );
});
