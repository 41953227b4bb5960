import type { RunningServer } from "@rtt/server";
// Only the option defaults at registration: the server itself (Fastify, stores, ~0.5 s to load) is imported when
// `serve` runs, so every other rtt command starts without it.
import { DEFAULTS, parseSize } from "@rtt/server/config";
import { type Command, InvalidArgumentError } from "commander";
import { CliExit, EXIT_INVALID, EXIT_USAGE, keepRunningWhenStdoutCloses } from "../lib/exit.js";

interface ServeOptions {
  host: string;
  port: number;
  db: string;
  dataDir?: string;
  logFile?: string;
  tokenFile?: string;
  readTokenFile?: string;
  allowHost: string[];
  allowOrigin: string[];
  maxBody: number;
  demo?: boolean;
  allowDegraded?: boolean;
  strict?: boolean;
  maxOperatorSeries: number;
  maxSiteSeries: number;
  rateLimit: number;
  fabricRoot?: string;
}

const intArg = (min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`must be an integer in ${min}..${max}`);
  return n;
};

/** Repeatable, comma-separated list option: `--allow-host a,b --allow-host c` → [a, b, c]. */
const listArg = (v: string, prev: string[]) => [
  ...prev,
  ...v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
];

const sizeArg = (v: string) => {
  try {
    return parseSize(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

export function register(program: Command): void {
  program
    .command("serve")
    .description(
      "Run the RTT server: the seed's runner API (/healthz, /run, /run/v2, /validate, /metrics), session ingest (POST /sessions), the replay API and the web UI. Self-validates conformance at startup.",
    )
    .option("--host <host>", "address to listen on (non-loopback needs --token-file)", DEFAULTS.host)
    .option("--port <port>", "port (0 = any free port)", intArg(0, 65535), DEFAULTS.port)
    .option("--db <path|url>", "SQLite file or postgres://… URL", DEFAULTS.db)
    .option("--data-dir <dir>", "folder for Corridor Trace Files (<dir>/ctf/); default: the --db file's folder")
    .option("--log-file <path>", "append the NDJSON session feed for Loki here instead of stdout")
    .option(
      "--token-file <path>",
      "bearer token (first line) required on every API request (writes and reads; /healthz, /metrics and the UI's files stay open)",
    )
    .option("--read-token-file <path>", "a second token that may read and compute but not write")
    .option(
      "--allow-host <names>",
      "Host names to serve besides localhost, IP addresses and --host (DNS rebinding guard); .example.org matches subdomains; repeatable",
      listArg,
      [],
    )
    .option(
      "--allow-origin <origins>",
      "web origins besides the server's own that may write or open live sockets, e.g. https://grafana.lan; repeatable",
      listArg,
      [],
    )
    .option("--max-body <size>", "largest request body, e.g. 10mb", sizeArg, DEFAULTS.maxBody)
    .option("--demo", "fill an empty store with simulated sessions of several operators")
    .option(
      "--strict",
      "refuse sessions that break the project's rules beyond the seed's schemas (default: accept them, with warnings in the 201 body)",
    )
    .option("--allow-degraded", "serve even if conformance self-validation fails (/healthz says degraded)")
    .option(
      "--max-operator-series <n>",
      "cap on per-operator mastery series in /metrics",
      intArg(0, 1_000_000),
      DEFAULTS.maxOperatorSeries,
    )
    .option(
      "--max-site-series <n>",
      'cap on service/cluster label values of the beacon metrics (later sites count as "other")',
      intArg(0, 1_000_000),
      DEFAULTS.maxSiteSeries,
    )
    .option(
      "--rate-limit <n>",
      "requests per minute per client address (0 = off)",
      intArg(0, 10_000_000),
      DEFAULTS.rateLimit,
    )
    .option(
      "--fabric-root <dir>",
      "fabric root whose daemon (fabric.sock), plan WAL and plans the Fabric view shows (/fabric/*, ?view=fabric); default: .rtt when a daemon socket or WAL exists there; '' turns it off",
    )
    .addHelpText(
      "after",
      "\nstdout carries one NDJSON line per accepted session (and per anomaly) for Loki unless --log-file is given\n(not when stdout is a terminal);\nserver logs go to stderr. SIGTERM/SIGINT drain requests, close the store and exit 0.\nExit codes: 0 clean shutdown, 1 bad options or cannot start, 2 conformance self-validation failed.",
    )
    .action(async (opts: ServeOptions) => {
      await serve(opts);
    });
}

async function serve(opts: ServeOptions): Promise<void> {
  keepRunningWhenStdoutCloses();
  const { StartupError, startServer } = await import("@rtt/server");
  let server: RunningServer;
  try {
    server = await startServer({
      host: opts.host,
      port: opts.port,
      db: opts.db,
      dataDir: opts.dataDir,
      logFile: opts.logFile,
      tokenFile: opts.tokenFile,
      readTokenFile: opts.readTokenFile,
      allowHosts: opts.allowHost,
      allowOrigins: opts.allowOrigin,
      maxBody: opts.maxBody,
      demo: opts.demo,
      allowDegraded: opts.allowDegraded,
      strict: opts.strict,
      maxOperatorSeries: opts.maxOperatorSeries,
      maxSiteSeries: opts.maxSiteSeries,
      rateLimit: opts.rateLimit,
      fabricRoot: opts.fabricRoot,
      logLevel: process.env.RTT_LOG_LEVEL ?? "info",
      // The Loki feed is for pipes and collectors; on a terminal it would bury the banner under megabytes of JSON.
      sessionOutput: !opts.logFile && process.stdout.isTTY ? null : undefined,
    });
  } catch (e) {
    if (e instanceof StartupError)
      throw new CliExit(e.code === "RTT_ERR_STARTUP_SELF_CHECK" ? EXIT_INVALID : EXIT_USAGE, e.message);
    throw e;
  }

  const sessions = await server.store.countSessions();
  const demo = server.demo
    ? ` (demo: ${server.demo.sessions} sessions added${server.demo.note ? `; ${server.demo.note}` : ""})`
    : "";
  const feed = opts.logFile
    ? opts.logFile
    : process.stdout.isTTY
      ? "off (stdout is a terminal: pipe it or pass --log-file)"
      : "stdout";
  process.stderr.write(
    `\nrtt serve: listening on ${server.url}\n  store: ${opts.db} · ${sessions} sessions${demo}\n  traces: ${server.dataDir}/ctf · session feed (NDJSON for Loki): ${feed}\n  fabric view: ${server.fabricRoot ?? "off (--fabric-root DIR)"}\n  health: ${server.ctx.selfCheckMonitor.health().status} · access: ${opts.tokenFile || opts.readTokenFile ? "bearer token required (the UI asks for it)" : "open to this machine (loopback only)"}\n  open ${server.url}/ in a browser, or: curl ${server.url}/healthz\n\n`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`rtt serve: ${signal} again, exiting without draining\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`rtt serve: ${signal}, draining…\n`);
    server.close().then(
      () => process.exit(0),
      (e) => {
        process.stderr.write(`rtt serve: shutdown error: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
