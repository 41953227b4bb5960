import rateLimit from "@fastify/rate-limit";
import { type DiagnosticsStore, diagnosticsPlugin } from "@rtt/diagnostics";
import { httpError, installErrorHandler, installValidation } from "@rtt/http";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from "fastify";
import type { Logger } from "pino";
import { DEFAULTS } from "./config.js";
import type { AppContext } from "./context.js";
import { ctfPlugin, type TraceStore } from "./ctf/index.js";
import type { SessionEmitter } from "./emit.js";
import { fabricPlugin } from "./fabric/index.js";
import { authRoutes, type GuardOptions, installGuard, makeWriteCheck } from "./guard.js";
import { IngestService } from "./ingest/service.js";
import { Metrics } from "./metrics.js";
import { ReplayCache } from "./replay/cache.js";
import { replayPlugin } from "./replay/plugin.js";
import { StreamRegistry } from "./replay/streams.js";
import { endAnsweredUpgrade, installResponseHooks } from "./response-hooks.js";
import { operatorRoutes } from "./routes/operators.js";
import { runnerRoutes } from "./routes/runner.js";
import { sessionRoutes } from "./routes/sessions.js";
import { SelfCheckMonitor } from "./self-check.js";
import { registerStatic } from "./static.js";
import { GroupCommitter } from "./store/group-commit.js";
import type { SessionStore } from "./store/types.js";

export interface AppOptions {
  store: SessionStore;
  /** Bearer token required on writes and reads; none = open (only allowed on loopback by startServer). */
  token?: string;
  /** Bearer token that may read (and compute) but not write. */
  readToken?: string;
  /** The listening address; its name and loopback names are the Host values served (DNS rebinding guard). */
  host?: string;
  /** More Host names to serve (`.example.org` for subdomains). */
  allowHosts?: readonly string[];
  /** Origins besides the server's own that may write or open live sockets. */
  allowOrigins?: readonly string[];
  maxBody?: number;
  /** Requests per minute per client address; 0 disables. */
  rateLimit?: number;
  maxOperatorSeries?: number;
  /** Loki NDJSON feed; null disables emission. */
  emitter?: SessionEmitter | null;
  /** A pino logger (stderr in `rtt serve`); omitted = silent. */
  logger?: Logger;
  /** Conformance state; a fresh monitor has not validated yet (status degraded until it runs). */
  selfCheckMonitor?: SelfCheckMonitor;
  webDir?: string;
  replayCacheBytes?: number;
  /** Diagnostics API (/api/rtt/*) on this store (initialised by the caller); omitted = not mounted. */
  diagnostics?: DiagnosticsStore;
  /** Epoch-ms clock of the diagnostics API (drift cadence); injectable for tests. */
  clock?: () => number;
  /** Distinct service/cluster label values of the diagnostics metrics before new sites count as "other". */
  maxSiteSeries?: number;
  /** Corridor Trace File API (/ctf, /api/corridor) keeps its files in `<ctfDataDir>/ctf/`; omitted = not mounted. */
  ctfDataDir?: string;
  /** Traces in this store instead of files (`--db postgres://…`: shared by every server on the database). */
  ctfStore?: TraceStore;
  /** POST /sessions refuses what would be accepted with warnings (the project's rules become errors). */
  strict?: boolean;
  /** Fabric root (`.rtt`) whose daemon, WAL and plans the Fabric view reads (/fabric/*); omitted = not mounted. */
  fabricRoot?: string;
}

export interface BuiltApp {
  app: FastifyInstance;
  ctx: AppContext;
}

/** Builds the Fastify app with every route; does not listen, open or close the store. */
export async function buildApp(opts: AppOptions): Promise<BuiltApp> {
  // The pino Logger type is narrower than FastifyBaseLogger; routes only need the base instance type.
  const app: FastifyInstance = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: opts.maxBody ?? DEFAULTS.maxBody,
    routerOptions: { maxParamLength: 1024 },
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: 120_000,
    return503OnClosing: true,
    // Fastify answers a bad percent-encoding in the path itself, in its own body shape: use the documented one.
    frameworkErrors: (err, req, reply: FastifyReply) => {
      const [pathname = ""] = req.url.split("?", 1);
      const path = JSON.stringify(pathname.slice(0, 200));
      const e =
        err.code === "FST_ERR_BAD_URL"
          ? httpError("RTT_ERR_BAD_URL", `malformed URL: ${path} is not valid percent-encoded UTF-8`)
          : httpError("RTT_ERR_BAD_REQUEST");
      endAnsweredUpgrade(req, reply);
      reply.code(e.statusCode).send(e.body());
    },
  });
  const metrics = new Metrics(opts.maxOperatorSeries ?? DEFAULTS.maxOperatorSeries);
  const selfCheckMonitor = opts.selfCheckMonitor ?? new SelfCheckMonitor();
  metrics.conformanceOk.set(selfCheckMonitor.ok ? 1 : 0);
  const emitter = opts.emitter;
  if (emitter) metrics.watchSessionLog(() => emitter.dropped);
  const committer = new GroupCommitter(opts.store);
  const ctx: AppContext = {
    store: opts.store,
    ingest: new IngestService(committer, metrics, opts.emitter ?? null),
    metrics,
    selfCheckMonitor,
    cache: new ReplayCache(opts.store, opts.replayCacheBytes ?? DEFAULTS.replayCacheBytes),
    streams: new StreamRegistry(),
    strict: opts.strict ?? false,
  };

  installErrorHandler(app);
  // Route schemas (querystring, params, body) compiled once, their failures worded by one formatter.
  installValidation(app);
  const guard: GuardOptions = {
    token: opts.token,
    readToken: opts.readToken,
    host: opts.host ?? DEFAULTS.host,
    allowHosts: opts.allowHosts,
    allowOrigins: opts.allowOrigins,
    onRefuse: (reason, req) => {
      metrics.requestsRefused.inc({ reason });
      if (reason === "media_type" && req.routeOptions.url === "/sessions") metrics.rejected("unsupported_media");
    },
  };
  installGuard(app, guard);
  installResponseHooks(app, metrics);
  app.addHook("preClose", async () => ctx.streams.stopAll());
  app.addHook("onClose", async () => {
    // The HTTP server has stopped; a request whose client disconnected may still be mid-ingest.
    await ctx.ingest.drained();
    await committer.close();
  });

  const perMinute = opts.rateLimit ?? DEFAULTS.rateLimit;
  if (perMinute > 0)
    await app.register(rateLimit, {
      max: perMinute,
      timeWindow: 60_000,
      errorResponseBuilder: (_req, context) => ({
        statusCode: 429,
        error: `rate limit exceeded (${context.max} requests per minute); retry after ${context.after}`,
      }),
    });

  // Every part is an encapsulated plugin: what one sets in its scope (body parsers, an error handler) stays there.
  await app.register(async (scope) => authRoutes(scope, guard));
  await app.register(async (scope) => runnerRoutes(scope, ctx));
  await app.register(async (scope) => sessionRoutes(scope, ctx));
  await app.register(replayPlugin, { ctx });
  await app.register(async (scope) => operatorRoutes(scope, ctx));
  // Writes over the live socket need what POST /ctf/:id/events needs: the guard's write access.
  if (opts.ctfDataDir !== undefined || opts.ctfStore)
    await app.register(ctfPlugin, { dataDir: opts.ctfDataDir, store: opts.ctfStore, canWrite: makeWriteCheck(guard) });
  if (opts.diagnostics)
    await app.register(diagnosticsPlugin, {
      store: opts.diagnostics,
      registry: metrics.registry,
      clock: opts.clock,
      maxSiteSeries: opts.maxSiteSeries ?? DEFAULTS.maxSiteSeries,
    });
  if (opts.fabricRoot !== undefined) await app.register(fabricPlugin, { root: opts.fabricRoot });

  await registerStatic(app, opts.webDir);
  return { app, ctx };
}
