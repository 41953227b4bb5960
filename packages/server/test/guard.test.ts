import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { AUTH_COOKIE, hostName, makeHostCheck, makeOriginCheck } from "../src/guard.js";
import { type OpenedDiagnostics, openDiagnosticsStore } from "../src/store/open.js";
import { JSON_HEADERS, type TestApp, testApp } from "./support/app.js";
import { makeTrace } from "./support/ctf-trace.js";
import { json, makeV2 } from "./support/fixtures.js";

/** A small valid trace written by the real corridor runtime. */
const TRACE = makeTrace(3, {
  taskId: "guard-1",
  task: "guard",
  spec: { max_steps: 64 },
  step: (i) => ({ action: `search('${i}')`, observation: "hits", tool: "search", latencyMs: 100 }),
})
  .map((e) => JSON.stringify(e))
  .join("\n");

/** The "simple" requests a cross-site page can send without a CORS preflight. */
const SIMPLE_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"];

describe("browser origins on an open loopback server", () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "rtt-guard-"));
    t = await testApp({ ctfDataDir: dir, allowOrigins: ["https://trusted.example"], allowHosts: ["rtt.lan"] });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses the content types of HTML forms and text on every write (CSRF without preflight)", async () => {
    for (const type of SIMPLE_TYPES) {
      const up = await t.app.inject({ method: "POST", url: "/ctf", headers: { "content-type": type }, payload: TRACE });
      expect(up.statusCode, type).toBe(415);
      expect(up.json().error).toMatch(/unsupported content type/);
      const ev = await t.app.inject({
        method: "POST",
        url: "/ctf/guard-x/events",
        headers: { "content-type": type },
        payload: TRACE,
      });
      expect(ev.statusCode, type).toBe(415);
      const run = await t.app.inject({ method: "POST", url: "/run", headers: { "content-type": type }, payload: "x" });
      expect(run.statusCode, type).toBe(415);
    }
    expect((await t.app.inject("/ctf")).json().traces).toEqual([]);
    const ok = await t.app.inject({
      method: "POST",
      url: "/ctf",
      headers: { "content-type": "application/x-ndjson" },
      payload: TRACE,
    });
    expect(ok.statusCode).toBe(201);
  });

  it("refuses writes from a foreign Origin, even without a body; the seed's bare POST /run still works", async () => {
    const before = await t.store.countSessions();
    // A compute-only run (no token needed) still passes the Origin check, as does one that stores.
    for (const url of ["/run", "/run?store=true"]) {
      for (const origin of ["http://evil.example", "null", "http://127.0.0.1.evil.example"]) {
        const r = await t.app.inject({ method: "POST", url, headers: { origin } });
        expect(r.statusCode, `${url} ${origin}`).toBe(403);
        expect(r.json().error).toMatch(/cross-origin request refused/);
      }
      const site = await t.app.inject({ method: "POST", url, headers: { "sec-fetch-site": "cross-site" } });
      expect(site.statusCode).toBe(403);
    }
    const s = await t.app.inject({
      method: "POST",
      url: "/sessions",
      headers: { ...JSON_HEADERS, origin: "http://evil.example" },
      payload: json(makeV2("CSRF-1")),
    });
    expect(s.statusCode).toBe(403);
    expect(await t.store.countSessions()).toBe(before);

    // curl -X POST http://localhost:8080/run (seed 000): no Origin, no body.
    expect((await t.app.inject({ method: "POST", url: "/run" })).statusCode).toBe(200);
    expect(await t.store.countSessions()).toBe(before);
    // The UI itself (same origin) and an allowed origin may write.
    const same = await t.app.inject({
      method: "POST",
      url: "/run?store=true",
      headers: { origin: "http://localhost:80", host: "localhost:80" },
    });
    expect(same.statusCode).toBe(200);
    const allowed = await t.app.inject({
      method: "POST",
      url: "/run?store=true",
      headers: { origin: "https://trusted.example" },
    });
    expect(allowed.statusCode).toBe(200);
    expect(await t.store.countSessions()).toBe(before + 2);
  });

  it("serves only its own Host names (DNS rebinding)", async () => {
    for (const host of ["attacker.example", "attacker.example:8080", "localhost.attacker.example"]) {
      const read = await t.app.inject({ url: "/replay/sessions", headers: { host } });
      expect(read.statusCode, host).toBe(403);
      expect(read.json().error).toMatch(/not a name of this server/);
      const write = await t.app.inject({
        method: "POST",
        url: "/sessions",
        headers: { ...JSON_HEADERS, host },
        payload: json(makeV2("REBIND-1")),
      });
      expect(write.statusCode, host).toBe(403);
    }
    expect(await t.store.getSession("REBIND-1")).toBeUndefined();
    for (const host of ["localhost:8080", "127.0.0.1:8080", "[::1]:8080", "app.localhost", "rtt.lan", "10.1.2.3:80"])
      expect((await t.app.inject({ url: "/replay/sessions", headers: { host } })).statusCode, host).toBe(200);
  });
});

describe("the live WebSocket checks Origin", () => {
  let t: TestApp;
  let dir: string;
  let port: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "rtt-guard-ws-"));
    t = await testApp({ ctfDataDir: dir });
    await t.app.listen({ host: "127.0.0.1", port: 0 });
    port = (t.app.server.address() as AddressInfo).port;
    await t.app.inject({
      method: "POST",
      url: "/ctf?id=ws-trace",
      headers: { "content-type": "application/x-ndjson" },
      payload: TRACE,
    });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = (origin?: string) =>
    new Promise<{ opened: boolean; status?: number; first?: string }>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ctf/ws-trace/live`, origin ? { origin } : {});
      ws.on("message", (m) => {
        resolve({ opened: true, first: String(m) });
        ws.close();
      });
      ws.on("unexpected-response", (_req, res) => resolve({ opened: false, status: res.statusCode }));
      ws.on("error", () => resolve({ opened: false }));
    });

  it("refuses a foreign page's socket and serves the UI's own and non-browser clients", async () => {
    expect(await open("http://evil.example")).toEqual({ opened: false, status: 403 });
    const own = await open(`http://127.0.0.1:${port}`);
    expect(own.opened).toBe(true);
    expect(JSON.parse(own.first ?? "{}").type).toBe("event");
    expect((await open()).opened).toBe(true);
  });
});

describe("token mode", () => {
  const TOKEN = "write-token-for-guard-tests-0123";
  const READ = "read-token-for-guard-tests-45678";
  let t: TestApp;
  let diagnostics: OpenedDiagnostics;
  let dir: string;
  let port: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "rtt-guard-token-"));
    diagnostics = await openDiagnosticsStore(":memory:");
    t = await testApp({ token: TOKEN, readToken: READ, ctfDataDir: dir, diagnostics: diagnostics.store });
    await t.app.listen({ host: "127.0.0.1", port: 0 });
    port = (t.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await t.close();
    await diagnostics.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const bearer = (tok: string) => ({ authorization: `Bearer ${tok}` });

  it("answers an unauthenticated upload before reading its body", async () => {
    // 200 MB announced, 64 KiB sent: a server that checked the token after reading the body would never answer.
    const res = await new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          method: "POST",
          path: "/ctf",
          headers: { "content-type": "application/x-ndjson", "content-length": String(200 * 1024 * 1024) },
        },
        (r) => {
          let body = "";
          r.on("data", (c) => {
            body += c;
          });
          r.on("end", () => resolve({ status: r.statusCode ?? 0, body, headers: r.headers }));
        },
      );
      req.on("error", () => undefined);
      req.write(Buffer.alloc(64 * 1024, 0x20));
    });
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer realm="rtt"/);
    expect(res.headers.connection).toBe("close");
    expect(JSON.parse(res.body).error).toMatch(/missing bearer token/);
    expect(JSON.parse(res.body).code).toBe("RTT_ERR_UNAUTHORIZED");
  });

  it("reads of stored data need a token; health, metrics and the UI's sign-in do not", async () => {
    for (const url of ["/replay/sessions", "/replay/facets", "/ctf", "/api/operators", "/api/rtt/sites"]) {
      const r = await t.app.inject(url);
      expect(r.statusCode, url).toBe(401);
      expect(r.headers["www-authenticate"]).toMatch(/^Bearer/);
      expect((await t.app.inject({ url, headers: bearer(READ) })).statusCode, url).toBe(200);
      expect((await t.app.inject({ url, headers: bearer(TOKEN) })).statusCode, url).toBe(200);
    }
    for (const url of ["/healthz", "/metrics"]) expect((await t.app.inject(url)).statusCode, url).toBe(200);
    expect((await t.app.inject("/auth/session")).json()).toEqual({ token_required: true, access: null });
    const compute = await t.app.inject({
      method: "POST",
      url: "/api/rtt/topology",
      headers: JSON_HEADERS,
      payload: json({ graph: { a: ["b"], b: [] } }),
    });
    expect(compute.statusCode).toBe(401);
    const computeRead = await t.app.inject({
      method: "POST",
      url: "/api/rtt/topology",
      headers: { ...JSON_HEADERS, ...bearer(READ) },
      payload: json({ graph: { a: ["b"], b: [] } }),
    });
    expect(computeRead.statusCode).toBe(200);
  });

  it("the read token cannot write", async () => {
    const r = await t.app.inject({
      method: "POST",
      url: "/sessions",
      headers: { ...JSON_HEADERS, ...bearer(READ) },
      payload: json(makeV2("READ-ONLY-1")),
    });
    expect(r.statusCode).toBe(403);
    expect(r.json().error).toMatch(/read token cannot write/);
    expect(r.json().code).toBe("RTT_ERR_FORBIDDEN");
    expect(await t.store.getSession("READ-ONLY-1")).toBeUndefined();
  });

  it("signs a browser in with a cookie that EventSource and WebSocket requests carry", async () => {
    const bad = await t.app.inject({ method: "POST", url: "/auth/session", headers: bearer(`${TOKEN}x`) });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers["www-authenticate"]).toBe('Bearer realm="rtt"');
    expect(bad.json()).toEqual({
      error: "send the server's token as Authorization: Bearer <token>",
      code: "RTT_ERR_UNAUTHORIZED",
    });
    expect(bad.headers["set-cookie"]).toBeUndefined();

    const read = await t.app.inject({ method: "POST", url: "/auth/session", headers: bearer(READ) });
    expect(read.json()).toEqual({ token_required: true, access: "read" });
    const readCookie = String(read.headers["set-cookie"]).split(";")[0];
    expect(readCookie.startsWith(`${AUTH_COOKIE}=r.`)).toBe(true);
    expect(String(read.headers["set-cookie"])).toMatch(/HttpOnly; SameSite=Strict/);
    expect(readCookie).not.toContain(READ);
    expect((await t.app.inject({ url: "/replay/sessions", headers: { cookie: readCookie } })).statusCode).toBe(200);
    const write = await t.app.inject({
      method: "POST",
      url: "/run?store=true",
      headers: { cookie: readCookie },
    });
    expect(write.statusCode).toBe(403);

    const w = await t.app.inject({ method: "POST", url: "/auth/session", headers: bearer(TOKEN) });
    const writeCookie = String(w.headers["set-cookie"]).split(";")[0];
    expect(
      (await t.app.inject({ method: "POST", url: "/run?store=true", headers: { cookie: writeCookie } })).statusCode,
    ).toBe(200);
    expect((await t.app.inject({ url: "/auth/session", headers: { cookie: writeCookie } })).json().access).toBe(
      "write",
    );
    // A forged cookie is nothing.
    const forged = `${AUTH_COOKIE}=w.${"A".repeat(43)}`;
    expect((await t.app.inject({ url: "/replay/sessions", headers: { cookie: forged } })).statusCode).toBe(401);
    const out = await t.app.inject({ method: "DELETE", url: "/auth/session" });
    expect(String(out.headers["set-cookie"])).toMatch(/Max-Age=0/);
  });
});

describe("guard helpers", () => {
  it("parses Host headers", () => {
    expect(hostName("Example.ORG:8080")).toBe("example.org");
    expect(hostName("[::1]:8080")).toBe("::1");
    expect(hostName("127.0.0.1")).toBe("127.0.0.1");
  });
  it("a wildcard bind without an allow-list serves any name; with one, only those", () => {
    expect(makeHostCheck({ host: "0.0.0.0" })("anything.example")).toBe(true);
    const check = makeHostCheck({ host: "0.0.0.0", allowHosts: [".corp.example"] });
    expect(check("rtt.corp.example")).toBe(true);
    expect(check("corp.example")).toBe(true);
    expect(check("evilcorp.example")).toBe(false);
    expect(makeHostCheck({ host: "rtt.box" })("rtt.box:9000")).toBe(true);
  });
  it("compares Origin with the Host the request went to", () => {
    const ok = makeOriginCheck({ host: "127.0.0.1" });
    expect(ok("http://127.0.0.1:8080", "127.0.0.1:8080")).toBe(true);
    expect(ok("http://127.0.0.1:8081", "127.0.0.1:8080")).toBe(false);
    expect(ok("http://127.0.0.1:8080/", "127.0.0.1:8080")).toBe(false);
    expect(ok("null", "127.0.0.1:8080")).toBe(false);
  });
});

describe("malformed URLs", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
  });
  afterAll(() => t.close());

  it("a bad percent-encoding gets the documented error shape, not Fastify's", async () => {
    for (const url of ["/replay/%E0%A4%A", "/replay/%", "/replay/%ZZ/segments"]) {
      const r = await t.app.inject(url);
      expect(r.statusCode, url).toBe(400);
      expect(Object.keys(r.json()), url).toEqual(["error", "code"]);
      expect(r.json().code, url).toBe("RTT_ERR_BAD_URL");
      expect(r.json().error).toMatch(/^malformed URL: .* is not valid percent-encoded UTF-8$/);
    }
  });
});
