// Issue 13, found by the fuzz suite: a WebSocket handshake on a path without a live socket (no such route, a bad
// percent-encoding, a plain route) was answered over HTTP but its connection never ended — the socket stayed open
// after the client left, and server.close() (SIGTERM in `rtt serve`) waited for it forever.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type RunningServer, startServer } from "../src/server.js";
import { rawHead, rawRequest } from "./support/http.js";

const HANDSHAKE = {
  Connection: "Upgrade",
  Upgrade: "websocket",
  "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
  "Sec-WebSocket-Version": 13,
};

const connections = (s: RunningServer) =>
  new Promise<number>((resolve) => s.app.server.getConnections((_e, n) => resolve(n)));

describe("a handshake answered over HTTP ends its connection", () => {
  let server: RunningServer;
  let port: number;
  beforeAll(async () => {
    server = await startServer({ db: ":memory:", port: 0, logLevel: "silent", sessionOutput: null, rateLimit: 0 });
    port = Number(new URL(server.url).port);
  });
  afterAll(() => server.close());

  it.each([
    ["no such route", "/nope/live", 404],
    ["a bad percent-encoding", "/ctf/%FF/live", 400],
    ["a plain route", "/healthz", 200],
    ["a route of another plugin", "/api/rtt/sites", 200],
  ])("%s: answered, then the server closes the connection", async (_name, path, status) => {
    const a = await rawRequest({ port, head: rawHead("GET", path, HANDSHAKE, port), timeoutMs: 3000 });
    expect(a.status).toBe(status);
    // rawRequest resolves when the server ends the connection; a kept connection runs into the time limit.
    expect(a.timedOut).toBe(false);
  });

  it("an h2c upgrade request is answered and its connection ended too", async () => {
    const head = rawHead("GET", "/healthz", { Connection: "Upgrade, HTTP2-Settings", Upgrade: "h2c" }, port);
    const a = await rawRequest({ port, head, timeoutMs: 3000 });
    expect(a.status).toBe(200);
    expect(a.timedOut).toBe(false);
  });

  it("a live socket still opens and stays open", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ctf/upgrade-live/live`);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
    await new Promise((r) => ws.once("close", r));
  });

  it("nothing is left open, so close() finishes", async () => {
    for (let i = 0; i < 20 && (await connections(server)) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await connections(server)).toBe(0);
    const closed = await Promise.race([
      server.close().then(() => "closed"),
      new Promise((r) => setTimeout(() => r("still closing after 5 s"), 5000)),
    ]);
    expect(closed).toBe("closed");
  });
});
