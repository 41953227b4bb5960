import Fastify, { type FastifyBaseLogger } from "fastify";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { HTTP_ERRORS, STARTUP_ERRORS } from "../src/error-codes.js";
import { HttpError, httpError, installErrorHandler } from "../src/errors.js";

/** A bare app with the one handler and routes that throw what they are given; log lines captured. */
async function appThrowing(errors: Record<string, () => Error>, scope?: Parameters<typeof installErrorHandler>[1]) {
  const lines: Array<Record<string, unknown>> = [];
  const logger: FastifyBaseLogger = pino({ level: "info" }, { write: (l: string) => lines.push(JSON.parse(l)) });
  const app = Fastify({ loggerInstance: logger });
  installErrorHandler(app, scope);
  for (const [name, make] of Object.entries(errors))
    app.get(`/${name}`, async () => {
      throw make();
    });
  await app.ready();
  return { app, lines };
}

describe("error codes", () => {
  it("are RTT_ERR_* names, HTTP codes with a 4xx/5xx status, startup codes with none", () => {
    for (const [code, e] of Object.entries(HTTP_ERRORS)) {
      expect(code).toMatch(/^RTT_ERR_[A-Z_]+$/);
      expect(e.status, code).toBeGreaterThanOrEqual(400);
      expect(e.status, code).toBeLessThan(600);
      expect(e.message, code).not.toBe("");
    }
    for (const code of Object.keys(STARTUP_ERRORS)) expect(code).toMatch(/^RTT_ERR_STARTUP_[A-Z_]+$/);
    const all = [...Object.keys(HTTP_ERRORS), ...Object.keys(STARTUP_ERRORS)];
    expect(new Set(all).size).toBe(all.length);
  });

  it("httpError takes its status and default message from the table", () => {
    const e = httpError("RTT_ERR_NOT_FOUND");
    expect(e).toBeInstanceOf(HttpError);
    expect([e.statusCode, e.code, e.message]).toEqual([404, "RTT_ERR_NOT_FOUND", "not found"]);
    expect(httpError("RTT_ERR_CONFLICT", "trace x already exists").body()).toEqual({
      error: "trace x already exists",
      code: "RTT_ERR_CONFLICT",
    });
  });

  it("bodies are {error, code, details?} plus extra fields; empty details are left out unless the scope keeps them", () => {
    const e = new HttpError(400, "RTT_ERR_INVALID_INPUT", "invalid note", [{ path: "/t", message: "must be >= 0" }], {
      extra: { accepted: 2 },
    });
    expect(e.body()).toEqual({
      error: "invalid note",
      code: "RTT_ERR_INVALID_INPUT",
      details: [{ path: "/t", message: "must be >= 0" }],
      accepted: 2,
    });
    expect(httpError("RTT_ERR_INVALID_QUERY", undefined, []).body()).toEqual({
      error: "invalid query parameters",
      code: "RTT_ERR_INVALID_QUERY",
    });
    expect(httpError("RTT_ERR_INVALID_QUERY").body(true)).toMatchObject({ details: [] });
  });
});

describe("the error handler", () => {
  it("answers an HttpError with its status, headers and body, unlogged when 4xx", async () => {
    const { app, lines } = await appThrowing({
      gone: () => httpError("RTT_ERR_NOT_FOUND", "no trace x", undefined, { headers: { "x-why": "test" } }),
    });
    const r = await app.inject("/gone");
    expect(r.statusCode).toBe(404);
    expect(r.headers["x-why"]).toBe("test");
    expect(r.json()).toEqual({ error: "no trace x", code: "RTT_ERR_NOT_FOUND" });
    expect(lines.filter((l) => (l.level as number) >= 40)).toEqual([]);
    await app.close();
  });

  it("answers a busy store 503 with Retry-After (the server's StoreBusyError is this HttpError)", async () => {
    const { app } = await appThrowing({
      busy: () => httpError("RTT_ERR_STORE_BUSY", undefined, undefined, { headers: { "retry-after": "1" } }),
    });
    const r = await app.inject("/busy");
    expect(r.statusCode).toBe(503);
    expect(r.headers["retry-after"]).toBe("1");
    expect(r.json()).toEqual({ error: HTTP_ERRORS.RTT_ERR_STORE_BUSY.message, code: "RTT_ERR_STORE_BUSY" });
    await app.close();
  });

  it("answers a fault 500 with a request id, never its message, and logs it with its stack", async () => {
    const { app, lines } = await appThrowing({ boom: () => new TypeError("secret internals") });
    const r = await app.inject("/boom");
    expect(r.statusCode).toBe(500);
    const body = r.json();
    expect(body).toEqual({ error: "internal error", code: "RTT_ERR_INTERNAL", request_id: expect.any(String) });
    expect(r.body).not.toMatch(/secret/);
    const logged = lines.find((l) => l.msg === "request failed");
    expect(logged).toMatchObject({ code: "RTT_ERR_INTERNAL", reqId: body.request_id, err: { type: "TypeError" } });
    expect((logged?.err as { stack?: string } | undefined)?.stack).toMatch(/secret internals\n\s+at /);
    await app.close();
  });

  it("answers Fastify's client errors with a code, and a scope may word them itself and keep empty details", async () => {
    const plain = await appThrowing({
      big: () => Object.assign(new Error("x"), { code: "FST_ERR_CTP_BODY_TOO_LARGE" }),
    });
    expect((await plain.app.inject("/big")).json()).toEqual({
      error: "request body is larger than the server's limit",
      code: "RTT_ERR_TOO_LARGE",
    });
    await plain.app.close();
    const scoped = await appThrowing(
      {
        big: () => Object.assign(new Error("x"), { code: "FST_ERR_CTP_BODY_TOO_LARGE" }),
        teapot: () => Object.assign(new Error("short and stout"), { statusCode: 418 }),
      },
      {
        alwaysDetails: true,
        translate: (err) =>
          err.code === "FST_ERR_CTP_BODY_TOO_LARGE" ? httpError("RTT_ERR_TOO_LARGE", "too big") : undefined,
      },
    );
    expect((await scoped.app.inject("/big")).json()).toEqual({
      error: "too big",
      code: "RTT_ERR_TOO_LARGE",
      details: [],
    });
    const teapot = await scoped.app.inject("/teapot");
    expect(teapot.statusCode).toBe(418);
    expect(teapot.json()).toEqual({ error: "short and stout", code: "RTT_ERR_BAD_REQUEST", details: [] });
    await scoped.app.close();
  });
});
