import { readFileSync } from "node:fs";
import type { DaemonOptions, ShmServeMode } from "@rtt/fabric";
import { type Command, Option } from "commander";
import { CliExit, keepRunningWhenStdoutCloses } from "../lib/exit.js";
import { type Fabric, loadFabric } from "../lib/fabric.js";

/** Runs an action with @rtt/fabric loaded on use (lib/fabric.ts); its errors exit through bin/rtt.ts. */
async function fabric<T>(action: (f: Fabric) => Promise<T>): Promise<T> {
  return action(await loadFabric());
}

const rootOption = () => new Option("--root <dir>", "fabric root").default(".rtt");
const socketOption = () => new Option("--socket <path>", "control socket (default <root>/fabric.sock)");
const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

const int = (name: string, v: string | undefined, min = 0): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new CliExit(1, `${name} wants an integer ≥ ${min}, not ${JSON.stringify(v)}`);
  return n;
};

interface UpOpts {
  root: string;
  socket?: string;
  tcp?: string;
  tcpHost?: string;
  shmMode?: string;
  spin?: string;
  drain?: string;
  metrics?: string;
  auth: boolean;
  mcpStartup?: string;
}

export function register(program: Command): void {
  const group = program
    .command("fabric")
    .description("The fabric daemon: lanes (UDS, TCP, SHM), routing table, drivers (spec/fabric/daemon.md)")
    .addHelpText(
      "after",
      `
Examples:
  rtt fabric up                               # foreground; SIGTERM/SIGINT drain and stop
  rtt fabric up --tcp 127.0.0.1:7401          # also the TCP lane (loopback unless --tcp-host)
  rtt fabric status --json
  rtt call rtt://ui/hook/refresh --json '{"n":1}' --lane shm`,
    );

  group
    .command("up")
    .description("Run the fabric daemon in the foreground on <root>/fabric.sock")
    .addOption(rootOption())
    .addOption(socketOption())
    .option("--tcp <[host:]port>", "serve the TCP lane too (127.0.0.1 unless --tcp-host)")
    .option("--tcp-host <host>", "the TCP lane's host, may be non-loopback (the lane has no authentication of its own)")
    .addOption(new Option("--shm-mode <mode>", "how SHM lanes wait for requests").choices(["worker", "loop"]))
    .option("--spin <micros>", "spin budget before parking on a ring (µs)", "50")
    .option("--drain <ms>", "deadline to drain in-flight calls (hot swap, shutdown)", "5000")
    .option(
      "--metrics <[host:]port>",
      "serve Prometheus metrics on http://host:port/metrics (127.0.0.1 unless a host is given)",
    )
    .option(
      "--mcp-startup <ms>",
      "bound on an MCP server's start + initialize + tools/list (routes to rtt://mcp/…)",
      "10000",
    )
    .option(
      "--no-auth",
      "local development only: route operations need no capability token (logged); default: open/tx/shm_open need one",
    )
    .action((opts: UpOpts) =>
      fabric(async ({ FabricDaemon, FabricError, parseHostPort }) => {
        keepRunningWhenStdoutCloses();
        const o: DaemonOptions = {
          root: opts.root,
          socket: opts.socket,
          shmMode: opts.shmMode as ShmServeMode | undefined,
          spinMicros: int("--spin", opts.spin),
          drainMs: int("--drain", opts.drain),
          auth: opts.auth === false ? "none" : "tokens",
          mcp: { startupMs: int("--mcp-startup", opts.mcpStartup, 1) as number },
          log: (l) => process.stderr.write(`${l}\n`),
        };
        if (opts.tcp !== undefined) {
          const hp = /^\d+$/.test(opts.tcp) ? { host: "127.0.0.1", port: Number(opts.tcp) } : parseHostPort(opts.tcp);
          if (opts.tcpHost) hp.host = opts.tcpHost;
          else if (!LOOPBACK.has(hp.host))
            throw new FabricError(
              "RTT_FABRIC_USAGE",
              `--tcp ${opts.tcp}: not loopback; say --tcp-host ${hp.host} to mean it`,
            );
          o.tcp = hp;
        } else if (opts.tcpHost) throw new FabricError("RTT_FABRIC_USAGE", "--tcp-host needs --tcp");
        if (opts.metrics !== undefined)
          o.metrics = /^\d+$/.test(opts.metrics)
            ? { host: "127.0.0.1", port: Number(opts.metrics) }
            : parseHostPort(opts.metrics);
        const d = await FabricDaemon.start(o);
        process.stdout.write(
          `fabric up: pid ${process.pid} socket ${d.socketPath}${d.tcpAddress ? ` tcp ${d.tcpAddress.host}:${d.tcpAddress.port}` : ""}\n`,
        );
        if (d.metricsServer) process.stderr.write(`fabric: metrics on ${d.metricsServer.url}\n`);
        await new Promise<void>((resolve) => {
          const stop = (sig: string) => {
            process.stderr.write(`fabric: ${sig}\n`);
            void d.stop().then(resolve);
          };
          process.once("SIGTERM", () => stop("SIGTERM"));
          process.once("SIGINT", () => stop("SIGINT"));
        });
      }),
    );

  group
    .command("status")
    .description("Routes, lanes, per-route counters, drops by reason, driver health (from the running daemon)")
    .addOption(rootOption())
    .addOption(socketOption())
    .option("--json", "print the status as JSON")
    .action((opts: { root: string; socket?: string; json?: boolean }) =>
      fabric(async ({ FabricClient, fabricPaths, prettyJson }) => {
        const c = await FabricClient.uds(opts.socket ?? fabricPaths(opts.root).socket);
        try {
          const s = await c.control<Status>("status", {}, { timeoutMs: 10_000 });
          process.stdout.write(opts.json ? prettyJson(s) : formatStatus(s));
        } finally {
          c.close();
        }
      }),
    );

  program
    .command("call")
    .description("Call a symbol through the fabric daemon and print the answer")
    .argument("<symbol>", "rtt://… (a route's from, or an endpoint a route reaches)")
    .option("--json <text>", "the request as JSON", "null")
    .addOption(new Option("--lane <lane>", "lane to call over").choices(["uds", "tcp", "shm"]).default("uds"))
    .option("--timeout <ms>", "give up after this long", "30000")
    .option("--tcp <host:port>", "the daemon's TCP lane (default: ask the daemon)")
    .option("--token <file>", "a capability token for the symbol (rtt token issue): verb tx (one call) or open")
    .option("--key <file>", "issue the token here with this trusted private key (verb tx, or open for --lane shm)")
    .option("--scope <scope...>", "scopes of the token --key issues")
    .addOption(rootOption())
    .addOption(socketOption())
    .action(
      (
        symbol: string,
        opts: {
          json: string;
          lane: "uds" | "tcp" | "shm";
          timeout: string;
          tcp?: string;
          root: string;
          socket?: string;
          token?: string;
          key?: string;
          scope?: string[];
        },
      ) =>
        fabric(
          async ({
            FabricClient,
            FabricError,
            fabricPaths,
            issueToken,
            parseHostPort,
            prettyJson,
            readPrivateKeyFile,
          }) => {
            let body: Uint8Array;
            try {
              body = Buffer.from(JSON.stringify(JSON.parse(opts.json)));
            } catch (e) {
              throw new CliExit(1, `--json: ${(e as Error).message}`);
            }
            const timeoutMs = int("--timeout", opts.timeout, 1) as number;
            if (opts.token && opts.key) throw new CliExit(1, "--token and --key: give one");
            let token: { verb?: unknown } | undefined;
            if (opts.token) {
              try {
                token = JSON.parse(readFileSync(opts.token, "utf8")) as { verb?: unknown };
              } catch (e) {
                throw new CliExit(1, `--token ${opts.token}: ${(e as Error).message}`);
              }
            } else if (opts.key)
              token = issueToken(
                { saddr: symbol, verb: opts.lane === "shm" ? "open" : "tx", scopes: opts.scope ?? [], ttlMs: 60_000 },
                readPrivateKeyFile(opts.key),
              );
            // One token check per operation: `tx` allows this one call, `open` the connection (SHM lanes need open).
            const verb = token?.verb === "open" || opts.lane === "shm" ? "open" : "tx";
            const c = await FabricClient.uds(opts.socket ?? fabricPaths(opts.root).socket);
            let answer: Uint8Array;
            try {
              if (opts.lane === "shm") {
                const lane = await c.openShm({ symbol, ...(token ? { token } : {}) });
                answer = await lane.call(body, { timeoutMs });
                await lane.close();
              } else if (opts.lane === "tcp") {
                const addr = opts.tcp ? parseHostPort(opts.tcp) : (await c.control<Status>("status")).daemon.tcp;
                if (!addr)
                  throw new FabricError("RTT_FABRIC_DAEMON", "the daemon serves no TCP lane (rtt fabric up --tcp …)");
                const t = await FabricClient.tcp(addr.host, addr.port);
                try {
                  const route = await t.grant(verb, symbol, token);
                  answer = await t.call(route.route_id, body, { timeoutMs });
                } finally {
                  t.close();
                }
              } else {
                const route = await c.grant(verb, symbol, token);
                answer = await c.call(route.route_id, body, { timeoutMs });
              }
            } finally {
              c.close();
            }
            const text = Buffer.from(answer).toString("utf8");
            try {
              process.stdout.write(prettyJson(JSON.parse(text)));
            } catch {
              process.stdout.write(`${text}\n`);
            }
          },
        ),
    );
}

interface Status {
  daemon: {
    pid: number;
    socket: string;
    tcp: { host: string; port: number } | null;
    inflight: number;
    shm_mode: string;
  };
  plan_id: string | null;
  routes: Array<{
    route_id: number;
    from: string;
    to: string;
    lane: string;
    healthy: boolean;
    calls: number;
    errors: number;
    p50_us: number | null;
    p99_us: number | null;
  }>;
  lanes: Record<string, { frames_in: number; frames_out: number; open?: number }>;
  drops: { total: Record<string, number> };
  auth?: { mode: string; tokens: Record<string, number>; refused: number };
  tuned?: {
    state: "none" | "loaded" | "refused";
    path: string;
    applied?: { spinMicros?: number; shmCapacity?: number };
    batch_window_us?: number;
    error?: { code: string; message: string };
    refused: number;
  };
  drivers: Array<{
    symbol: string;
    kind: string;
    healthy: boolean;
    pid: number | null;
    restarts: number;
    last_error: string | null;
    sandbox?: string;
    mcp?: { calls: number; p50_us: number | null; p99_us: number | null; list_ms: number | null; reconnects: number };
  }>;
}

/** The tuned profile line (rtt autotune --apply; spec/fabric/autotune.md): what the daemon took, or why it refused it. */
function formatTuned(t: NonNullable<Status["tuned"]>): string {
  if (t.state === "none") return "tuned: no profile (defaults; rtt autotune --apply writes one)";
  if (t.state === "refused")
    return `tuned: REFUSED ${t.refused} profile (${t.error?.code}: ${t.error?.message}) — defaults in use`;
  const a = Object.entries(t.applied ?? {}).map(([k, v]) => `${k} ${v}`);
  return `tuned: ${t.path} — ${a.length ? a.join(", ") : "nothing applied (options given explicitly)"}; batch window ${t.batch_window_us} µs for producers`;
}

function formatStatus(s: Status): string {
  const lines = [
    `fabric daemon pid ${s.daemon.pid} on ${s.daemon.socket}${s.daemon.tcp ? `, tcp ${s.daemon.tcp.host}:${s.daemon.tcp.port}` : ""} (shm ${s.daemon.shm_mode}); plan ${s.plan_id ?? "none"}; ${s.daemon.inflight} in flight`,
    `routes (${s.routes.length}):`,
  ];
  for (const r of s.routes)
    lines.push(
      `  ${r.route_id} ${r.from} -> ${r.to} [${r.lane}] ${r.healthy ? "healthy" : "UNHEALTHY"} calls ${r.calls} errors ${r.errors}${r.p50_us !== null ? ` p50 ${r.p50_us} µs p99 ${r.p99_us} µs` : ""}`,
    );
  lines.push("lanes:");
  for (const [k, v] of Object.entries(s.lanes))
    if (!Array.isArray(v)) lines.push(`  ${k}: ${v.open ?? 0} open, ${v.frames_in} frames in, ${v.frames_out} out`);
  const drops = Object.entries(s.drops.total);
  if (s.auth) {
    const refused = Object.entries(s.auth.tokens).filter(([k, v]) => k !== "accepted" && v > 0);
    lines.push(
      s.auth.mode === "none"
        ? "auth: NONE (rtt fabric up --no-auth: no capability tokens checked)"
        : `auth: tokens — accepted ${s.auth.tokens.accepted ?? 0}, refused ${s.auth.refused}${refused.length ? ` (${refused.map(([k, v]) => `${k} ${v}`).join(", ")})` : ""}`,
    );
  }
  if (s.tuned) lines.push(formatTuned(s.tuned));
  lines.push(`drops: ${drops.length ? drops.map(([k, v]) => `${k} ${v}`).join(", ") : "none"}`);
  lines.push("drivers:");
  for (const d of s.drivers)
    lines.push(
      `  ${d.symbol} ${d.kind}${d.pid ? ` pid ${d.pid}` : ""}${d.kind === "command" && d.sandbox ? ` sandbox ${d.sandbox}` : ""} ${d.healthy ? "healthy" : "UNHEALTHY"}${d.restarts ? ` restarts ${d.restarts}` : ""}${d.mcp ? ` tool calls ${d.mcp.calls}${d.mcp.p50_us !== null ? ` p50 ${d.mcp.p50_us} µs p99 ${d.mcp.p99_us} µs` : ""}${d.mcp.list_ms !== null ? ` (listed in ${d.mcp.list_ms} ms)` : ""}` : ""}${d.last_error ? ` — ${d.last_error}` : ""}`,
    );
  return `${lines.join("\n")}\n`;
}
