import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { canonicalText } from "../canonical.js";
import { FabricError } from "../errors.js";
import { encodeFrame, FLAG_ERROR, FLAG_RESPONSE, type FrameDrop, FrameReader } from "../lanes/frame.js";
import { type Backpressure, Limiter } from "./limiter.js";
import { fromWire, jsonBytes, parseJsonBytes } from "./protocol.js";

/** One entry of `.rtt/drivers.json` (spec/fabric/daemon.md, "Drivers"). */
export interface DriverDecl {
  /** An out-of-process driver speaking RTT1 frames on stdin/stdout. */
  command?: string[];
  /** An in-process driver: `echo` answers the request bytes (or, with `info`, `{endpoint, request}` as JSON). */
  builtin?: "echo";
  info?: boolean;
  delay_ms?: number;
  sandbox?: "bwrap" | "none";
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
    if (d.backpressure !== undefined && d.backpressure !== "block" && d.backpressure !== "drop")
      throw new FabricError("RTT_FABRIC_INVALID", `${sym}: backpressure is block or drop`, file);
  }
  return v as DriverTable;
}

export const specKey = (d: DriverDecl | undefined): string => (d ? canonicalText(d) : "none");

export interface EndpointInfo {
  symbol: string;
  kind: "builtin" | "command" | "missing";
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
    throw new FabricError("RTT_FABRIC_DRIVER", `no driver declared for ${this.symbol} in drivers.json`);
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

/**
 * An out-of-process driver (spec/fabric/daemon.md, "Driver protocol"): the daemon writes request frames to its
 * stdin and reads answers (same frame_id, FLAG_RESPONSE, FLAG_ERROR with `{code, message}`) from its stdout. A driver
 * that exits or breaks framing fails its calls in flight and is restarted with back-off (100 ms doubling to 5 s);
 * meanwhile its routes report unhealthy and calls fail fast.
 * Sandbox: the sandbox supervisor (src/sandbox) has not landed; `sandbox: "bwrap"` wraps the command in a plain
 * bubblewrap (read-only /, no network, new session), `none` (the default for now) spawns it as is.
 */
export class CommandEndpoint extends Endpoint {
  private child: ChildProcessWithoutNullStreams | undefined;
  private reader = new FrameReader();
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private restarts = 0;
  private startedAt = 0;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private stderrTail = "";
  readonly drops: Partial<Record<FrameDrop | "unmatched", number>> = {};

  constructor(
    symbol: string,
    spec: DriverDecl,
    private readonly cwd: string,
  ) {
    super(symbol, spec);
    this.start();
  }

  private get argv(): string[] {
    const cmd = this.spec?.command as string[];
    if (this.spec?.sandbox !== "bwrap") return cmd;
    return [
      "bwrap",
      "--ro-bind",
      "/",
      "/",
      "--dev",
      "/dev",
      "--proc",
      "/proc",
      "--tmpfs",
      "/tmp",
      "--unshare-net",
      "--unshare-pid",
      "--die-with-parent",
      "--new-session",
      "--chdir",
      this.cwd,
      "--",
      ...cmd,
    ];
  }

  private start(): void {
    const [prog, ...args] = this.argv;
    this.reader = new FrameReader();
    this.startedAt = Date.now();
    const child = spawn(prog as string, args, { cwd: this.cwd, stdio: ["pipe", "pipe", "pipe"] });
    this.child = child;
    child.stdout.on("data", (chunk: Buffer) => this.onData(child, chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-2048);
    });
    child.stdin.on("error", () => {}); // EPIPE when it died: handled on exit
    child.on("error", (e) => {
      this.lastError = `cannot start ${prog}: ${e.message}`;
    });
    child.on("close", (code, signal) => this.onExit(child, code, signal));
  }

  private onData(child: ChildProcessWithoutNullStreams, chunk: Buffer): void {
    if (child !== this.child) return;
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
      child.kill("SIGKILL");
    }
  }

  private onExit(child: ChildProcessWithoutNullStreams, code: number | null, signal: string | null): void {
    if (child !== this.child) return;
    this.child = undefined;
    const why = `driver exited (${signal ?? `code ${code}`})${this.stderrTail ? `: ${this.stderrTail.trim().split("\n").pop()}` : ""}`;
    if (!this.stopping) this.lastError = this.lastError?.startsWith("driver broke") ? this.lastError : why;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new FabricError("RTT_FABRIC_DRIVER", why, this.symbol));
    }
    this.pending.clear();
    if (this.stopping) return;
    if (Date.now() - this.startedAt > 10_000) this.restarts = 0;
    const backoff = Math.min(5000, 100 * 2 ** this.restarts);
    this.restarts++;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopping) this.start();
    }, backoff);
  }

  protected invoke(routeId: number, payload: Uint8Array): Promise<Uint8Array> {
    const child = this.child;
    if (!child || child.exitCode !== null)
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
      child.stdin.write(encodeFrame({ flags: 0, routeId, frameId: id }, payload));
    });
  }

  protected async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((r) => child.once("close", () => r()));
    child.stdin.end();
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 1000);
    await exited;
    clearTimeout(t);
  }

  info(): EndpointInfo {
    const up = this.child !== undefined && this.child.exitCode === null;
    return {
      ...this.baseInfo("command", up),
      pid: this.child?.pid ?? null,
      restarts: this.restarts,
      drops: { ...this.drops },
      sandbox: this.spec?.sandbox ?? "none",
    };
  }
}

export function makeEndpoint(symbol: string, spec: DriverDecl | undefined, cwd: string): Endpoint {
  if (!spec) return new MissingEndpoint(symbol, spec);
  if (spec.builtin === "echo") return new EchoEndpoint(symbol, spec);
  return new CommandEndpoint(symbol, spec, cwd);
}
