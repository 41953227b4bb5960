import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JSON_HEADERS, type TestApp, testApp } from "./support/app.js";
import { json, makeV2 } from "./support/fixtures.js";

/**
 * Issue 19, item 2: a log whose t goes backwards (a time slip) is accepted and replays without breaking the
 * time order the plots and the range search need: samples after the slip are held on the replay clock (the
 * running maximum of t) until t passes the slip again, and the slip is an anomaly (RESONANCE_TIME_SLIP, 5).
 */
describe("replay of a time slip", () => {
  let t: TestApp;
  const log = makeV2("SLIP-1", { samples: 40 });
  const main = log.segments![1].samples;
  // t: 0, 0.1, …, 1.0, then back to 0.5 at sample 11 (and on from there): a slip of 0.6 s.
  for (let i = 11; i < main.length; i++) main[i].t = Math.round((main[i].t - 0.6) * 1e9) / 1e9;
  const slipT = main[11].t;
  const before = main[10].t;

  beforeAll(async () => {
    t = await testApp();
    const r = await t.app.inject({ method: "POST", url: "/sessions", headers: JSON_HEADERS, payload: json(log) });
    expect(r.statusCode).toBe(201);
  });
  afterAll(() => t.close());

  it("serves columns whose t never decreases, keeping every sample", async () => {
    const cols = (await t.app.inject("/replay/SLIP-1/segment/seg-main/columns")).json();
    expect(cols.n).toBe(main.length);
    for (let i = 1; i < cols.t.length; i++) expect(cols.t[i]).toBeGreaterThanOrEqual(cols.t[i - 1]);
    // Held at the slip's time until t passes it again, then t itself.
    expect(cols.t[11]).toBe(before);
    expect(cols.t[main.length - 1]).toBe(main[main.length - 1].t);
    expect(cols.C).toEqual(main.map((s) => s.C));
    const view = (await t.app.inject("/replay/SLIP-1/segment/seg-main/columns?max_points=100&from_t=0.9")).json();
    expect(view.n_total).toBeGreaterThan(0);
  });

  it("marks the slip as a RESONANCE_TIME_SLIP anomaly of severity 5 among the events, payloads keeping their t", async () => {
    const { events } = (await t.app.inject("/replay/SLIP-1/segment/seg-main/events")).json();
    const slip = events.find((e: { kind: string }) => e.kind === "anomaly");
    // At the time reached when the clock jumped back, where the held samples are drawn; details say where to.
    expect(slip.payload).toMatchObject({
      type: "RESONANCE_TIME_SLIP",
      severity: 5,
      t: before,
      details: { t_to: slipT },
    });
    const samples = events.filter((e: { kind: string }) => e.kind === "sample");
    expect(samples).toHaveLength(main.length);
    expect(samples[11].payload.t).toBe(slipT);
    for (let i = 1; i < events.length; i++) expect(events[i].t).toBeGreaterThanOrEqual(events[i - 1].t);
    const ranged = (
      await t.app.inject(`/replay/SLIP-1/segment/seg-main/events?from_t=${before}&to_t=${before}`)
    ).json();
    expect(ranged.events.length).toBeGreaterThan(1);
  });

  it("lists the session with max_severity 5 and the warning stored", async () => {
    const meta = (await t.app.inject("/replay/SLIP-1")).json();
    expect(meta.max_severity).toBe(5);
    expect(meta.warnings[0]).toMatchObject({ code: "T_NOT_MONOTONIC", path: "/segments/1/samples/11/t" });
    const seg = meta.segments.find((s: { segment_id: string }) => s.segment_id === "seg-main");
    expect(seg).toMatchObject({ max_severity: 5, t_min: 0, anomaly_count: 1 });
    expect(meta.anomaly_count).toBe(1);
  });
});
