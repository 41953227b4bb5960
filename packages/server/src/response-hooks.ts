import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Metrics } from "./metrics.js";

/**
 * A request that asks to upgrade (a WebSocket handshake) comes with a socket the HTTP server has let go of. When it
 * is answered over HTTP instead — no such route, a bad URL, a route without a live socket — nothing else ends that
 * socket: it stayed open after the client left (one file handle per request, for good) and `close()` waited for it
 * forever. End it once the answer is written. (A live socket's handshake is hijacked and never gets here.)
 */
export function endAnsweredUpgrade(req: FastifyRequest, reply: FastifyReply): void {
  // Node's condition for an upgrade request (without an 'upgrade' listener it is an ordinary request, and ending
  // its connection after the answer costs nothing).
  const { upgrade, connection } = req.headers;
  if (upgrade === undefined || !/(^|[\s,])upgrade($|[\s,])/i.test(String(connection ?? ""))) return;
  const socket = req.raw.socket;
  if (reply.raw.writableFinished) socket.destroySoon();
  else reply.raw.once("finish", () => socket.destroySoon());
}

/** Headers every answer carries, and the request counter of /metrics (by route pattern, never by raw URL). */
export function installResponseHooks(app: FastifyInstance, metrics: Metrics): void {
  app.addHook("onSend", async (_req, reply, payload) => {
    reply.header("x-content-type-options", "nosniff");
    return payload;
  });
  app.addHook("onResponse", async (req, reply) => {
    endAnsweredUpgrade(req, reply);
    metrics.httpRequests.inc({
      path: req.routeOptions.url ?? "unmatched",
      method: req.method,
      status: String(reply.statusCode),
    });
  });
}
