import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../src/server.js";
import { json, makeV2 } from "./support/fixtures.js";
import { send } from "./support/http.js";
import { readJson } from "./support/json.js";

const JSON_T = { "content-type": "application/json" };
const valid = json(makeV2("HOSTILE-BASE", { samples: 20 }));
const validObj = JSON.parse(valid) as Record<string, unknown>;

/** Hand-written hostile bodies: [name, body, headers]. */
function handWritten(): Array<[string, Buffer | string, Record<string, string>]> {
  const cases: Array<[string, Buffer | string, Record<string, string>]> = [];
  const j = (name: string, body: Buffer | string) => cases.push([name, body, JSON_T]);
  // Seed-valid bodies that break only the project's rules (bad operator, counts or score_final that lie, duplicate
  // segment ids) are accepted with warnings: see "accepts seed-valid bodies…" below (spec/VALIDATION.md).
  j("empty", "");
  j("whitespace", " \n\t ");
  j("null", "null");
  j("array", "[]");
  j("number", "42");
  j("string", '"session"');
  j("true", "true");
  j("truncated", valid.slice(0, valid.length / 2));
  j("truncated by one", valid.slice(0, -1));
  j("trailing garbage", `${valid}x`);
  j("two documents", `${valid}${valid}`);
  j("deep arrays", `${"[".repeat(10_000)}${"]".repeat(10_000)}`);
  j("deep objects", `${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}`);
  j("deep in a valid doc", valid.replace('"scores":{', `"deep":${"[".repeat(200)}${"]".repeat(200)},"scores":{`));
  j("huge number", valid.replace('"C":0.1,', '"C":1e400,'));
  j("huge negative", valid.replace('"C":0.1,', '"C":-1e400,'));
  j("huge score", valid.replace('"final":70', '"final":1e309'));
  j("duplicate key", valid.replace('"C":0.1,', '"C":0.1,"C":0.2,'));
  j("duplicate escaped key", valid.replace('"C":0.1,', '"C":0.1,"\\u0043":0.1,'));
  j("NaN literal", valid.replace('"C":0.1,', '"C":NaN,'));
  j("Infinity literal", valid.replace('"C":0.1,', '"C":Infinity,'));
  j("invalid utf-8", Buffer.concat([Buffer.from('{"session_id":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]));
  j("utf-16", Buffer.from(valid, "utf16le"));
  j("single quotes", valid.replace(/"/g, "'"));
  j("comment", `/* x */${valid}`);
  j("NUL in id", json({ ...validObj, session_id: "a\u0000b" }));
  j("NUL in device", json({ ...validObj, device: "\u0000" }));
  j("long id", json({ ...validObj, session_id: "x".repeat(100_000) }));
  j("empty id", json({ ...validObj, session_id: "" }));
  j("bad timestamp", json({ ...validObj, timestamp: "yesterday" }));
  j("bad date", json({ ...validObj, timestamp: "2026-02-30T99:00:00Z" }));
  j("spec v3", json({ ...validObj, spec_version: "v3" }));
  j("spec number", json({ ...validObj, spec_version: 2 }));
  j("segments object", json({ ...validObj, segments: {} }));
  j("segments null", json({ ...validObj, segments: null }));
  j("samples strings", json({ ...validObj, segments: [{ segment_id: "s", label: "main", samples: ["a"] }] }));
  j("severity 9", valid.replace('"anomalies":[]', '"anomalies":[{"t":0,"type":"X","severity":9}]'));
  j("mastery 31", json({ ...validObj, mastery_level: 31 }));
  j("many keys", `{${Array.from({ length: 20_000 }, (_, i) => `"k${i}":${i}`).join(",")}}`);
  j("long string", `{"session_id":"${"a".repeat(500_000)}"}`);
  j("escapes", '{"session_id":"\\ud800\\udc00\\u0000\\"","timestamp":1}');
  j("lone surrogate", '{"session_id":"\\ud800"}');
  const wrongType = (name: string, type: string) => cases.push([name, valid, { "content-type": type }]);
  wrongType("text/plain", "text/plain");
  wrongType("form", "application/x-www-form-urlencoded");
  wrongType("multipart", "multipart/form-data; boundary=x");
  wrongType("xml", "application/xml");
  wrongType("octet-stream", "application/octet-stream");
  wrongType("json-ish", "application/jsonx");
  wrongType("garbage type", "%%%");
  cases.push(["no content type", valid, {}]);
  cases.push(["ndjson all bad", "x\n{\n[1,2]\n", { "content-type": "application/x-ndjson" }]);
  cases.push(["ndjson deep", `${"[".repeat(1000)}\n`, { "content-type": "application/x-ndjson" }]);
  cases.push([
    "ndjson duplicate key",
    `${valid.replace('"final":70', '"final":70,"final":71')}\n`,
    { "content-type": "application/x-ndjson" },
  ]);
  cases.push(["ndjson empty", "\n\n\r\n", { "content-type": "application/x-ndjson" }]);
  return cases;
}

/** A type-breaking replacement for a field of a valid log (never a valid log). */
const breakField = fc.oneof(
  fc.record({
    key: fc.constantFrom("session_id", "timestamp", "device", "scenario", "difficulty"),
    value: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string())),
  }),
  fc.record({
    key: fc.constantFrom("scores", "segments"),
    value: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
  }),
  fc.record({
    key: fc.constantFrom("mastery_level"),
    value: fc.oneof(fc.integer({ min: 31 }), fc.integer({ max: -1 }), fc.string()),
  }),
);

describe("hostile and malformed input", () => {
  let server: RunningServer;
  const statuses = new Map<number, number>();
  let total = 0;
  const check = async (name: string, body: Buffer | string, headers: Record<string, string>) => {
    const r = await send(server.url, "/sessions", body, headers);
    total++;
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    expect(r.status, `${name}: ${r.body.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
    expect(r.status, name).toBeLessThan(500);
    if (r.body) {
      const parsed = JSON.parse(r.body);
      expect(parsed.error, name).toBeTypeOf("string");
      expect(r.body, name).not.toMatch(/at .*\.(ts|js):\d+|node_modules|stack/);
    }
  };

  beforeAll(async () => {
    server = await startServer({ db: ":memory:", port: 0, logLevel: "silent", sessionOutput: null, rateLimit: 0 });
  });
  afterAll(async () => {
    await server.close();
    console.info(`hostile bodies sent: ${total}; statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
  });

  it("answers every hand-written hostile body with a 4xx JSON error", async () => {
    for (const [name, body, headers] of handWritten()) await check(name, body, headers);
  });

  it("answers fast-check generated JSON values with 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (v) =>
        check(`json ${JSON.stringify(v).slice(0, 80)}`, JSON.stringify(v), JSON_T),
      ),
      { numRuns: 60 },
    );
  });

  it("answers type-broken variants of a valid log with 400 and a pointer", async () => {
    await fc.assert(
      fc.asyncProperty(breakField, fc.integer(), async ({ key, value }, n) => {
        const body = json({ ...validObj, session_id: `HB-${n}`, [key]: value });
        const r = await send(server.url, "/sessions", body, JSON_T);
        total++;
        expect(r.status, `${key}=${JSON.stringify(value)}`).toBe(400);
        expect(JSON.parse(r.body).details[0].path).toMatch(/^\//);
      }),
      { numRuns: 60 },
    );
  });

  it("answers truncations and byte corruptions of a valid log with 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: valid.length - 1 }),
        fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
        async (cut, byte) => {
          const buf = Buffer.from(valid);
          const body =
            byte === undefined
              ? buf.subarray(0, cut)
              : Buffer.concat([buf.subarray(0, cut), Buffer.from([byte]), buf.subarray(cut + 1)]);
          // A corruption may leave the document valid (e.g. a digit changed); only non-2xx or 2xx-without-500 matter.
          const r = await send(server.url, "/sessions", body, JSON_T);
          total++;
          expect(r.status, `cut ${cut} byte ${byte}`).toBeLessThan(500);
          expect(r.status).toBeGreaterThan(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("answers a 50 MB body with 413 and keeps serving", async () => {
    const big = Buffer.alloc(50 * 1024 * 1024, 0x20);
    const r = await send(server.url, "/sessions", big, { ...JSON_T, "content-length": String(big.length) });
    total++;
    // The server may cut the upload short after answering; the answer must be 413 when one arrives.
    expect(r.status).toBe(413);
    const chunked = await send(server.url, "/sessions", big, { ...JSON_T, "transfer-encoding": "chunked" });
    total++;
    expect([413, 0]).toContain(chunked.status);
  });

  it("stores __proto__/constructor keys as plain data without polluting prototypes", async () => {
    const body = valid
      .replace("{", '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},')
      .replace("HOSTILE-BASE", "HOSTILE-PROTO");
    const r = await send(server.url, "/sessions", body, JSON_T);
    total++;
    expect(r.status).toBe(201);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const exported = await (await fetch(`${server.url}/replay/HOSTILE-PROTO/export`)).text();
    expect(exported).toBe(body);
  });

  it("accepts seed-valid bodies that break only the project's rules, with coded warnings (issue 19: 1)", async () => {
    const cases: Array<[string, string, string]> = [
      [
        "huge integer count",
        valid.replace('"sample_count":20', '"sample_count":99999999999999999999999'),
        "COUNT_MISMATCH",
      ],
      ["bad operator", json({ ...validObj, operator_id: "alice" }), "OPERATOR_ID_NOT_URN"],
      ["counts lie", json({ ...validObj, sample_count: 3 }), "COUNT_MISMATCH"],
      ["count a string", json({ ...validObj, segment_count: "two" }), "COUNT_NOT_INTEGER"],
      ["score_final lies", json({ ...validObj, score_final: 1 }), "SCORE_FINAL_MISMATCH"],
      ["duplicate segment ids", valid.replace('"seg-warmup"', '"seg-main"'), "DUPLICATE_SEGMENT_ID"],
    ];
    for (const [name, body, code] of cases) {
      const r = await send(server.url, "/sessions", body.replace("HOSTILE-BASE", `HW-${name}`), JSON_T);
      total++;
      expect(r.status, `${name}: ${r.body.slice(0, 200)}`).toBe(201);
      const warnings = (JSON.parse(r.body) as { warnings: Array<{ code: string }> }).warnings;
      expect(
        warnings.map((w) => w.code),
        name,
      ).toContain(code);
    }
  });

  it("is healthy afterwards and still ingests a valid session", async () => {
    expect(total).toBeGreaterThanOrEqual(200);
    const h = await fetch(`${server.url}/healthz`);
    expect(h.status).toBe(200);
    expect((await readJson<{ status: string }>(h)).status).toBe("ok");
    const r = await send(server.url, "/sessions", json({ ...validObj, session_id: "HOSTILE-AFTER" }), JSON_T);
    expect(r.status).toBe(201);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).not.toMatch(/status="5\d\d"/);
  });
});
