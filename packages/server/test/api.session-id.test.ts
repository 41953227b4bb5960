// Issue 13: a session_id becomes a URL path segment (/replay/{id}, /replay/{id}/export). An acknowledged
// session whose id no URL reaches is lost to its owner, so ingest refuses such ids with a 400 on /session_id.
import { validateSessionLog } from "@rtt/core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JSON_HEADERS, NDJSON_HEADERS, type TestApp, testApp } from "./support/app.js";
import { json, makeV2 } from "./support/fixtures.js";

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(() => t.close());

const base = JSON.parse(json(makeV2("ID-BASE", { samples: 20 }))) as Record<string, unknown>;
const withId = (id: string) => json({ ...base, session_id: id });
const post = (payload: string, headers: Record<string, string> = JSON_HEADERS) =>
  t.app.inject({ method: "POST", url: "/sessions", headers, payload });

/** The path a client reaches for `id`: encoded, then normalised by the WHATWG URL parser as fetch and browsers do. */
const pathOf = (id: string, suffix = "") =>
  new URL(`/replay/${encodeURIComponent(id)}${suffix}`, "http://rtt.test").pathname;

describe("session_id at ingest", () => {
  it.each([
    ["a lone high surrogate", "\ud800", /well-formed Unicode/],
    ["a lone low surrogate", "ID-\udc00-X", /well-formed Unicode/],
    ["a reversed surrogate pair", "\udc00\ud800", /well-formed Unicode/],
    ["a high surrogate at the end", "ID-\ud83d", /well-formed Unicode/],
    ["LF", "ID\nX", /control character U\+000A/],
    ["CR", "ID\rX", /control character U\+000D/],
    ["TAB", "ID\tX", /control character U\+0009/],
    ["ESC", "ID\u001b[31mX", /control character U\+001B/],
    ["DEL", "ID\u007fX", /control character U\+007F/],
    ["a C1 control (NEL)", "ID\u0085X", /control character U\+0085/],
    ["'.' (a dot segment: clients resolve /replay/. to /replay/)", ".", /path segment/],
    ["'..' (clients resolve /replay/../export to /export)", "..", /path segment/],
    ["'sessions' (GET /replay/sessions is the listing)", "sessions", /name of a route/],
    ["'facets' (GET /replay/facets is the facets)", "facets", /name of a route/],
  ])("rejects %s with 400 on /session_id, and stores nothing", async (_name, id, why) => {
    const r = await post(withId(id));
    expect(r.statusCode, r.body).toBe(400);
    const detail = r.json().details.find((d: { path: string }) => d.path === "/session_id");
    expect(detail?.message).toMatch(why);
    expect(await t.store.getSession(id)).toBeUndefined();
  });

  it("rejects the same ids per line in an NDJSON batch, accepting the other lines", async () => {
    const r = await post(
      `${withId("ID-NDJSON-OK")}\n${withId("ID-NDJSON-\ud800")}\n${withId("ID\r\nX")}\n`,
      NDJSON_HEADERS,
    );
    expect(r.statusCode, r.body).toBe(207);
    const results = r.json().results as Array<{ line: number; status: number; details?: Array<{ path: string }> }>;
    expect(results.map((x) => x.status)).toEqual([201, 400, 400]);
    expect(results[1].details?.[0].path).toBe("/session_id");
    expect(results[2].details?.[0].path).toBe("/session_id");
  });

  it("keeps the rules already in place: NUL and over 256 characters are refused, 256 are fine", async () => {
    const nul = await post(withId("a\u0000b"));
    expect(nul.statusCode).toBe(400);
    expect(nul.json().details).toContainEqual({ path: "/session_id", message: "NUL characters are not allowed" });
    const long = await post(withId("x".repeat(257)));
    expect(long.statusCode).toBe(400);
    expect(long.json().details[0]).toMatchObject({ path: "/session_id", message: expect.stringMatching(/256/) });
    expect((await post(withId("y".repeat(256)))).statusCode).toBe(201);
  });

  it("accepts ids that are awkward but reachable: non-ASCII, emoji pairs, spaces, URL delimiters", async () => {
    for (const id of [
      "Ünïcödé 日本",
      "ID-😀-pair",
      "with space",
      "a/b?c#d%e&f+g",
      "...",
      ".a",
      "Sessions",
      "facets-2",
    ]) {
      const r = await post(withId(id));
      expect(r.statusCode, `${JSON.stringify(id)}: ${r.body}`).toBe(201);
    }
  });

  it("is a server rule: `rtt validate` (core) still accepts such ids in files", () => {
    for (const id of ["\ud800", "ID\nX", "..", "\u0085"]) {
      const log = JSON.parse(withId("x")) as Record<string, unknown>;
      expect(validateSessionLog({ ...log, session_id: id }).ok, JSON.stringify(id)).toBe(true);
    }
  });
});

/** Ids from every corner: any UTF-16 code units (lone surrogates included), controls, dots, delimiters. */
const anyId = fc.oneof(
  fc.string({ unit: "binary", minLength: 1, maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom(".", "/", "%", "?", "#", "\\", " ", "+", "&", "\n", "\ud800", "a", "é"),
    minLength: 1,
    maxLength: 8,
  }),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 256 }),
  fc.string({ unit: fc.constant("\uffff"), minLength: 100, maxLength: 256 }),
  fc.constantFrom(".", "..", "sessions", "facets", "%2e%2e", "%2F", " ", "\u2028"),
);

describe("stored-id round trip (property)", () => {
  it("every session_id POST /sessions accepts is reachable at /replay/{encodeURIComponent(id)} and exports", async () => {
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(anyId, async (id) => {
        const body = withId(id);
        const r = await post(body);
        expect(r.statusCode, r.body).toBeLessThan(500);
        if (r.statusCode >= 400) {
          refused++;
          expect(r.statusCode).toBe(400);
          // Only the id itself may be the reason: the rest of the document is valid.
          expect([...new Set(r.json().details.map((d: { path: string }) => d.path))]).toEqual(["/session_id"]);
          return;
        }
        accepted++;
        const stored = await t.store.getDocument(id);
        const meta = await t.app.inject({ method: "GET", url: pathOf(id) });
        expect(meta.statusCode, `${pathOf(id)} ${meta.body}`).toBe(200);
        expect(meta.json().session_id).toBe(id);
        const exported = await t.app.inject({ method: "GET", url: pathOf(id, "/export") });
        expect(exported.statusCode, `${pathOf(id, "/export")} ${exported.body}`).toBe(200);
        // 200 = the id existed already (same content); the first document posted under it is what exports.
        expect(exported.body).toBe(r.statusCode === 201 ? body : stored?.toString("utf8"));
      }),
      { numRuns: 400 },
    );
    console.info(`session ids tried: ${accepted} accepted (all reachable), ${refused} refused`);
    expect(accepted).toBeGreaterThan(100);
  });
});
