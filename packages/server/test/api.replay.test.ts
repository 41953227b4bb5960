import { simulateSession } from "@rtt/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JSON_HEADERS, type TestApp, testApp } from "./support/app.js";
import { json, makeV1, makeV2 } from "./support/fixtures.js";

const ALICE = "urn:operator:test:alice";
const BOB = "urn:operator:test:bob";

describe("replay API", () => {
  let t: TestApp;
  const get = (url: string) => t.app.inject(url);

  beforeAll(async () => {
    t = await testApp();
    const logs = [
      makeV2("R-1", { operator: ALICE, level: 2, day: 0, scoreFinal: 50 }),
      makeV2("R-2", {
        operator: ALICE,
        level: 3,
        day: 1,
        scoreFinal: 75,
        anomalies: [
          [0.5, "DECOHERENCE_SPIKE", 3],
          [0.5, "OVERSHOOT_EVENT", 5],
        ],
      }),
      makeV2("R-3", { operator: BOB, level: 9, day: 2, scoreFinal: 40, device_type: "CTE", scenario: "CTE_SENSOR_01" }),
      makeV2("R-4", { day: 3, scoreFinal: 95, difficulty: "Master" }),
      makeV1("R-V1"),
      simulateSession({
        scenario: "COMT_DRIFT_02",
        policy: "novice",
        seed: 7,
        operator_id: BOB,
        session_id: "R-SIM",
        timestamp: "2026-01-20T00:00:00Z",
      }),
    ];
    for (const log of logs) {
      const r = await t.app.inject({ method: "POST", url: "/sessions", headers: JSON_HEADERS, payload: json(log) });
      expect(r.statusCode).toBe(201);
    }
  });
  afterAll(() => t.close());

  describe("GET /replay/sessions", () => {
    const ids = async (qs: string) => {
      const r = await get(`/replay/sessions${qs}`);
      expect(r.statusCode).toBe(200);
      return r.json().map((x: { session_id: string }) => x.session_id);
    };

    it("lists the seed's fields, newest first by default", async () => {
      const r = await get("/replay/sessions");
      const rows = r.json();
      expect(rows[0]).toEqual({
        session_id: "R-SIM",
        operator_id: BOB,
        operator_display: null,
        mastery_level: 0,
        timestamp: expect.any(String),
        device: "COMT",
        device_type: "COMT",
        scenario: "COMT_DRIFT_02",
        difficulty: expect.any(String),
        mode: "TRAINING",
        spec_version: "v2",
        segment_count: 3,
        sample_count: expect.any(Number),
        anomaly_count: expect.any(Number),
        max_severity: expect.any(Number),
        score_final: expect.any(Number),
      });
      expect(rows.map((x: { session_id: string }) => x.session_id)).toEqual([
        "R-SIM",
        "R-4",
        "R-3",
        "R-2",
        "R-1",
        "R-V1",
      ]);
      expect(r.headers["x-next-cursor"]).toBeUndefined();
    });

    it("filters by every parameter", async () => {
      expect(await ids(`?operator=${encodeURIComponent(ALICE)}`)).toEqual(["R-2", "R-1"]);
      expect(await ids("?device_type=CTE")).toEqual(["R-3"]);
      expect(await ids("?scenario=CTE_SENSOR_01")).toEqual(["R-3"]);
      expect(await ids("?difficulty=Master")).toEqual(["R-4"]);
      expect(await ids("?level_min=3&level_max=9")).toEqual(["R-3", "R-2"]);
      expect(await ids("?has_anomalies=false")).toEqual(["R-4", "R-3", "R-1"]);
      expect(await ids("?spec_version=v1")).toEqual(["R-V1"]);
      expect(await ids("?from=2026-01-07T00:00:00Z&to=2026-01-08T23:59:59Z")).toEqual(["R-3", "R-2"]);
      expect(await ids("?mode=LIVE")).toEqual([]);
    });

    it("sorts, and pages with X-Next-Cursor and Link", async () => {
      expect(await ids("?sort=score_final&spec_version=v2&has_anomalies=false")).toEqual(["R-3", "R-1", "R-4"]);
      expect(await ids(`?sort=-mastery_level&operator=${encodeURIComponent(ALICE)}`)).toEqual(["R-2", "R-1"]);
      const seen: string[] = [];
      let url = "/replay/sessions?limit=2&sort=timestamp";
      for (let i = 0; i < 5; i++) {
        const r = await get(url);
        seen.push(...r.json().map((x: { session_id: string }) => x.session_id));
        const next = r.headers["x-next-cursor"];
        if (!next) break;
        const link = String(r.headers.link);
        expect(link).toMatch(/^<\/replay\/sessions\?.*cursor=.*>; rel="next"$/);
        url = link.slice(1, link.indexOf(">"));
      }
      expect(seen).toEqual(["R-V1", "R-1", "R-2", "R-3", "R-4", "R-SIM"]);
    });

    it.each([
      ["?limit=0", "limit"],
      ["?limit=501", "limit"],
      ["?limit=abc", "limit"],
      ["?level_min=-1", "level_min"],
      ["?level_max=31", "level_max"],
      ["?level_min=5&level_max=2", "level_min"],
      ["?has_anomalies=yes", "has_anomalies"],
      ["?spec_version=v3", "spec_version"],
      ["?from=yesterday", "from"],
      ["?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from"],
      ["?sort=name", "sort"],
      ["?cursor=garbage", "cursor"],
      ["?operatr=x", "operatr"],
      ["?limit=1&limit=2", "limit"],
      ["?scenario=", "scenario"],
    ])("400 for %s", async (qs, param) => {
      const r = await get(`/replay/sessions${qs}`);
      expect(r.statusCode).toBe(400);
      expect(r.json().details.map((d: { path: string }) => d.path)).toContain(param);
    });

    it("400 for a cursor issued under another sort", async () => {
      const cursor = (await get("/replay/sessions?limit=1")).headers["x-next-cursor"];
      expect((await get(`/replay/sessions?limit=1&cursor=${cursor}`)).statusCode).toBe(200);
      expect((await get(`/replay/sessions?limit=1&sort=score_final&cursor=${cursor}`)).statusCode).toBe(400);
    });
  });

  it("GET /replay/facets", async () => {
    const f = (await get("/replay/facets")).json();
    expect(f.operators.map((o: { operator_id: string }) => o.operator_id)).toEqual([ALICE, BOB]);
    expect(f.device_types).toEqual(["COMT", "CTE"]);
    expect(f.scenarios).toContain("CTE_SENSOR_01");
    expect(f.difficulties).toContain("Master");
  });

  it("GET /replay/{id}: metadata and segment index with counts, t range, max severity", async () => {
    const r = (await get("/replay/R-2")).json();
    expect(r).toMatchObject({
      session_id: "R-2",
      operator_id: ALICE,
      operator_team: null,
      mastery_level: 3,
      engine_version: "RTT-2.0.0",
      spec_version: "v2",
      scores: { final: 75 },
      sample_count: 200,
      segment_count: 2,
      anomaly_count: 2,
      max_severity: 5,
      triadic: null,
    });
    expect(r.segments).toEqual([
      {
        segment_id: "seg-warmup",
        label: "warmup",
        sample_count: 20,
        anomaly_count: 0,
        t_min: 0,
        t_max: expect.closeTo(1.9),
        duration: expect.closeTo(1.9),
        max_severity: 0,
      },
      {
        segment_id: "seg-main",
        label: "main",
        sample_count: 180,
        anomaly_count: 2,
        t_min: 0,
        t_max: expect.closeTo(17.9),
        duration: expect.closeTo(17.9),
        max_severity: 5,
      },
    ]);
    // The seed's shape (seed 000, "Replay Viewer API"): the session's id beside its segment index.
    expect((await get("/replay/R-2/segments")).json()).toEqual({ session_id: "R-2", segments: r.segments });
  });

  it("v1 sessions appear as one `main` segment through the adapter", async () => {
    const body = (await get("/replay/R-V1/segments")).json();
    expect(body.session_id).toBe("R-V1");
    expect(body.segments).toEqual([
      expect.objectContaining({
        segment_id: "seg-1",
        label: "main",
        sample_count: 4,
        anomaly_count: 1,
        max_severity: 2,
      }),
    ]);
    const ev = (await get("/replay/R-V1/segment/seg-1/events")).json();
    expect(ev.events.map((e: { kind: string }) => e.kind)).toEqual(["sample", "sample", "anomaly", "sample", "sample"]);
  });

  it("404 with a clear body for unknown sessions and segments", async () => {
    for (const url of [
      "/replay/nope",
      "/replay/nope/segments",
      "/replay/nope/export",
      "/replay/nope/notes",
      "/replay/nope/curriculum",
      "/replay/nope/segment/seg-main/events",
      "/replay/nope/segment/seg-main/columns",
      "/replay/nope/segment/seg-main/stream",
    ]) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(404);
      expect(r.json().error).toMatch(/session "nope" not found/);
    }
    const seg = await get("/replay/R-2/segment/seg-x/events");
    expect(seg.statusCode).toBe(404);
    expect(seg.json().error).toMatch(/segment "seg-x" not found .*seg-warmup, seg-main/);
  });

  describe("GET /replay/{id}/segment/{seg}/events", () => {
    it("returns time-ordered events, the sample before the anomaly at equal t", async () => {
      const r = (await get("/replay/R-2/segment/seg-main/events")).json();
      expect(r.segment_id).toBe("seg-main");
      expect(r.truncated).toBe(false);
      expect(r.events).toHaveLength(182);
      const ts = r.events.map((e: { t: number }) => e.t);
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
      const i = r.events.findIndex((e: { kind: string }) => e.kind === "anomaly");
      expect(r.events[i - 1]).toMatchObject({ kind: "sample" });
      expect(r.events[i - 1].t).toBeLessThanOrEqual(r.events[i].t);
      expect(r.events[i]).toEqual({
        t: r.events[i].payload.t,
        kind: "anomaly",
        payload: { t: expect.any(Number), type: "DECOHERENCE_SPIKE", severity: 3 },
      });
      expect(r.events[i + 1]).toMatchObject({ kind: "anomaly", payload: { type: "OVERSHOOT_EVENT" } });
    });

    it("honours from_t, to_t and limit (truncated flag)", async () => {
      const r = (await get("/replay/R-2/segment/seg-main/events?from_t=1&to_t=2")).json();
      expect(r.events.every((e: { t: number }) => e.t >= 1 && e.t <= 2)).toBe(true);
      expect(r.events.length).toBeGreaterThanOrEqual(9);
      const l = (await get("/replay/R-2/segment/seg-main/events?limit=5")).json();
      expect(l.events).toHaveLength(5);
      expect(l.truncated).toBe(true);
    });

    it.each(["?from_t=x", "?to_t=NaN", "?from_t=3&to_t=1", "?limit=0", "?limit=100001", "?limit=2.5", "?speed=2"])(
      "400 for %s",
      async (qs) => {
        expect((await get(`/replay/R-2/segment/seg-main/events${qs}`)).statusCode).toBe(400);
      },
    );
  });

  it("GET /replay/{id}/segment/{seg}/columns returns plot columns", async () => {
    const r = await get("/replay/R-2/segment/seg-main/columns");
    expect(r.headers["content-type"]).toMatch(/application\/json/);
    const c = r.json();
    expect(c.segment_id).toBe("seg-main");
    expect(c.n).toBe(180);
    for (const k of ["t", "C", "D", "Q", "R"]) expect(c[k]).toHaveLength(180);
    expect(c.C[0]).toBe(0.1);
    expect((await get("/replay/R-2/segment/seg-main/columns?x=1")).statusCode).toBe(400);
  });

  it("parses a stored document once for many replay requests (cache)", async () => {
    const before = t.ctx.cache.parses;
    for (let i = 0; i < 5; i++) await get("/replay/R-3/segment/seg-main/events?limit=1");
    await get("/replay/R-3/segment/seg-warmup/columns");
    expect(t.ctx.cache.parses - before).toBe(1);
  });

  it("GET /replay/{id}/export returns the stored bytes as an attachment", async () => {
    const r = await get("/replay/R-1/export");
    expect(r.body).toBe(json(makeV2("R-1", { operator: ALICE, level: 2, day: 0, scoreFinal: 50 })));
    expect(r.headers["content-disposition"]).toBe(`attachment; filename="R-1.json"; filename*=UTF-8''R-1.json`);
  });

  describe("notes", () => {
    it("POST creates (201) and GET lists notes in order", async () => {
      const a = await t.app.inject({
        method: "POST",
        url: "/replay/R-2/notes",
        payload: { t: 8.9, text: "overcorrection here", author: "erin", segment_id: "seg-main" },
      });
      expect(a.statusCode).toBe(201);
      expect(a.json()).toMatchObject({
        id: expect.any(Number),
        session_id: "R-2",
        t: 8.9,
        text: "overcorrection here",
        author: "erin",
        segment_id: "seg-main",
        created_at: expect.any(String),
      });
      await t.app.inject({
        method: "POST",
        url: "/replay/R-2/notes",
        payload: { t: 0, text: "session note", author: "erin" },
      });
      const list = (await get("/replay/R-2/notes")).json();
      expect(list.map((n: { text: string; segment_id: string | null }) => [n.text, n.segment_id])).toEqual([
        ["overcorrection here", "seg-main"],
        ["session note", null],
      ]);
    });

    it.each([
      [{ t: "1", text: "x", author: "a" }, "/t"],
      [{ t: 1, text: "", author: "a" }, "/text"],
      [{ t: 1, text: "x", author: "" }, "/author"],
      [{ t: 1, text: "x".repeat(10_001), author: "a" }, "/text"],
      [{ t: 1, text: "x", author: "a", segment_id: "seg-x" }, "/segment_id"],
      [{ t: 1, text: "x", author: "a", color: "red" }, "/color"],
      [{ t: 1, text: "x", author: "a", segment_id: 5 }, "/segment_id"],
    ])("400 for %j", async (payload, path) => {
      const r = await t.app.inject({ method: "POST", url: "/replay/R-2/notes", payload });
      expect(r.statusCode).toBe(400);
      expect(r.json().details.map((d: { path: string }) => d.path)).toContain(path);
    });

    it("400 for non-object bodies, 404 for unknown sessions", async () => {
      expect((await t.app.inject({ method: "POST", url: "/replay/R-2/notes", payload: [1, 2] })).statusCode).toBe(400);
      const r = await t.app.inject({
        method: "POST",
        url: "/replay/nope/notes",
        payload: { t: 1, text: "x", author: "a" },
      });
      expect(r.statusCode).toBe(404);
    });
  });

  it("GET /replay/{id}/curriculum returns core's report", async () => {
    const r = (await get("/replay/R-SIM/curriculum")).json();
    expect(r).toMatchObject({ scenario: "COMT_DRIFT_02", objectives: expect.any(Array), drills: expect.any(Array) });
    expect(r.objectives[0]).toMatchObject({
      id: expect.any(String),
      passed: expect.any(Boolean),
      evidence: expect.any(Array),
    });
  });

  describe("operators and mastery", () => {
    it("GET /api/operators lists operators with level, xp, sessions", async () => {
      const ops = (await get("/api/operators")).json();
      expect(ops.map((o: { operator_id: string; sessions: number }) => [o.operator_id, o.sessions])).toEqual([
        [ALICE, 2],
        [BOB, 2],
      ]);
      expect(ops[0]).toEqual({
        operator_id: ALICE,
        operator_display: "alice",
        operator_team: null,
        level: expect.any(Number),
        xp: expect.any(Number),
        sessions: 2,
        last_session_at: "2026-01-07T08:00:00.000Z",
      });
    });

    it("GET /api/operators/{id}/mastery is the per-session history from core's promote", async () => {
      const h = (await get(`/api/operators/${encodeURIComponent(ALICE)}/mastery`)).json();
      expect(h.map((e: { session_id: string }) => e.session_id)).toEqual(["R-1", "R-2"]);
      expect(h[1]).toMatchObject({
        score_final: 75,
        anomaly_count: 2,
        max_severity: 5,
        reason: expect.stringMatching(/frozen/),
      });
      expect((await get("/api/operators/urn:operator:none/mastery")).statusCode).toBe(404);
      expect((await get("/api/operators?x=1")).statusCode).toBe(400);
    });
  });
});
