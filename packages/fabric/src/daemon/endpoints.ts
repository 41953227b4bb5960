import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { canonicalText } from "../canonical.js";
import { FabricError } from "../errors.js";
import { encodeFrame, FLAG_ERROR, FLAG_RESPONSE, type FrameDrop, FrameReader } from "../lanes/frame.js";
import { type McpPool, type McpUpstream, parseMcpSymbol } from "../mcp/upstream.js";
import type { BackoffOptions } from "../sandbox/backoff.js";
import type { DriverProcessSpec, SandboxOptions } from "../sandbox/sandbox.js";
import { type DriverHealth, DriverSupervisor } from "../sandbox/supervisor.js";
import { type Backpressure, Limiter } from "./limiter.js";
import { fromWire, jsonBytes, parseJsonBytes } from "./protocol.js";
import { RouteStats } from "./stats.js";

/** One entry of `.rtt/drivers.json` (spec/fabric/daemon.md, "Drivers"). */
export interface DriverDecl {
  /** An out-of-process driver speaking RTT1 frames on stdin/stdout. */
  command?: string[];
  /** An in-process driver: `echo` answers the request bytes (or, with `info`, `{endpoint, request}` as JSON). */
  builtin?: "echo";
  info?: boolean;
  delay_ms?: number;
  /** Default `bwrap` (bubblewrap + seccomp; spec/fabric/sandbox.md); `none` runs it unsandboxed, logged at each start. */
  sandbox?: "bwrap" | "none";
  /** The driver's directory (read-only inside, its cwd); default the script's folder (Node) or the project folder. */
  dir?: string;
  /** More paths the driver may read (e.g. a node_modules it imports), relative to the project folder. */
  read_only?: string[];
  /** The driver's environment (nothing else passes but `pass_env` names). */
  env?: Record<string, string>;
  pass_env?: string[];
  /** A driver with calls outstanding that writes nothing for this long is killed and restarted (default timeout_ms). */
  heartbeat_ms?: number;
  max_inflight?: number;
  backpressure?: Backpressure;
  queue?: number;
  timeout_ms?: number;
  /** Scopes a capability token must carry to open or call routes to this endpoint (spec/fabric/tokens.md). */
  scopes?: string[];
}

export type DriverTable = Record<string, DriverDecl>;

export function readDrivers(file: string): DriverTable {
  if (!existsSync(file)) return {};
  const v = JSON.parse(readFileSync(file, "utf8")) as unknown;
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new FabricError("RTT_FABRIC_INVALID", 'expected {symbol: {command: [...]} | {builtin: "echo"}}', file);
  for (const [sym, d] of Object.entries(v as Record<string, DriverDecl>)) {
    const ok =
      typeof d === "object" &&
      d !== null &&
      ((Array.isArray(d.command) && d.command.length > 0 && d.command.every((c) => typeof c === "string")) ||
        d.builtin === "echo");
    if (!ok)
      throw new FabricError("RTT_FABRIC_INVALID", `${sym}: needs command: [program, ...args] or builtin: "echo"`, file);
    if (d.scopes !== undefined && !(Array.isArray(d.scopes) && d.scopes.every((x) => typeof x === "string")))
      throw new FabricError("RTT_FABRIC_INVALID", `${sym}: scopes is a list of scope names`, file);
    if (d.sandbox !== undefined && d.sandbox !== "bwrap" && d.sandbox !== "none")
      throw new FabricError("RTT_FABRIC_INVALID", `${sym}: sandbox is bwrap (the default) or none`, file);
    if (d.backpressure !== undefined && d.backpressure !== "block" && d.backpressure !== "drop")
      throw new FabricError("RTT_FABRIC_INVALID", `${sym}: backpressure is block or drop`, file);
  }
  return v as DriverTable;
}

export const specKey = (d: DriverDecl | undefined): string => (d ? canonicalText(d) : "none");

export interface EndpointInfo {
  symbol: string;
  kind: "builtin" | "command" | "mcp" | "missing";
  healthy: boolean;
  pid: number | null;
  restarts: number;
  inflight: number;
  queued: number;
  calls: number;
  refused: Record<string, number>;
  drops: Partial<Record<FrameDrop | "unmatched", number>>;
  last_error: string | null;
  sandbox: string;
  retiring: boolean;
  /** Command drivers: the supervisor's state (starting, healthy, unhealthy, backing_off, stopped). */
  state?: string;
  /** MCP tools: the server, the tool, its connection and the tool's own latency (µs). */
  mcp?: {
    server: string;
    tool: string;
    connected: boolean;
    reconnects: number;
    list_ms: number | null;
    calls: number;
    ok: number;
    errors: number;
    p50_us: number | null;
    p99_us: number | null;
  };
}

/** Where a route's calls go: a driver. */
export abstract class Endpoint {
  readonly limiter: Limiter;
  calls = 0;
  retiring = false;
  lastError: string | null = null;
  protected readonly timeoutMs: number;

  constructor(
    readonly symbol: string,
    readonly spec: DriverDecl | undefined,
  ) {
    this.limiter = new Limiter(
      spec?.max_inflight ?? 64,
      spec?.backpressure ?? "block",
      spec?.queue ?? 1024,
      spec?.timeout_ms ?? 30_000,
    );
    this.timeoutMs = spec?.timeout_ms ?? 30_000;
  }

  /** One call under the endpoint's concurrency cap and back-pressure policy; `onStart` once it has its slot. */
  async call(routeId: number, payload: Uint8Array, onStart?: () => void): Promise<Uint8Array> {
    const wait = this.limiter.acquire();
    if (wait) await wait;
    onStart?.();
    this.calls++;
    try {
      return await this.invoke(routeId, payload);
    } finally {
      this.limiter.release();
    }
  }

  /** Stops after the calls in flight finish or `drainMs` pass. */
  async close(drainMs: number): Promise<void> {
    this.retiring = true;
    const until = Date.now() + drainMs;
    while (this.limiter.inflight + this.limiter.queued > 0 && Date.now() < until) await sleep(5);
    this.limiter.rejectQueued();
    await this.stop();
  }

  protected abstract invoke(routeId: number, payload: Uint8Array): Promise<Uint8Array>;
  protected abstract stop(): Promise<void>;
  abstract info(): EndpointInfo;

  protected baseInfo(kind: EndpointInfo["kind"], healthy: boolean): EndpointInfo {
    return {
      symbol: this.symbol,
      kind,
      healthy,
      pid: null,
      restarts: 0,
      inflight: this.limiter.inflight,
      queued: this.limiter.queued,
      calls: this.calls,
      refused: { ...this.limiter.refused },
      drops: {},
      last_error: this.lastError,
      sandbox: "none",
      retiring: this.retiring,
    };
  }
}

/** The in-process test driver. */
export class EchoEndpoint extends Endpoint {
  protected async invoke(_routeId: number, payload: Uint8Array): Promise<Uint8Array> {
    if (this.spec?.delay_ms) await sleep(this.spec.delay_ms);
    if (!this.spec?.info) return payload;
    let request: unknown;
    try {
      request = parseJsonBytes(payload);
    } catch {
      request = Buffer.from(payload).toString("base64");
    }
    return jsonBytes({ endpoint: this.symbol, request });
  }
  protected async stop(): Promise<void> {}
  info(): EndpointInfo {
    return this.baseInfo("builtin", true);
  }
}

/** A symbol the table routes to but no driver is declared for: every call fails, the route reports unhealthy. */
export class MissingEndpoint extends Endpoint {
  protected async invoke(): Promise<Uint8Array> {
    throw new FabricError(
      "RTT_FABRIC_DRIVER",
      this.lastError ?? `no driver declared for ${this.symbol} in drivers.json`,
    );
  }
  protected async stop(): Promise<void> {}
  info(): EndpointInfo {
    return this.baseInfo("missing", false);
  }
}

interface Pending {
  resolve: (b: Uint8Array) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Options the daemon passes to every command driver's supervisor (tests shorten the back-off). */
export interface CommandDriverOptions extends SandboxOptions {
  backoff?: BackoffOptions;
  /** The daemon's MCP servers: routes to `rtt://mcp/<server>/<tool>` with no drivers.json entry call them. */
  mcp?: McpPool;
}

/**
 * A route to `rtt://mcp/<server>/<tool>` (spec/fabric/mcp.md, "Through the fabric"): the request bytes are the tool's
 * arguments as JSON (empty: `{}`), the answer is the CallToolResult as JSON. The server is the pool's (one per
 * server, started from its ingested manifest, reconnected after it exits); the endpoint keeps the tool's latency.
 */
export class McpEndpoint extends Endpoint {
  private readonly stats = new RouteStats();

  constructor(
    symbol: string,
    private readonly pool: McpPool,
    private readonly up: McpUpstream,
    private readonly tool: string,
  ) {
    super(symbol, undefined);
  }

  protected async invoke(_routeId: number, payload: Uint8Array): Promise<Uint8Array> {
    let args: unknown = {};
    if (payload.length > 0) {
      try {
        args = parseJsonBytes(payload);
      } catch {
        throw new FabricError("RTT_FABRIC_INVALID", "an MCP tool call takes its arguments as a JSON object");
      }
    }
    if (args === null) args = {};
    if (typeof args !== "object" || Array.isArray(args))
      throw new FabricError("RTT_FABRIC_INVALID", "an MCP tool call takes its arguments as a JSON object");
    const t0 = process.hrtime.bigint();
    this.stats.calls++;
    this.stats.inflight++;
    try {
      const r = await this.up.call(this.tool, args, this.timeoutMs);
      this.stats.done(t0);
      return jsonBytes(r);
    } catch (e) {
      this.stats.done(t0, (e as { code?: string }).code ?? "RTT_FABRIC_DRIVER");
      this.lastError = (e as Error).message;
      throw e;
    }
  }

  protected async stop(): Promise<void> {
    await this.pool.release(this.up);
  }

  info(): EndpointInfo {
    const s = this.stats.toJSON();
    return {
      ...this.baseInfo("mcp", this.up.connected),
      pid: this.up.pid,
      restarts: this.up.reconnects,
      last_error: this.lastError ?? this.up.lastError,
      mcp: {
        server: this.up.server,
        tool: this.tool,
        connected: this.up.connected,
        reconnects: this.up.reconnects,
        list_ms: this.up.listMs,
        calls: s.calls,
        ok: s.ok,
        errors: s.errors,
        p50_us: s.p50_us,
        p99_us: s.p99_us,
      },
    };
  }
}

const isNode = (prog: string) => prog === "node" || prog === process.execPath || basename(prog) === "node";

/**
 * drivers.json's `command` as the sandbox's process spec: `node SCRIPT …` (or this Node's path) is a Node driver —
 * the script's directory is its directory, and Node's permission model is the third layer; anything else runs as a
 * program with the project folder as its directory. `dir`, `read_only`, `env`, `pass_env` override or add.
 */
export function driverProcessSpec(symbol: string, d: DriverDecl, projectDir: string): DriverProcessSpec {
  const [prog, ...args] = d.command as string[];
  const node = isNode(prog as string) && args[0] !== undefined && /\.[cm]?js$/.test(args[0]);
  const script = node ? resolve(projectDir, args[0] as string) : undefined;
  return {
    name: symbol,
    kind: node ? "node" : "exec",
    command: script ?? (prog as string),
    args: node ? args.slice(1) : args,
    dir: d.dir !== undefined ? resolve(projectDir, d.dir) : script ? dirname(script) : projectDir,
    readOnly: (d.read_only ?? []).map((x) => resolve(projectDir, x)),
    ...(d.env ? { env: d.env } : {}),
    ...(d.pass_env ? { passEnv: d.pass_env } : {}),
    sandbox: d.sandbox ?? "bwrap",
  };
}

/**
 * An out-of-process driver (spec/fabric/daemon.md, "Driver protocol"): the daemon writes request frames to its
 * stdin and reads answers (same frame_id, FLAG_RESPONSE, FLAG_ERROR with `{code, message}`) from its stdout.
 * Run by the sandbox's DriverSupervisor (spec/fabric/sandbox.md): sandboxed by default (bubblewrap + seccomp, and
 * Node's permission model for Node drivers), `sandbox: "none"` the logged opt-out. A driver that exits, breaks
 * framing, or hangs — calls outstanding and nothing on stdout for `heartbeat_ms` (default `timeout_ms`) — fails its
 * calls in flight and is restarted with back-off (100 ms doubling, capped at 5 s, jittered); meanwhile its routes
 * report unhealthy and calls fail fast. An idle driver is healthy: the daemon beats for it while nothing is pending.
 */
export class CommandEndpoint extends Endpoint {
  private readonly sup: DriverSupervisor;
  private reader = new FrameReader();
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private idleBeat: NodeJS.Timeout | undefined;
  private startError: FabricError | undefined;
  readonly drops: Partial<Record<FrameDrop | "unmatched", number>> = {};

  constructor(symbol: string, spec: DriverDecl, cwd: string, opts: CommandDriverOptions = {}) {
    super(symbol, spec);
    const hbMs = spec.heartbeat_ms ?? this.timeoutMs;
    this.sup = new DriverSupervisor(driverProcessSpec(symbol, spec, cwd), {
      ...opts,
      heartbeat: { timeoutMs: hbMs },
      backoff: { initialMs: 100, maxMs: 5000, ...opts.backoff },
    });
    this.sup.on("spawn", (child: ChildProcess) => {
      this.reader = new FrameReader();
      queueMicrotask(() => {
        if (this.sup.child === child) this.sup.beat();
      });
    });
    this.sup.on("stdout", (chunk: Buffer) => this.onData(chunk));
    this.sup.on("health", (h: DriverHealth) => {
      if (h.state === "backing_off" || h.state === "stopped") this.failPending(h.reason ?? "driver stopped");
      if (!h.healthy && h.reason && h.state !== "stopped") this.lastError = this.describe(h);
    });
    // Liveness without pings: an idle driver owes no answers, so it is beaten for; one with calls outstanding
    // must speak within hbMs or be killed as hung (the supervisor's deadline) and restarted.
    this.idleBeat = setInterval(
      () => {
        if (this.pending.size === 0) this.sup.beat();
      },
      Math.max(20, Math.min(1000, hbMs / 4)),
    );
    this.idleBeat.unref();
    try {
      this.sup.start();
    } catch (e) {
      // No sandbox here (bwrap missing or unusable): a configuration error, not a crash to retry. Calls fail.
      this.startError = new FabricError("RTT_FABRIC_SANDBOX", (e as Error).message, symbol);
      this.lastError = this.startError.message;
    }
  }

  private describe(h: DriverHealth): string {
    const tail = h.stderrTail.trim().split("\n").pop();
    return `${h.reason}${tail ? `: ${tail}` : ""}`;
  }

  private failPending(why: string): void {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new FabricError("RTT_FABRIC_DRIVER", `driver ${why}`, this.symbol));
    }
    this.pending.clear();
  }

  private onData(chunk: Buffer): void {
    for (const f of this.reader.push(chunk)) {
      const p = this.pending.get(f.frameId);
      if (!p || !(f.flags & FLAG_RESPONSE)) {
        this.drops.unmatched = (this.drops.unmatched ?? 0) + 1;
        continue;
      }
      this.pending.delete(f.frameId);
      clearTimeout(p.timer);
      if (f.flags & FLAG_ERROR) p.reject(fromWire(f.payload));
      else p.resolve(f.payload);
    }
    for (const [k, v] of Object.entries(this.reader.drops)) if (v) this.drops[k as FrameDrop] = v;
    if (this.reader.fatal) {
      this.lastError = `driver broke framing on stdout (${this.reader.fatal})`;
      this.reader = new FrameReader();
      this.sup.child?.kill("SIGKILL");
    }
  }

  protected invoke(routeId: number, payload: Uint8Array): Promise<Uint8Array> {
    if (this.startError) return Promise.reject(this.startError);
    const child = this.sup.child;
    const state = this.sup.health().state;
    if (!child || child.exitCode !== null || state === "backing_off" || state === "stopped")
      return Promise.reject(
        new FabricError("RTT_FABRIC_DRIVER", `driver not running: ${this.lastError ?? "starting"}`, this.symbol),
      );
    const id = this.nextId;
    this.nextId = (this.nextId % 0xfffffffe) + 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new FabricError("RTT_FABRIC_TIMEOUT", `driver gave no answer in ${this.timeoutMs} ms`, this.symbol));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.sup.write(encodeFrame({ flags: 0, routeId, frameId: id }, payload));
    });
  }

  protected async stop(): Promise<void> {
    clearInterval(this.idleBeat);
    await this.sup.stop(1000);
    this.failPending("stopped");
  }

  info(): EndpointInfo {
    const h = this.sup.health();
    const up = !this.startError && (h.state === "healthy" || h.state === "starting");
    return {
      ...this.baseInfo("command", up && h.state === "healthy"),
      pid: h.pid ?? null,
      restarts: h.restarts,
      drops: { ...this.drops },
      sandbox: this.startError ? "unavailable" : this.spec?.sandbox === "none" ? "none" : "bwrap",
      state: this.startError ? "stopped" : h.state,
    };
  }
}

export function makeEndpoint(
  symbol: string,
  spec: DriverDecl | undefined,
  cwd: string,
  opts: CommandDriverOptions = {},
): Endpoint {
  const mcp = spec ? undefined : parseMcpSymbol(symbol);
  if (mcp && opts.mcp) {
    try {
      return new McpEndpoint(symbol, opts.mcp, opts.mcp.acquire(mcp.server), mcp.tool);
    } catch (e) {
      const m = new MissingEndpoint(symbol, spec);
      m.lastError = (e as Error).message;
      return m;
    }
  }
  if (!spec) return new MissingEndpoint(symbol, spec);
  if (spec.builtin === "echo") return new EchoEndpoint(symbol, spec);
  return new CommandEndpoint(symbol, spec, cwd, opts);
}
