import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type TestApp, testApp } from "../../../server/test/support/app.js";
import { api } from "../../src/api.js";

/** The web client against the real server: its fetch goes to the app in-process. */
describe("api.segments — GET /replay/{id}/segments, the seed's {session_id, segments}", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
    vi.stubGlobal("fetch", async (url: string, init?: RequestInit) => {
      const r = await t.app.inject({ method: "GET", url, headers: init?.headers as Record<string, string> });
      return new Response(r.body, { status: r.statusCode, headers: { "content-type": "application/json" } });
    });
  });
  afterAll(async () => {
    vi.unstubAllGlobals();
    await t.close();
  });

  it("reads the session's id and its segment index, the same index GET /replay/{id} carries", async () => {
    const run = await t.app.inject({ method: "POST", url: "/run/v2?store=true", payload: { session_id: "WEB-SEG/1" } });
    expect(run.statusCode).toBe(200);
    const got = await api.segments("WEB-SEG/1");
    expect(got.session_id).toBe("WEB-SEG/1");
    expect(got.segments.map((s) => s.label)).toEqual(["warmup", "main"]);
    expect(got.segments).toEqual((await api.session("WEB-SEG/1")).segments);
    for (const s of got.segments) expect(typeof s.t_min === "number" && typeof s.t_max === "number").toBe(true);
  });
});
