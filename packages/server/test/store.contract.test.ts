import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PG_URL, probePostgres, uniqueSchema } from "../../../test/support/pg.js";
import { deriveSession } from "../src/ingest/derive.js";
import { GroupCommitter } from "../src/store/group-commit.js";
import { PostgresStore } from "../src/store/postgres.js";
import { SqliteStore } from "../src/store/sqlite.js";
import { ThreadedSqliteStore } from "../src/store/sqlite-threaded.js";
import type { IngestItem, ListQuery, SessionStore } from "../src/store/types.js";
import { makeV1, makeV2 } from "./support/fixtures.js";
import { masteryRule as testRule } from "./support/mastery-rule.js";

const pgSkip = await probePostgres();

function item(log: object, doc?: Buffer): IngestItem {
  const document = doc ?? Buffer.from(JSON.stringify(log));
  const d = deriveSession(log as never);
  return {
    columns: d.columns,
    summary: d.summary,
    document,
    sha256: createHash("sha256").update(document).digest("hex"),
    mastery: d.columns.operator_id ? { score: d.columns.score_final } : undefined,
  };
}

const q = (over: Partial<ListQuery> = {}): ListQuery => ({ sort: "timestamp", desc: true, limit: 100, ...over });

interface Backend {
  name: string;
  skip?: string;
  open(): Promise<SessionStore>;
  reopen(): Promise<SessionStore>;
  cleanup(): Promise<void>;
}

const dir = mkdtempSync(join(tmpdir(), "rtt-store-contract-"));
const schema = uniqueSchema("contract");
const support = new URL("./support/", import.meta.url);
/** The worker runs the TypeScript sources through the test loader, with the test's mastery rule. */
const threaded = {
  execArgv: ["--import", new URL("register.mjs", support).href],
  masteryRuleModule: new URL("mastery-rule.ts", support).href,
};
const backends: Backend[] = [
  {
    name: "sqlite",
    open: async () => new SqliteStore(join(dir, "contract.db"), testRule),
    reopen: async () => new SqliteStore(join(dir, "contract.db"), testRule),
    cleanup: async () => {},
  },
  {
    name: "sqlite on a worker thread",
    open: () => ThreadedSqliteStore.open(join(dir, "contract-threaded.db"), threaded),
    reopen: () => ThreadedSqliteStore.open(join(dir, "contract-threaded.db"), threaded),
    cleanup: async () => {},
  },
  {
    name: "postgres",
    skip: pgSkip,
    open: () => PostgresStore.open({ url: PG_URL, schema, masteryRule: testRule }),
    reopen: () => PostgresStore.open({ url: PG_URL, schema, masteryRule: testRule }),
    cleanup: async () => {
      const s = await PostgresStore.open({ url: PG_URL, schema });
      await s.dropSchema();
      await s.close();
    },
  },
];

const ALICE = "urn:operator:test:alice";
const BOB = "urn:operator:test:bob";

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(backends)("SessionStore contract: $name", (backend) => {
  if (backend.skip) {
    it.skip(`skipped: ${backend.skip}`, () => {});
    return;
  }
  let store: SessionStore;
  const sessions = [
    makeV2("S-1", { operator: ALICE, level: 3, day: 0, scoreFinal: 60 }),
    makeV2("S-2", { operator: ALICE, level: 5, day: 1, scoreFinal: 80, anomalies: [[0.5, "DECOHERENCE_SPIKE", 3]] }),
    makeV2("S-3", {
      operator: BOB,
      level: 12,
      day: 2,
      scoreFinal: 40,
      device_type: "CTE",
      scenario: "CTE_X",
      difficulty: "Novice",
    }),
    makeV2("S-4", {
      day: 3,
      scoreFinal: 90,
      mode: "LIVE",
      anomalies: [
        [0.2, "OVERSHOOT_EVENT", 5],
        [0.9, "X", 1],
      ],
    }),
  ];
  const v1 = makeV1("S-V1");
  const pretty = Buffer.from(`${JSON.stringify(sessions[0], null, 2)}\n`);

  beforeAll(async () => {
    store = await backend.open();
  });
  afterAll(async () => {
    await store?.close();
    await backend.cleanup();
  });

  it("creates sessions in one transaction, one outcome per item in order", async () => {
    const out = await store.ingest([item(sessions[0], pretty), ...sessions.slice(1).map((s) => item(s)), item(v1)]);
    expect(out.map((o) => o.status)).toEqual(["created", "created", "created", "created", "created"]);
    expect(await store.countSessions()).toBe(5);
  });

  it("keeps the document byte for byte", async () => {
    expect((await store.getDocument("S-1"))?.equals(pretty)).toBe(true);
    expect((await store.getDocument("S-V1"))?.toString()).toBe(JSON.stringify(v1));
    expect(await store.getDocument("nope")).toBeUndefined();
  });

  it("reports duplicates (same bytes) and existing ids with other bytes", async () => {
    const [dup, other] = await store.ingest([item(sessions[1]), item(sessions[0])]);
    expect(dup).toEqual({ status: "duplicate" });
    expect(other.status).toBe("exists");
    if (other.status === "exists") expect(other.stored.equals(pretty)).toBe(true);
    expect(await store.countSessions()).toBe(5);
  });

  it("treats the second of two same-id items in one batch as existing", async () => {
    const a = makeV2("S-DUP", { day: 4 });
    const b = { ...a, difficulty: "Master" };
    const out = await store.ingest([item(a), item(a), item(b)]);
    expect(out.map((o) => o.status)).toEqual(["created", "duplicate", "exists"]);
  });

  it("stores indexed columns and the segment index", async () => {
    const r = await store.getSession("S-2");
    expect(r).toMatchObject({
      session_id: "S-2",
      spec_version: "v2",
      operator_id: ALICE,
      mastery_level: 5,
      device_type: "COMT",
      sample_count: 200,
      segment_count: 2,
      anomaly_count: 1,
      max_severity: 3,
      score_final: 80,
    });
    expect(r?.summary.segments.map((s) => [s.segment_id, s.sample_count, s.anomaly_count, s.max_severity])).toEqual([
      ["seg-warmup", 20, 0, 0],
      ["seg-main", 180, 1, 3],
    ]);
    const v = await store.getSession("S-V1");
    expect(v).toMatchObject({ spec_version: "v1", segment_count: 0, sample_count: 4, device_type: "COMT" });
    expect(v?.summary.segments).toHaveLength(1);
    expect(await store.getSession("nope")).toBeUndefined();
  });

  it("filters on every indexed column", async () => {
    const ids = async (over: Partial<ListQuery>) =>
      (await store.listSessions(q(over))).rows.map((r) => r.session_id).sort();
    expect(await ids({ operator: ALICE })).toEqual(["S-1", "S-2"]);
    expect(await ids({ device_type: "CTE" })).toEqual(["S-3"]);
    expect(await ids({ scenario: "CTE_X" })).toEqual(["S-3"]);
    expect(await ids({ difficulty: "Novice" })).toEqual(["S-3"]);
    expect(await ids({ mode: "LIVE" })).toEqual(["S-4"]);
    expect(await ids({ spec_version: "v1" })).toEqual(["S-V1"]);
    expect(await ids({ level_min: 4, level_max: 12 })).toEqual(["S-2", "S-3"]);
    expect(await ids({ has_anomalies: true })).toEqual(["S-2", "S-4", "S-V1"]);
    expect(await ids({ has_anomalies: false })).toEqual(["S-1", "S-3", "S-DUP"]);
    const day = (n: number) => Date.UTC(2026, 0, 6 + n, 8);
    expect(await ids({ from_ms: day(1), to_ms: day(2) })).toEqual(["S-2", "S-3"]);
  });

  it("sorts and pages with a keyset cursor without gaps or repeats", async () => {
    for (const [sort, desc] of [
      ["timestamp", true],
      ["timestamp", false],
      ["score_final", true],
      ["mastery_level", false],
    ] as const) {
      const all = (await store.listSessions(q({ sort, desc }))).rows.map((r) => r.session_id);
      const paged: string[] = [];
      let after: ListQuery["after"];
      for (let i = 0; i < 10; i++) {
        const page = await store.listSessions(q({ sort, desc, limit: 2, after }));
        paged.push(...page.rows.map((r) => r.session_id));
        if (!page.next) break;
        after = page.next;
      }
      expect(paged).toEqual(all);
      expect(new Set(paged).size).toBe(6);
    }
    const byScore = (await store.listSessions(q({ sort: "score_final", desc: true }))).rows.map((r) => r.score_final);
    expect(byScore).toEqual([...byScore].sort((a, b) => (b ?? 0) - (a ?? 0)));
  });

  it("lists facets", async () => {
    const f = await store.facets();
    expect(f.operators.map((o) => o.operator_id)).toEqual([ALICE, BOB]);
    expect(f.device_types).toEqual(["COMT", "CTE"]);
    expect(f.scenarios).toEqual(["COMT_LOCK_01", "CTE_X"]);
    expect(f.difficulties).toEqual(["Journeyman", "Master", "Novice"].filter((d) => d !== "Master"));
  });

  it("applies the mastery rule per operator in ingest order, inside the transaction", async () => {
    const ops = await store.listOperators();
    expect(ops.map((o) => [o.operator_id, o.sessions, o.xp, o.level])).toEqual([
      [ALICE, 2, 140, 1],
      [BOB, 1, 40, 0],
    ]);
    expect((await store.getOperator(ALICE))?.last_session_at).toBe(sessions[1].timestamp);
    const h = await store.masteryHistory(ALICE);
    expect(h.map((e) => [e.session_id, e.xp, e.delta, e.level, e.reason, e.anomaly_count, e.max_severity])).toEqual([
      ["S-1", 60, 60, 0, "test rule", 0, 0],
      ["S-2", 140, 80, 1, "test rule", 1, 3],
    ]);
    expect(await store.getOperator("urn:operator:none")).toBeUndefined();
    expect(await store.masteryHistory("urn:operator:none")).toEqual([]);
  });

  it("stores notes per session", async () => {
    const n = await store.addNote({
      session_id: "S-2",
      t: 1.5,
      text: "watch the spike",
      author: "erin",
      segment_id: "seg-main",
    });
    expect(n).toMatchObject({
      session_id: "S-2",
      t: 1.5,
      text: "watch the spike",
      author: "erin",
      segment_id: "seg-main",
    });
    await store.addNote({ session_id: "S-2", t: 0, text: "second", author: "erin", segment_id: null });
    const notes = await store.listNotes("S-2");
    expect(notes.map((x) => x.text)).toEqual(["watch the spike", "second"]);
    expect(typeof notes[0].id).toBe("number");
    expect(await store.listNotes("S-1")).toEqual([]);
  });

  it("survives reopening: migrations are idempotent and data is kept", async () => {
    await store.close();
    await expect(store.getSession("S-1")).rejects.toThrow(/closed/);
    store = await backend.reopen();
    expect(await store.countSessions()).toBe(6);
    expect((await store.getDocument("S-1"))?.equals(pretty)).toBe(true);
  });
});

/** Ingest through the server's group committer, several groups in flight, each store overlapping them its way. */
describe.each(backends)("SessionStore contract, grouped and overlapping: $name", (backend) => {
  if (backend.skip) {
    it.skip(`skipped: ${backend.skip}`, () => {});
    return;
  }
  let store: SessionStore;
  beforeAll(async () => {
    await backend.cleanup();
    if (backend.name.startsWith("sqlite"))
      for (const f of ["contract.db", "contract-threaded.db"]) rmSync(join(dir, f), { force: true });
    store = await backend.open();
  });
  afterAll(async () => {
    await store?.close();
    await backend.cleanup();
  });

  const CAROL = "urn:operator:test:carol";
  const logs = Array.from({ length: 24 }, (_, i) =>
    makeV2(`G-${String(i).padStart(2, "0")}`, { operator: i % 3 ? CAROL : undefined, day: i, scoreFinal: 10 + i }),
  );

  it("commits groups in submission order: outcomes, duplicates across groups, mastery history", async () => {
    const committer = new GroupCommitter(store, 4);
    const submitted = [
      ...logs.slice(0, 12).map((l) => item(l)),
      item(logs[1]), // same bytes as an earlier group: duplicate
      item({ ...logs[2], difficulty: "Master" }), // same id, other bytes: exists
      ...logs.slice(12).map((l) => item(l)),
    ];
    const out = await Promise.all(committer.submitAll(submitted));
    await committer.close();
    expect(out.map((o) => o.status)).toEqual([
      ...Array(12).fill("created"),
      "duplicate",
      "exists",
      ...Array(12).fill("created"),
    ]);
    const withOp = logs.filter((_, i) => i % 3).map((l) => l.session_id);
    const h = await store.masteryHistory(CAROL);
    expect(h.map((e) => e.session_id)).toEqual(withOp);
    // The test rule adds score_final to xp: the chain is complete and in order.
    let xp = 0;
    for (const e of h) {
      expect(e.xp - e.delta).toBe(xp);
      xp = e.xp;
    }
    expect((await store.getOperator(CAROL))?.sessions).toBe(withOp.length);
    for (const l of logs) expect((await store.getDocument(l.session_id))?.toString()).toBe(JSON.stringify(l));
  });

  it("a group that cannot be written fails alone: its other items are retried one by one", async () => {
    const committer = new GroupCommitter(store, 3);
    const fresh = Array.from({ length: 9 }, (_, i) => item(makeV2(`F-${i}`, { operator: CAROL, day: 40 + i })));
    // NOT NULL violated: the store rejects this item's transaction.
    fresh[4] = { ...fresh[4], columns: { ...fresh[4].columns, scenario: null as unknown as string } };
    const settled = await Promise.allSettled(committer.submitAll(fresh));
    await committer.close();
    expect(settled.map((s) => (s.status === "fulfilled" ? s.value.status : "rejected"))).toEqual([
      "created",
      "created",
      "created",
      "created",
      "rejected",
      "created",
      "created",
      "created",
      "created",
    ]);
    expect(await store.getSession("F-4")).toBeUndefined();
    const h = (await store.masteryHistory(CAROL)).map((e) => e.session_id).filter((id) => id.startsWith("F-"));
    expect(h.sort()).toEqual(["F-0", "F-1", "F-2", "F-3", "F-5", "F-6", "F-7", "F-8"]);
  });

  // PostgreSQL only: SQLite stores the document as it came.
  if (backend.name === "postgres")
    it("stores documents with lz4 compression (or uncompressed)", async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        const { rows } = await c.query(
          `SELECT a.attcompression AS compression, a.attstorage AS storage FROM pg_attribute a
         JOIN pg_class t ON t.oid = a.attrelid JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE n.nspname = $1 AND t.relname = 'session_documents' AND a.attname = 'document'`,
          [schema],
        );
        expect(rows[0].compression === "l" || rows[0].storage === "e").toBe(true);
      } finally {
        await c.end();
      }
    });
});

describe("SQLite file layout", () => {
  it("creates new databases with 16 KiB pages and keeps an existing file's page size", async () => {
    const fresh = join(dir, "layout-new.db");
    await (await ThreadedSqliteStore.open(fresh, threaded)).close();
    const old = join(dir, "layout-old.db");
    const pre = new Database(old);
    pre.pragma("page_size = 4096");
    pre.exec("CREATE TABLE t (x)");
    pre.close();
    const s = new SqliteStore(old, testRule);
    await s.ingest([item(makeV2("L-1"))]);
    await s.close();
    const size = (f: string) => {
      const db = new Database(f, { readonly: true });
      try {
        return db.pragma("page_size", { simple: true });
      } finally {
        db.close();
      }
    };
    expect(size(fresh)).toBe(16384);
    expect(size(old)).toBe(4096);
  });
});
