import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { ValidationIssue } from "@rtt/core";
import type { DiagnosticsStore } from "@rtt/diagnostics";
import type { StartupErrorCode } from "@rtt/http";
import { pino } from "pino";
import { type BuiltApp, buildApp } from "./app.js";
import { checkToken, DEFAULTS, isPostgresUrl, loadToken, type ServerOptions } from "./config.js";
import { PgCtfStore, seedDemoTraces, seedDemoTracesInto } from "./ctf/index.js";
import { type DemoResult, fillDemo } from "./demo.js";
import { SessionEmitter } from "./emit.js";
import { resolveFabricRoot } from "./fabric/index.js";
import { checkExposure } from "./security.js";
import { SelfCheckMonitor } from "./self-check.js";
import { describeStore, type OpenedDiagnostics, openDiagnosticsStore, openStore } from "./store/open.js";
import type { SessionStore } from "./store/types.js";

export interface RunningServer extends BuiltApp {
  url: string;
  store: SessionStore;
  /** The diagnostics API's store (/api/rtt/*). */
  diagnostics: DiagnosticsStore;
  /** Where Corridor Trace Files are kept (`<dataDir>/ctf/`) unless the store is PostgreSQL (then in its tables). */
  dataDir: string;
  /** The fabric root the Fabric view (/fabric/*) reads, or undefined when it is off. */
  fabricRoot?: string;
  demo?: DemoResult;
  /** Stops accepting, drains in-flight requests, ends streams, commits pending writes, closes the store. */
  close(): Promise<void>;
}

/** A startup refusal: `code` says why (error-codes.ts STARTUP_ERRORS), the message is meant for the operator. */
export class StartupError extends Error {
  override name = "StartupError";
  constructor(
    readonly code: StartupErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface StartOptions extends ServerOptions {
  /** Replaces the reference self-check (tests inject a failing one). */
  selfCheck?: () => ValidationIssue[];
  /** Log level of the stderr logger; "silent" for tests. */
  logLevel?: string;
  /** Where server logs go instead of stderr (tests read them). */
  logDestination?: { write(line: string): void };
  /** Node flags for the SQLite worker thread (tests running TypeScript sources pass their loader). */
  workerExecArgv?: string[];
  /** Where the Loki lines go when no logFile is given; null = nowhere. Default stdout. */
  sessionOutput?: NodeJS.WritableStream | null;
  /** Clock of the diagnostics API (epoch ms); tests inject one to control heartbeat cadence. */
  clock?: () => number;
}

/**
 * `rtt serve`: exposure check → conformance self-validation → store (migrated) → app → demo fill → listen.
 * Any refusal is a StartupError carrying the reason.
 */
export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? DEFAULTS.host;
  const port = opts.port ?? DEFAULTS.port;
  let token: string | undefined;
  let readToken: string | undefined;
  try {
    if (opts.token !== undefined) {
      checkToken(opts.token);
      token = opts.token;
    } else if (opts.tokenFile) token = loadToken(opts.tokenFile);
    if (opts.readToken !== undefined) {
      checkToken(opts.readToken, "read token");
      readToken = opts.readToken;
    } else if (opts.readTokenFile) readToken = loadToken(opts.readTokenFile);
    if (token !== undefined && token === readToken) throw new Error("the read token must differ from the write token");
    checkExposure(host, token ?? readToken);
  } catch (e) {
    throw new StartupError("RTT_ERR_STARTUP_OPTIONS", (e as Error).message);
  }

  const logger = pino(
    {
      level: opts.logLevel ?? "info",
      base: { app: "rtt-server" },
      redact: { paths: ["req.headers.authorization", "headers.authorization"], censor: "[redacted]" },
    },
    opts.logDestination ?? pino.destination(2),
  );

  const selfCheckMonitor = new SelfCheckMonitor(opts.selfCheck);
  const verdict = selfCheckMonitor.run();
  if (!verdict.ok && !opts.allowDegraded)
    throw new StartupError(
      "RTT_ERR_STARTUP_SELF_CHECK",
      `conformance self-validation failed: ${verdict.reason} (start with --allow-degraded to serve anyway)`,
    );
  if (!verdict.ok) logger.warn({ reason: verdict.reason }, "conformance failed; serving degraded");

  const db = opts.db ?? DEFAULTS.db;
  let store: SessionStore;
  try {
    store = await openStore(db, { pgSchema: opts.pgSchema, workerExecArgv: opts.workerExecArgv });
  } catch (e) {
    throw new StartupError(
      "RTT_ERR_STARTUP_STORE",
      `cannot open store (${describeStore(db)}): ${(e as Error).message}`,
    );
  }

  // Diagnostics tables live beside the sessions; CTF traces in the PostgreSQL store, or as files in <dataDir>/ctf/
  // (default: the SQLite file's folder).
  let diagnostics: OpenedDiagnostics;
  try {
    diagnostics = await openDiagnosticsStore(db, { pgSchema: opts.pgSchema });
  } catch (e) {
    await store.close();
    throw new StartupError(
      "RTT_ERR_STARTUP_STORE",
      `cannot open diagnostics tables (${describeStore(db)}): ${(e as Error).message}`,
    );
  }
  // With PostgreSQL, traces live in the database too: every server on it serves the same traces (issue 21).
  let ctfStore: PgCtfStore | undefined;
  if (isPostgresUrl(db)) {
    try {
      ctfStore = await PgCtfStore.open({
        url: db,
        schema: opts.pgSchema,
        onFeedError: (err) => logger.warn({ msg: err.message }, "ctf change feed lost; reconnecting"),
      });
    } catch (e) {
      await diagnostics.close().catch(() => {});
      await store.close();
      throw new StartupError(
        "RTT_ERR_STARTUP_STORE",
        `cannot open CTF tables (${describeStore(db)}): ${(e as Error).message}`,
      );
    }
  }
  const scratchDir = !opts.dataDir && db === ":memory:" ? await mkdtemp(join(tmpdir(), "rtt-data-")) : undefined;
  const dataDir = opts.dataDir ?? scratchDir ?? (isPostgresUrl(db) ? DEFAULTS.dataDir : dirname(db));
  const closeStores = async () => {
    await ctfStore?.close().catch(() => {});
    await diagnostics.close().catch(() => {});
    await store.close();
    if (scratchDir) await rm(scratchDir, { recursive: true, force: true });
  };

  let emitter: SessionEmitter | null = null;
  const onEmitError = (message: string) => logger.error(message);
  try {
    if (opts.logFile) emitter = SessionEmitter.toFile(opts.logFile, onEmitError);
    else if (opts.sessionOutput !== null)
      emitter = new SessionEmitter(
        (opts.sessionOutput ?? process.stdout) as import("node:stream").Writable,
        onEmitError,
      );
  } catch (e) {
    await closeStores();
    throw new StartupError(
      "RTT_ERR_STARTUP_LOG_FILE",
      `cannot open log file ${opts.logFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }

  const fabricRoot = opts.fabricRoot === "" ? undefined : resolveFabricRoot(opts.fabricRoot);
  let built: BuiltApp;
  try {
    built = await buildApp({
      store,
      token,
      readToken,
      host,
      allowHosts: opts.allowHosts,
      allowOrigins: opts.allowOrigins,
      maxBody: opts.maxBody,
      rateLimit: opts.rateLimit,
      maxOperatorSeries: opts.maxOperatorSeries,
      maxSiteSeries: opts.maxSiteSeries,
      emitter,
      logger,
      selfCheckMonitor,
      webDir: opts.webDir,
      replayCacheBytes: opts.replayCacheBytes,
      diagnostics: diagnostics.store,
      clock: opts.clock,
      ctfDataDir: ctfStore ? undefined : dataDir,
      ctfStore,
      strict: opts.strict,
      fabricRoot,
    });
    await restoreOperatorGauges(built, store);
  } catch (e) {
    await closeStores();
    throw e;
  }
  const { app, ctx } = built;

  let demo: DemoResult | undefined;
  if (opts.demo) {
    demo = await fillDemo(ctx);
    const traces = ctfStore ? await seedDemoTracesInto(ctfStore) : await seedDemoTraces(dataDir);
    logger.info({ sessions: demo.sessions, traces: traces.length, note: demo.note }, "demo data");
  }

  let url: string;
  try {
    url = await app.listen({ host, port });
  } catch (e) {
    await app.close();
    await closeStores();
    throw new StartupError(
      "RTT_ERR_STARTUP_LISTEN",
      `cannot listen on ${host}:${port}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  logger.info(
    { url, store: describeStore(db), auth: token || readToken ? "bearer" : "none", fabric: fabricRoot ?? "off" },
    "listening",
  );

  let closing: Promise<void> | undefined;
  return {
    app,
    ctx,
    url,
    store,
    diagnostics: diagnostics.store,
    dataDir,
    fabricRoot,
    demo,
    close: () => {
      closing ??= (async () => {
        await app.close();
        await emitter?.close();
        await closeStores();
        logger.flush?.();
      })();
      return closing;
    },
  };
}

/** After a restart the per-operator gauges come back for the most recently active operators. */
async function restoreOperatorGauges({ ctx }: BuiltApp, store: SessionStore): Promise<void> {
  const ops = await store.listOperators();
  ops.sort((a, b) => String(a.last_session_at ?? "").localeCompare(String(b.last_session_at ?? "")));
  for (const op of ops.slice(-ctx.metrics.maxOperatorSeries)) ctx.metrics.operator(op.operator_id, op.level, op.xp);
}
