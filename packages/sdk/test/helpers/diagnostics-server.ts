/**
 * The RTT server for SDK tests: a full `rtt serve` (startServer) with an in-memory SQLite store on a real
 * 127.0.0.1 port, so the SDKs are tested against exactly what users run. Also real misbehaving HTTP servers for
 * the retry paths: a counting/failing front proxy, a server that never answers, and a closed port.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { DiagnosticsStore } from "@rtt/diagnostics";
import type { Registry } from "prom-client";
import { startServer } from "../../../server/src/server.js";

export interface TestServer {
  url: string;
  registry: Registry;
  store: DiagnosticsStore;
  close(): Promise<void>;
}

export async function startDiagnosticsServer(opts: { token?: string } = {}): Promise<TestServer> {
  const server = await startServer({
    db: ":memory:",
    port: 0,
    token: opts.token,
    logLevel: "silent",
    sessionOutput: null,
  });
  return {
    url: server.url,
    registry: server.ctx.metrics.registry,
    store: server.diagnostics,
    close: () => server.close(),
  };
}

export type FrontBehaviour = "forward" | "503" | "reset" | "hang";

/**
 * An HTTP front that plays `script` (one behaviour per request, then "forward") and forwards to
 * `target`. `requests` counts what reached it, so tests can assert how many attempts were made.
 */
export async function startFront(
  target: string,
  script: FrontBehaviour[] = [],
): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
  let n = 0;
  const server: Server = createServer(async (req, res) => {
    const behaviour = script[n++] ?? "forward";
    if (behaviour === "reset") return req.socket.destroy();
    if (behaviour === "hang") return; // never answers; the client must time out
    if (behaviour === "503") {
      res.writeHead(503, { "content-type": "application/json" });
      return res.end(JSON.stringify({ error: "unavailable", details: [] }));
    }
    const body = await readBody(req);
    const r = await fetch(`${target}${req.url}`, {
      method: req.method,
      headers: Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => ["content-type", "authorization"].includes(k)),
      ) as Record<string, string>,
      body: body.length > 0 ? body : undefined,
    });
    res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "application/json" });
    res.end(await r.text());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => n,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port that was just free: connecting to it is refused. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export const seedStructure = () => ({
  url: "internal://auth",
  title: "Auth Service",
  nav_count: 0,
  main_count: 0,
  form_count: 0,
  button_count: 0,
  dom_nodes: 0,
});
