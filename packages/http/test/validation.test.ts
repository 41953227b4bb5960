// Route schemas and the one formatter: each keyword's wording, the detail paths, coercion of URL parts only.
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installErrorHandler } from "../src/errors.js";
import { installValidation, q } from "../src/validation.js";

const QUERY = q.object({
  n: q.integer(1, 500),
  x: q.number(),
  s: q.string(5),
  b: q.boolean(),
  e: q.oneOf("v1", "v2"),
  at: q.timestamp(),
  p: q.pattern("^a+$", "some a's"),
});

async function app(prefixUrlPaths = false): Promise<FastifyInstance> {
  const a = Fastify();
  installErrorHandler(a);
  installValidation(a, { prefixUrlPaths });
  a.get("/q", { schema: { querystring: QUERY } }, async (req) => req.query);
  a.get("/p/:id", { schema: { params: q.object({ id: q.pattern("^\\d+$", "digits") }) } }, async (req) => req.params);
  a.post("/b", { schema: { body: q.object({ n: q.integer(0, 30), t: q.string() }, ["t"]) } }, async (req) => req.body);
  await a.ready();
  return a;
}

describe("route schemas", () => {
  let a: FastifyInstance;
  beforeAll(async () => {
    a = await app();
  });
  afterAll(() => a.close());
  const details = async (url: string) => (await a.inject(url)).json().details;

  it("reads query values as the declared types", async () => {
    const r = await a.inject("/q?n=7&x=-1.5&s=abc&b=false&e=v2&at=2026-01-02&p=aa");
    expect(r.json()).toEqual({ n: 7, x: -1.5, s: "abc", b: false, e: "v2", at: "2026-01-02", p: "aa" });
  });

  it.each([
    ["n=abc", "n", 'expected an integer, found "abc"'],
    ["n=1.5", "n", 'expected an integer, found "1.5"'],
    ["n=0", "n", "must be between 1 and 500"],
    ["n=1&n=2", "n", "given more than once"],
    ["x=", "x", 'expected a number, found ""'],
    ["x=Infinity", "x", "expected a number, found Infinity"],
    ["s=", "s", "must not be empty"],
    ["s=abcdef", "s", "longer than 5 characters"],
    ["b=yes", "b", "expected true or false"],
    ["e=v3", "e", "expected one of v1, v2"],
    ["at=yesterday", "at", 'expected an ISO 8601 timestamp, found "yesterday"'],
    ["p=b", "p", 'expected some a\'s, found "b"'],
    ["nn=1", "nn", "unknown query parameter (allowed: n, x, s, b, e, at, p)"],
  ])("?%s → %s: %s", async (qs, path, message) => {
    const r = await a.inject(`/q?${qs}`);
    expect(r.statusCode).toBe(400);
    expect(r.json()).toEqual({
      error: "invalid query parameters",
      code: "RTT_ERR_INVALID_QUERY",
      details: [{ path, message }],
    });
  });

  it("names every bad parameter once", async () => {
    expect((await details("/q?n=0&n=x&s=&zz=1")).map((d: { path: string }) => d.path).sort()).toEqual(["n", "s", "zz"]);
  });

  it("path parameters and bodies: JSON pointers, no coercion of bodies", async () => {
    expect((await a.inject("/p/x1")).json()).toEqual({
      error: "invalid path parameters",
      code: "RTT_ERR_INVALID_INPUT",
      details: [{ path: "id", message: 'expected digits, found "x1"' }],
    });
    const r = await a.inject({ method: "POST", url: "/b", payload: { n: "5", extra: 1 } });
    expect(r.json()).toEqual({
      error: "invalid request body",
      code: "RTT_ERR_INVALID_INPUT",
      details: [
        { path: "/t", message: "is required" },
        { path: "/extra", message: "unknown field (allowed: n, t)" },
        { path: "/n", message: 'expected an integer, found "5"' },
      ],
    });
  });

  it("can name URL parts query/<name>, params/<name> (the diagnostics API)", async () => {
    const b = await app(true);
    expect((await b.inject("/q?n=0")).json().details).toEqual([
      { path: "query/n", message: "must be between 1 and 500" },
    ]);
    expect((await b.inject("/p/x")).json().details[0].path).toBe("params/id");
    await b.close();
  });
});
