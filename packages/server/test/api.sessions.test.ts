import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JSON_HEADERS, NDJSON_HEADERS, type TestApp, testApp } from "./support/app.js";
import { json, makeV1, makeV2 } from "./support/fixtures.js";

const ALICE = "urn:operator:test:alice";

describe("POST /sessions (ingest)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp({ maxBody: 1024 * 1024 });
  });
  afterAll(() => t.close());

  const post = (payload: string | Buffer, headers: Record<string, string> = JSON_HEADERS) =>
    t.app.inject({ method: "POST", url: "/sessions", headers, payload });

  it("stores one session: 201 {session_id}; same id and content 200; different content 409", async () => {
    const log = makeV2("ING-1", { operator: ALICE, level: 4, anomalies: [[0.5, "DECOHERENCE_SPIKE", 3]] });
    const r = await post(json(log));
    expect(r.statusCode).toBe(201);
    expect(r.json()).toEqual({ session_id: "ING-1" });
    expect((await post(json(log))).statusCode).toBe(200);
    // Same JSON value with other whitespace and key order is the same content.
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(log).reverse()), null, 1);
    expect((await post(reordered)).statusCode).toBe(200);
    const changed = await post(json({ ...log, difficulty: "Master" }));
    expect(changed.statusCode).toBe(409);
    expect(changed.json()).toMatchObject({
      session_id: "ING-1",
      code: "RTT_ERR_CONFLICT",
      error: expect.stringMatching(/different content/),
    });
    // The first version is kept byte for byte.
    expect((await t.app.inject("/replay/ING-1/export")).body).toBe(json(log));
  });

  it("derives top-level counts when absent and indexes them", async () => {
    const log = makeV2("ING-2", { anomalies: [[0.1, "OVERSHOOT_EVENT", 4]] }) as Record<string, unknown>;
    for (const k of ["sample_count", "segment_count", "anomaly_count", "score_final"]) delete log[k];
    expect((await post(json(log))).statusCode).toBe(201);
    const meta = (await t.app.inject("/replay/ING-2")).json();
    expect(meta).toMatchObject({
      sample_count: 200,
      segment_count: 2,
      anomaly_count: 1,
      max_severity: 4,
      score_final: 70,
    });
  });

  it("emits one Loki line per session with the seed's top-level fields, and one per anomaly", async () => {
    const lines = t.lines();
    const session = lines.find((l) => l.session_id === "ING-2" && l.event === undefined)!;
    expect(session).toMatchObject({
      spec_version: "v2",
      engine_version: "RTT-2.0.0",
      mode: "TRAINING",
      device_type: "COMT",
      scenario: "COMT_LOCK_01",
      difficulty: "Journeyman",
      sample_count: 200,
      segment_count: 2,
      anomaly_count: 1,
      score_final: 70,
    });
    expect(session.segments).toHaveLength(2);
    const anomaly = lines.find((l) => l.session_id === "ING-2" && l.event === "anomaly");
    expect(anomaly).toMatchObject({ segment_label: "main", severity: 4, type: "OVERSHOOT_EVENT", spec_version: "v2" });
    const first = lines.filter((l) => l.session_id === "ING-1");
    expect(first.map((l) => l.event ?? "session")).toEqual(["session", "anomaly"]);
    expect(first[0]).toMatchObject({ operator_id: ALICE, mastery_level: 4 });
    // Duplicates and conflicts emit nothing.
    expect(lines.filter((l) => l.session_id === "ING-1" && l.event === undefined)).toHaveLength(1);
  });

  it("accepts v1 logs (spec_version derived for the feed)", async () => {
    expect((await post(json(makeV1("ING-V1")))).statusCode).toBe(201);
    const line = t.lines().find((l) => l.session_id === "ING-V1" && l.event === undefined)!;
    expect(line).toMatchObject({ spec_version: "v1", segment_count: 0, anomaly_count: 1, device_type: "COMT" });
  });

  it("rejects schema violations with JSON pointers", async () => {
    const log = makeV2("ING-BAD") as Record<string, unknown>;
    log.timestamp = 12;
    (log.segments as Array<{ samples: Array<Record<string, unknown>> }>)[1].samples[3].C = "x";
    const r = await post(json(log));
    expect(r.statusCode).toBe(400);
    const body = r.json();
    expect(body.error).toMatch(/schema/);
    expect(body.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: "/timestamp" }),
        expect.objectContaining({ path: "/segments/1/samples/3/C" }),
      ]),
    );
  });

  it("accepts the project's rules beyond the seed (counts, time order) with coded warnings in the 201 body, stored with the session; a strict server refuses them (issue 19: 1, 2)", async () => {
    const log = makeV2("ING-SEM");
    log.anomaly_count = 5;
    log.segments![1].samples[5].t = -1;
    (log as Record<string, unknown>).device_type = "TURBINE";
    const r = await post(json(log));
    expect(r.statusCode).toBe(201);
    const body = r.json();
    expect(body.session_id).toBe("ING-SEM");
    expect(body.warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: "COUNT_MISMATCH", path: "/anomaly_count" }),
        expect.objectContaining({ code: "DEVICE_TYPE_UNKNOWN", path: "/device_type" }),
        {
          code: "T_NOT_MONOTONIC",
          path: "/segments/1/samples/5/t",
          message: expect.stringMatching(/RESONANCE_TIME_SLIP, severity 5/),
          anomaly: { type: "RESONANCE_TIME_SLIP", severity: 5 },
        },
      ]),
    );
    // Stored with the session, and the slip is flagged as an anomaly of severity 5.
    const meta = (await t.app.inject("/replay/ING-SEM")).json();
    expect(meta.warnings).toEqual(body.warnings);
    expect(meta.max_severity).toBe(5);
    expect(meta.device_type).toBe("TURBINE");
    const flagged = t.lines().find((l) => l.session_id === "ING-SEM" && l.type === "RESONANCE_TIME_SLIP");
    expect(flagged).toMatchObject({ severity: 5, segment_label: "main" });
    // A clean session's 201 body stays {session_id}, its metadata has no warnings.
    expect((await t.app.inject("/replay/ING-1")).json().warnings).toEqual([]);

    const strict = await testApp({ strict: true });
    try {
      const refused = await strict.app.inject({
        method: "POST",
        url: "/sessions",
        headers: JSON_HEADERS,
        payload: json(log),
      });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().error).toMatch(/strict/);
      const paths = refused.json().details.map((d: { path: string }) => d.path);
      expect(paths).toEqual(expect.arrayContaining(["/anomaly_count", "/segments/1/samples/5/t", "/device_type"]));
      const ok = await strict.app.inject({
        method: "POST",
        url: "/sessions",
        headers: JSON_HEADERS,
        payload: json(makeV2("STRICT-OK")),
      });
      expect(ok.statusCode).toBe(201);
    } finally {
      await strict.close();
    }
  });

  it("rejects non-finite numbers, NUL in indexed fields, over-long ids, bad JSON, empty bodies", async () => {
    const big = json(makeV2("ING-INF")).replace('"C":0.1,', '"C":1e999,');
    expect((await post(big)).json().details[0]).toMatchObject({ path: "/segments/0/samples/0/C" });
    const nul = await post(json({ ...makeV2("ING-NUL"), scenario: "a\u0000b" }));
    expect(nul.statusCode).toBe(400);
    expect(nul.json().details[0].path).toBe("/scenario");
    expect((await post(json(makeV2("x".repeat(300))))).statusCode).toBe(400);
    expect((await post('{"session_id": "a",')).json().error).toMatch(/unexpected end/);
    expect((await post("")).statusCode).toBe(400);
    expect((await post("   \n")).statusCode).toBe(400);
    expect((await post(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).json().error).toMatch(/UTF-8/);
    expect((await post(`${"[".repeat(100)}${"]".repeat(100)}`)).json().error).toMatch(/nested deeper/);
  });

  it("415 on other content types, 413 over the body limit", async () => {
    const r = await post(json(makeV2("ING-TXT")), { "content-type": "text/plain" });
    expect(r.statusCode).toBe(415);
    expect(r.json().error).toMatch(/application\/json .* application\/x-ndjson/);
    expect((await post("x", { "content-type": "application/xml" })).statusCode).toBe(415);
    const noType = await t.app.inject({ method: "POST", url: "/sessions", payload: Buffer.from("{}"), headers: {} });
    expect(noType.statusCode).toBe(415);
    const big = await post(Buffer.alloc(1024 * 1024 + 10, 0x20));
    expect(big.statusCode).toBe(413);
    expect(big.json()).toEqual({ error: "request body is larger than the server's limit", code: "RTT_ERR_TOO_LARGE" });
  });

  it("NDJSON batches: per-line results with line numbers, valid lines stored", async () => {
    const a = makeV2("B-1");
    const b = makeV2("B-2", { operator: ALICE });
    const body = [json(a), "", "{broken", json({ ...makeV2("B-3"), sample_count: 1 }), json(b), json(a)].join("\n");
    const r = await post(body, NDJSON_HEADERS);
    expect(r.statusCode).toBe(207);
    const res = r.json();
    expect(res).toMatchObject({ created: 3, duplicate: 1, failed: 1 });
    expect(res.results.map((x: { line: number; status: number }) => [x.line, x.status])).toEqual([
      [1, 201],
      [3, 400],
      [4, 201],
      [5, 201],
      [6, 200],
    ]);
    // A count mismatch is a warning of the accepted line (the project's rule, not the seed's).
    expect(res.results[2].warnings[0]).toMatchObject({ code: "COUNT_MISMATCH", path: "/sample_count" });
    expect(res.results[0]).not.toHaveProperty("warnings");
    expect((await t.app.inject("/replay/B-2")).statusCode).toBe(200);
    const again = await post(`${json(a)}\r\n${json(b)}\r\n`, { "content-type": "application/x-ndjson; charset=utf-8" });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ created: 0, duplicate: 2, failed: 0 });
    const allBad = await post("nope\n[1]\n", NDJSON_HEADERS);
    expect(allBad.statusCode).toBe(400);
    expect(allBad.json().details.map((d: { line: number }) => d.line)).toEqual([1, 2]);
    expect(allBad.json()).toMatchObject({
      error: "no line of the batch was accepted",
      code: "RTT_ERR_BATCH_REJECTED",
      created: 0,
      duplicate: 0,
      failed: 2,
    });
    expect(allBad.json().results).toHaveLength(2);
    expect((await post("\n\n", NDJSON_HEADERS)).statusCode).toBe(400);
    const fresh = await post(`${json(makeV2("B-4"))}\n${json(makeV2("B-5"))}`, NDJSON_HEADERS);
    expect(fresh.statusCode).toBe(201);
  });

  it("counts rejections by reason in /metrics", async () => {
    const text = (await t.app.inject("/metrics")).body;
    for (const reason of ["schema", "semantic", "bad_json", "conflict", "unsupported_media"])
      expect(text).toMatch(new RegExp(`^rtt_sessions_rejected_total\\{reason="${reason}"\\} [1-9]`, "m"));
    expect(text).toMatch(
      /^rtt_sessions_ingested_total\{device_type="COMT",scenario="COMT_LOCK_01",difficulty="Journeyman",mode="TRAINING",spec_version="v2"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^rtt_session_anomalies_total\{segment_label="main",severity="4",type="OVERSHOOT_EVENT"\} 1$/m,
    );
    expect(text).toMatch(
      /^rtt_session_score_final_bucket\{le="70",device_type="COMT",difficulty="Journeyman"\} [1-9]/m,
    );
    expect(text).toMatch(/^rtt_operator_mastery_level\{operator_id="urn:operator:test:alice"\} /m);
    expect(text).toMatch(/^rtt_ingest_duration_seconds_count [1-9]/m);
  });
});

describe("write authorization and rate limiting", () => {
  const TOKEN = "s3cret-token-for-tests-0123456789";
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp({ token: TOKEN, rateLimit: 40 });
  });
  afterAll(() => t.close());

  it("writes and reads of stored data need the bearer token; health does not", async () => {
    const body = json(makeV2("AUTH-1"));
    const none = await t.app.inject({ method: "POST", url: "/sessions", headers: JSON_HEADERS, payload: body });
    expect(none.statusCode).toBe(401);
    expect(none.headers["www-authenticate"]).toMatch(/^Bearer/);
    expect(none.body).not.toContain(TOKEN);
    const wrong = await t.app.inject({
      method: "POST",
      url: "/sessions",
      headers: { ...JSON_HEADERS, authorization: `Bearer ${TOKEN}x` },
      payload: body,
    });
    expect(wrong.statusCode).toBe(401);
    for (const url of ["/run?store=true", "/run/v2?store=true", "/run?store=1", "/replay/AUTH-1/notes"])
      expect((await t.app.inject({ method: "POST", url })).statusCode, url).toBe(401);
    // The runner's compute-only endpoints store nothing: no token (the seed's `curl -X POST …/run`).
    for (const url of ["/run", "/run/v2", "/run?store=false", "/validate"])
      expect((await t.app.inject({ method: "POST", url })).statusCode, url).toBe(200);
    const ok = await t.app.inject({
      method: "POST",
      url: "/sessions",
      headers: { ...JSON_HEADERS, authorization: `Bearer ${TOKEN}` },
      payload: body,
    });
    expect(ok.statusCode).toBe(201);
    expect((await t.app.inject("/replay/AUTH-1")).statusCode).toBe(401);
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await t.app.inject({ url: "/replay/AUTH-1", headers: auth })).statusCode).toBe(200);
    expect((await t.app.inject("/healthz")).statusCode).toBe(200);
  });

  it("answers 429 with a JSON error past the per-client rate", async () => {
    let last = 0;
    for (let i = 0; i < 50 && last !== 429; i++) last = (await t.app.inject("/healthz")).statusCode;
    expect(last).toBe(429);
    const r = await t.app.inject("/healthz");
    expect(r.json().error).toMatch(/rate limit/);
    expect(r.json().code).toBe("RTT_ERR_RATE_LIMITED");
  });
});
