import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JSON_HEADERS, type TestApp, testApp } from "./support/app.js";
import { json, makeV2 } from "./support/fixtures.js";
import { readSse } from "./support/sse.js";

describe("SSE replay stream (real client)", () => {
  let t: TestApp;
  let base: string;
  const stream = (id: string, seg: string, qs = "") => `${base}/replay/${id}/segment/${seg}/stream${qs}`;

  beforeAll(async () => {
    t = await testApp();
    const logs = [
      makeV2("SSE-1", {
        samples: 44,
        anomalies: [
          [0.25, "DECOHERENCE_SPIKE", 3],
          [0.5, "OVERSHOOT_EVENT", 4],
        ],
      }),
      // main segment: 20 samples, t 0..1.9 → 1.9 s at speed 1
      makeV2("SSE-PACE", { samples: 22 }),
      makeV2("SSE-LONG", { samples: 400 }),
    ];
    for (const log of logs)
      await t.app.inject({ method: "POST", url: "/sessions", headers: JSON_HEADERS, payload: json(log) });
    base = await t.app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(() => t.close());

  it("streams sample and anomaly events in time order with indexes as ids, then end", async () => {
    const r = await readSse(stream("SSE-1", "seg-main", "?speed=max"));
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(r.headers["cache-control"]).toMatch(/no-cache/);
    const body = r.events.slice(0, -1);
    const end = r.events.at(-1)!;
    expect(end).toMatchObject({ event: "end", data: "{}" });
    expect(end.id).toBeUndefined();
    expect(body.map((e) => Number(e.id))).toEqual(body.map((_, i) => i));
    const expected = (await t.app.inject("/replay/SSE-1/segment/seg-main/events")).json().events;
    expect(body.map((e) => [e.event, JSON.parse(e.data)])).toEqual(
      expected.map((e: { kind: string; payload: unknown }) => [e.kind, e.payload]),
    );
    expect(body.filter((e) => e.event === "anomaly").map((e) => JSON.parse(e.data).type)).toEqual([
      "DECOHERENCE_SPIKE",
      "OVERSHOOT_EVENT",
    ]);
  });

  it("overlay=none leaves anomalies out but keeps the ids of the full order", async () => {
    const r = await readSse(stream("SSE-1", "seg-main", "?speed=max&overlay=none"));
    const kinds = new Set(r.events.map((e) => e.event));
    expect(kinds).toEqual(new Set(["sample", "end"]));
    expect(r.events).toHaveLength(40 + 1);
    expect(Number(r.events.at(-2)!.id)).toBe(41);
  });

  it("from_t / to_t bound the stream", async () => {
    const r = await readSse(stream("SSE-1", "seg-main", "?speed=max&from_t=1&to_t=2.05"));
    const ts = r.events.filter((e) => e.event === "sample").map((e) => JSON.parse(e.data).t);
    expect(Math.min(...ts)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...ts)).toBeLessThanOrEqual(2.05);
    expect(r.events.at(-1)!.event).toBe("end");
  });

  it("resumes after Last-Event-ID (header or last_event_id query)", async () => {
    const full = await readSse(stream("SSE-1", "seg-main", "?speed=max"));
    const r = await readSse(stream("SSE-1", "seg-main", "?speed=max"), { headers: { "Last-Event-ID": "10" } });
    expect(r.events[0].id).toBe("11");
    expect(r.events.map((e) => e.data)).toEqual(full.events.slice(11).map((e) => e.data));
    const q = await readSse(stream("SSE-1", "seg-main", "?speed=max&last_event_id=40"));
    expect(q.events.map((e) => e.id)).toEqual(["41", undefined]);
    const past = await readSse(stream("SSE-1", "seg-main", "?speed=max"), { headers: { "Last-Event-ID": "9999" } });
    expect(past.events.map((e) => e.event)).toEqual(["end"]);
  });

  it("paces by Δt/speed: speed 4 finishes about 4× sooner than speed 1", async () => {
    const [slow, fast] = await Promise.all([
      readSse(stream("SSE-PACE", "seg-main", "?speed=1")),
      readSse(stream("SSE-PACE", "seg-main", "?speed=4")),
    ]);
    const span = (r: typeof slow) => r.events.at(-1)!.at - r.events[0].at;
    const ratio = span(slow) / span(fast);
    expect(span(slow)).toBeGreaterThan(1500); // 1.9 s of session time
    expect(ratio).toBeGreaterThan(2.5);
    expect(ratio).toBeLessThan(6);
  });

  it("stops work when the client disconnects", async () => {
    const r = await readSse(stream("SSE-LONG", "seg-main", "?speed=1"), { stopAfter: 3 });
    expect(r.events).toHaveLength(3);
    for (let i = 0; i < 50 && t.ctx.streams.size > 0; i++) await sleep(10);
    expect(t.ctx.streams.size).toBe(0);
  });

  it.each([
    ["?speed=0", 400],
    ["?speed=-1", 400],
    ["?speed=fast", 400],
    ["?speed=1e9", 400],
    ["?overlay=lines", 400],
    ["?from_t=2&to_t=1", 400],
    ["?last_event_id=x", 400],
    ["?bogus=1", 400],
  ])("%s → %i with a JSON error", async (qs, status) => {
    const r = await readSse(stream("SSE-1", "seg-main", qs));
    expect(r.status).toBe(status);
    expect(JSON.parse(r.body!).error).toBeTypeOf("string");
  });

  it("400 for a malformed Last-Event-ID header, 404 for unknown ids", async () => {
    const bad = await readSse(stream("SSE-1", "seg-main"), { headers: { "Last-Event-ID": "abc" } });
    expect(bad.status).toBe(400);
    expect((await readSse(stream("nope", "seg-main"))).status).toBe(404);
    expect((await readSse(stream("SSE-1", "seg-nope"))).status).toBe(404);
  });

  it("server shutdown ends open streams instead of hanging", async () => {
    const pending = readSse(stream("SSE-LONG", "seg-main", "?speed=1"));
    for (let i = 0; i < 50 && t.ctx.streams.size === 0; i++) await sleep(10);
    expect(t.ctx.streams.size).toBe(1);
    const started = performance.now();
    await t.app.close();
    expect(performance.now() - started).toBeLessThan(2000);
    const r = await pending;
    expect(r.events.length).toBeGreaterThan(0);
    expect(t.ctx.streams.size).toBe(0);
  });
});
