import { createHmac } from "node:crypto";
import { STATUS_CODES } from "node:http";
import { isIP } from "node:net";
import { type HttpError, httpError } from "@rtt/http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { BODY_TYPES, hasBody, mediaType } from "./media.js";
import { BEARER_CHALLENGE, bearerMatches, isLoopbackHost, secretEquals } from "./security.js";

/**
 * What a route needs from its caller when the server has a token:
 *   public  — nothing (health, metrics, the web UI's static files, the runner's compute-only /run and /validate)
 *   read    — the read or the write token (stored data)
 *   compute — the read or the write token (pure computations such as POST /api/rtt/validate: no write, but work)
 *   write   — the write token
 * Without a token every route is open; the exposure check keeps such a server on loopback.
 */
export type Access = "public" | "read" | "compute" | "write";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route's access level, or a function of the request's head (method, URL, query — never the body). */
    access?: Access | ((req: FastifyRequest) => Access);
  }
}

export interface GuardOptions {
  /** Bearer token for writes (and reads). */
  token?: string;
  /** Bearer token for reads only. */
  readToken?: string;
  /** The address the server listens on: its name (if it is one) is a valid Host. */
  host: string;
  /** More names the Host header may carry (a reverse proxy's, a LAN name); `.example.org` matches subdomains. */
  allowHosts?: readonly string[];
  /** Origins besides the server's own whose pages may write or open the live socket, e.g. `https://grafana.lan`. */
  allowOrigins?: readonly string[];
  /** Told of every refusal (metrics). */
  onRefuse?: (reason: RefuseReason, req: FastifyRequest) => void;
}

export type RefuseReason = "host" | "origin" | "media_type" | "unauthenticated" | "forbidden";

export const AUTH_COOKIE = "rtt_auth";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

type Level = "read" | "write";

/** The host part of a Host header (`[::1]:8080` → `::1`, `Example.org:80` → `example.org`). */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(1, h.indexOf("]") > 0 ? h.indexOf("]") : undefined);
  const colon = h.lastIndexOf(":");
  return colon > 0 && h.indexOf(":") === colon ? h.slice(0, colon) : h;
}

const isWildcard = (host: string) => ["0.0.0.0", "::", "[::]", ""].includes(host.trim());

/**
 * Host check against DNS rebinding: a page on attacker.example whose name is re-pointed at 127.0.0.1 reaches
 * a loopback server with `Host: attacker.example`. IP literals cannot be rebound, so they always pass; names
 * must be loopback names, the listening name, or on the allow-list. A server on a wildcard address with no
 * allow-list answers every name (it needs a token, which protects it instead).
 */
export function makeHostCheck(opts: GuardOptions): (header: string | undefined) => boolean {
  const allow = (opts.allowHosts ?? []).map((h) => h.trim().toLowerCase()).filter(Boolean);
  if (isWildcard(opts.host) && allow.length === 0) return () => true;
  const bound = opts.host.trim().toLowerCase();
  return (header) => {
    if (header === undefined || header === "") return true; // HTTP/1.0 clients; browsers always send it
    const name = hostName(header);
    if (isIP(name) || isLoopbackHost(name) || name.endsWith(".localhost")) return true;
    if (name === bound) return true;
    return allow.some((a) => (a.startsWith(".") ? name.endsWith(a) || name === a.slice(1) : name === a));
  };
}

/** Same-origin when the Origin's host[:port] is the Host the request was sent to, or the origin is allowed. */
export function makeOriginCheck(opts: GuardOptions): (origin: string, host: string | undefined) => boolean {
  const allow = new Set((opts.allowOrigins ?? []).map((o) => o.trim().toLowerCase().replace(/\/+$/, "")));
  return (origin, host) => {
    const o = origin.trim().toLowerCase();
    if (allow.has(o)) return true;
    if (o === "null" || host === undefined) return false;
    const m = /^[a-z][a-z0-9+.-]*:\/\/([^/]+)$/.exec(o);
    return m !== null && m[1] === host.trim().toLowerCase();
  };
}

/**
 * The browser session cookie carries a keyed digest of the token, never the token: it proves the user typed the
 * token once (POST /auth/session), survives restarts, and stops working when the token changes.
 */
function cookieValue(level: Level, token: string): string {
  return `${level[0]}.${createHmac("sha256", token).update(`rtt-ui-session:${level}`).digest("base64url")}`;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** What a request's credentials grant: "write", "read", or nothing. */
export function makeCredentialCheck(opts: GuardOptions): (req: FastifyRequest) => Level | null {
  const { token, readToken } = opts;
  const writeCookie = token ? cookieValue("write", token) : undefined;
  const readCookie_ = readToken ? cookieValue("read", readToken) : undefined;
  return (req) => {
    const authz = req.headers.authorization;
    if (authz !== undefined) {
      if (token && bearerMatches(authz, token)) return "write";
      if (readToken && bearerMatches(authz, readToken)) return "read";
      return null;
    }
    const c = readCookie(req.headers.cookie, AUTH_COOKIE);
    if (c === undefined) return null;
    if (writeCookie && secretEquals(c, writeCookie)) return "write";
    if (readCookie_ && secretEquals(c, readCookie_)) return "read";
    return null;
  };
}

/**
 * Whether a request may write: it carries the write token (or its sign-in cookie), or the server has no token.
 * For what only a handler can decide: a live WebSocket is opened with read access and may append only with this.
 */
export function makeWriteCheck(opts: GuardOptions): (req: FastifyRequest) => boolean {
  if (!(opts.token || opts.readToken)) return () => true;
  const credentials = makeCredentialCheck(opts);
  return (req) => credentials(req) === "write";
}

const isWebSocketUpgrade = (req: FastifyRequest) => String(req.headers.upgrade ?? "").toLowerCase() === "websocket";

function answer(reply: FastifyReply, req: FastifyRequest, error: HttpError) {
  if (isWebSocketUpgrade(req)) return refuseUpgrade(reply, req, error);
  // A refused upload must not be read to its end: closing the connection drops the rest of the body.
  if (hasBody(req.headers)) reply.header("connection", "close");
  return reply
    .code(error.statusCode)
    .headers(error.headers ?? {})
    .send(error.body());
}

/**
 * A refused WebSocket handshake is answered on the raw socket: the upgrade plugin destroys the socket when a
 * Fastify reply ends, which can drop the response before the client reads it.
 */
function refuseUpgrade(reply: FastifyReply, req: FastifyRequest, error: HttpError) {
  reply.hijack();
  const status = error.statusCode;
  const body = JSON.stringify(error.body());
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}`,
    "connection: close",
    "content-type: application/json; charset=utf-8",
    `content-length: ${Buffer.byteLength(body)}`,
    ...Object.entries(error.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
  ];
  req.raw.socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
  return reply;
}

/**
 * One onRequest hook in front of every route, run before any body is read: Host (DNS rebinding), Origin on
 * writes and WebSocket upgrades (CSRF, cross-site sockets), the media type of a body (only JSON and NDJSON:
 * a cross-site form can send neither without a preflight), and the token for the route's access level.
 */
export function installGuard(app: FastifyInstance, opts: GuardOptions): void {
  const hostOk = makeHostCheck(opts);
  const originOk = makeOriginCheck(opts);
  const credentials = makeCredentialCheck(opts);
  const tokenMode = Boolean(opts.token || opts.readToken);
  const refuse = (reason: RefuseReason, ...args: Parameters<typeof answer>) => {
    opts.onRefuse?.(reason, args[1]);
    return answer(...args);
  };

  app.addHook("onRequest", async (req, reply) => {
    const host = req.headers.host;
    if (!hostOk(host))
      return refuse(
        "host",
        reply,
        req,
        httpError(
          "RTT_ERR_FORBIDDEN",
          `Host ${JSON.stringify(String(host).slice(0, 200))} is not a name of this server (DNS rebinding guard); start rtt serve with --allow-host NAME to serve it`,
        ),
      );

    const safe = SAFE_METHODS.has(req.method);
    if (!safe || isWebSocketUpgrade(req)) {
      const origin = req.headers.origin;
      const site = req.headers["sec-fetch-site"];
      if (origin !== undefined ? !originOk(origin, host) : site === "cross-site")
        return refuse(
          "origin",
          reply,
          req,
          httpError(
            "RTT_ERR_FORBIDDEN",
            `cross-origin request refused: Origin ${JSON.stringify(String(origin ?? site).slice(0, 200))} is not this server's; allow a trusted one with --allow-origin`,
          ),
        );
    }
    if (!safe && hasBody(req.headers)) {
      const type = mediaType(req.headers);
      if (!BODY_TYPES.includes(type))
        return refuse(
          "media_type",
          reply,
          req,
          httpError(
            "RTT_ERR_UNSUPPORTED_MEDIA_TYPE",
            `unsupported content type ${JSON.stringify(type.slice(0, 100) || "(none)")}: send ${BODY_TYPES.join(" or ")}`,
          ),
        );
    }

    if (!tokenMode) return;
    // Unmatched paths are 404s (or the UI's index.html): nothing stored to protect.
    const unmatched = req.routeOptions.url === undefined;
    const declared = req.routeOptions.config?.access;
    const access: Access =
      (typeof declared === "function" ? declared(req) : declared) ?? (unmatched ? "public" : safe ? "read" : "write");
    if (access === "public") return;
    const granted = credentials(req);
    if (granted === null) {
      const why = req.headers.authorization === undefined ? "missing bearer token" : "invalid bearer token";
      return refuse(
        "unauthenticated",
        reply,
        req,
        httpError("RTT_ERR_UNAUTHORIZED", `${why}: send Authorization: Bearer <token>`, undefined, {
          headers: BEARER_CHALLENGE,
        }),
      );
    }
    if (access === "write" && granted !== "write")
      return refuse(
        "forbidden",
        reply,
        req,
        httpError("RTT_ERR_FORBIDDEN", "the read token cannot write: use the write token", undefined, {
          headers: BEARER_CHALLENGE,
        }),
      );
  });
}

/**
 * The web UI's sign-in: `POST /auth/session` with `Authorization: Bearer <token>` sets an HttpOnly, SameSite=Strict
 * cookie that EventSource and WebSocket requests carry (neither can send an Authorization header);
 * `DELETE /auth/session` clears it; `GET /auth/session` says whether a token is needed and what this browser has.
 */
export function authRoutes(app: FastifyInstance, opts: GuardOptions): void {
  const credentials = makeCredentialCheck(opts);
  const tokenMode = Boolean(opts.token || opts.readToken);
  const config = { access: "public" as const };
  const cookie = (value: string, extra = "") => `${AUTH_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict${extra}`;

  app.get("/auth/session", { config }, async (req) => ({
    token_required: tokenMode,
    access: tokenMode ? credentials(req) : "write",
  }));
  app.post("/auth/session", { config }, async (req, reply) => {
    if (!tokenMode) return reply.code(200).send({ token_required: false, access: "write" });
    const level = req.headers.authorization === undefined ? null : credentials(req);
    if (level === null)
      throw httpError("RTT_ERR_UNAUTHORIZED", "send the server's token as Authorization: Bearer <token>", undefined, {
        headers: BEARER_CHALLENGE,
      });
    const token = level === "write" ? opts.token : opts.readToken;
    return reply
      .header("set-cookie", cookie(cookieValue(level, token as string)))
      .send({ token_required: true, access: level });
  });
  app.delete("/auth/session", { config }, async (_req, reply) =>
    reply.header("set-cookie", cookie("", "; Max-Age=0")).send({ signed_out: true }),
  );
}
