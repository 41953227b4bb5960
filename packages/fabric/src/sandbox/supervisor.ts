import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { rmSync } from "node:fs";
import { fnv1a } from "@rtt/core";
import { Backoff, type BackoffOptions } from "./backoff.js";
import {
  type DriverProcessSpec,
  makeDriverTmp,
  type SandboxOptions,
  type SpawnedDriver,
  spawnDriver,
} from "./sandbox.js";

/**
 * - `starting`: spawned, no heartbeat yet;
 * - `healthy`: heartbeats arrive in time;
 * - `unhealthy`: running, but the last heartbeat is older than `lateMs` (killed at `timeoutMs`);
 * - `backing_off`: exited or killed; restarts at `nextStartAt`;
 * - `stopped`: stopped by `stop()`.
 */
export type DriverState = "starting" | "healthy" | "unhealthy" | "backing_off" | "stopped";

/** What the daemon reads for a route's health (and exports as metrics). */
export interface DriverHealth {
  name: string;
  state: DriverState;
  /** True only in `healthy`. */
  healthy: boolean;
  /** Why the driver is not healthy (or was not, last time): the last exit, kill or start failure. */
  reason?: string;
  /** Restarts since the supervisor started. */
  restarts: number;
  /** Failures in a row; resets when a run stays healthy for `healthyAfterMs`. */
  consecutiveFailures: number;
  pid?: number;
  /** When the current state began (ms, the supervisor's clock). */
  since: number;
  nextStartAt?: number;
  sandboxed: boolean;
  /** The last stderr lines of the driver (up to 2 KiB), for the reason's context. */
  stderrTail: string;
}

export interface SupervisorOptions extends SandboxOptions {
  /**
   * Liveness: every chunk the driver writes on stdout, and every `beat()`, is a heartbeat. No heartbeat within
   * `timeoutMs` (from spawn, then from the last one) kills the driver, which is then restarted. `lateMs` (default
   * half of it) marks it unhealthy before that. `false`: the driver is healthy while it runs.
   */
  heartbeat?: { timeoutMs: number; lateMs?: number } | false;
  backoff?: BackoffOptions;
  /** A run healthy for this long forgets earlier failures (default 10 s): the next crash starts at initialMs. */
  healthyAfterMs?: number;
  /** The supervisor's clock (default Date.now). */
  now?: () => number;
}

const STDERR_TAIL = 2048;

/**
 * Runs one driver and keeps it running: restarts it after a crash or a hang with exponential, capped, seeded-jitter
 * back-off, and reports its health. Events: `health` (DriverHealth, on every state change), `stdout` (Buffer),
 * `stderr` (Buffer), `spawn` (ChildProcess).
 */
export class DriverSupervisor extends EventEmitter {
  readonly spec: DriverProcessSpec;
  private readonly opts: SupervisorOptions;
  private readonly backoff: Backoff;
  private readonly now: () => number;
  private proc: ChildProcess | undefined;
  private spawned: SpawnedDriver | undefined;
  private tmp: string | undefined;
  private state: DriverState = "stopped";
  private since: number;
  private reason: string | undefined;
  private restarts = 0;
  private failures = 0;
  private nextStartAt: number | undefined;
  private lastBeat = 0;
  private healthyAt: number | undefined;
  private sandboxed = false;
  private stderrTail = "";
  private killReason: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private exited: Promise<void> = Promise.resolve();

  constructor(spec: DriverProcessSpec, opts: SupervisorOptions = {}) {
    super();
    this.spec = spec;
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.since = this.now();
    this.backoff = new Backoff({ seed: fnv1a(spec.name), ...opts.backoff });
  }

  /** The driver's private writable directory (made on first start, removed by stop()). */
  get tmpDir(): string | undefined {
    return this.tmp;
  }

  get child(): ChildProcess | undefined {
    return this.proc;
  }

  /**
   * Starts the driver. Throws at once (RTT_FABRIC_SANDBOX) when it must be sandboxed and cannot be: that is a
   * configuration error, not a crash to retry.
   */
  start(): void {
    if (this.proc || this.restartTimer?.hasRef()) return;
    this.stopping = false;
    this.tmp ??= makeDriverTmp(this.spec.name, this.opts.tmpRoot);
    this.launch();
  }

  /** A heartbeat from whoever talks to the driver (a response counts as much as a ping). */
  beat(): void {
    if (!this.proc) return;
    this.lastBeat = this.now();
    if (this.state === "starting" || this.state === "unhealthy") {
      this.healthyAt ??= this.lastBeat;
      this.setState("healthy", this.reason);
    }
  }

  health(): DriverHealth {
    return {
      name: this.spec.name,
      state: this.state,
      healthy: this.state === "healthy",
      ...(this.reason !== undefined ? { reason: this.reason } : {}),
      restarts: this.restarts,
      consecutiveFailures: this.failures,
      ...(this.proc?.pid !== undefined ? { pid: this.proc.pid } : {}),
      since: this.since,
      ...(this.nextStartAt !== undefined && this.state === "backing_off" ? { nextStartAt: this.nextStartAt } : {}),
      sandboxed: this.sandboxed,
      stderrTail: this.stderrTail,
    };
  }

  /** Writes to the driver's stdin (dropped when it is not running). */
  write(data: string | Uint8Array): boolean {
    return this.proc?.stdin?.writable ? this.proc.stdin.write(data) : false;
  }

  /**
   * Stops the driver and removes its tmp dir: its stdin is closed (a driver exits on EOF), and after `graceMs` it
   * and everything it started are killed.
   */
  async stop(graceMs = 2000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.timer);
    const p = this.proc;
    const spawned = this.spawned;
    if (p && spawned) {
      p.stdin?.end();
      const t = setTimeout(() => spawned.kill(), graceMs);
      let late: NodeJS.Timeout | undefined;
      // The kill is certain; the bound only keeps a kernel-level surprise from hanging the daemon's shutdown.
      await Promise.race([this.exited, new Promise((r) => (late = setTimeout(r, graceMs + 5000)))]);
      clearTimeout(t);
      clearTimeout(late);
    }
    this.setState("stopped", this.reason);
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true });
    this.tmp = undefined;
  }

  private launch(): void {
    this.nextStartAt = undefined;
    this.killReason = undefined;
    this.healthyAt = undefined;
    const spawned = spawnDriver(this.spec, this.tmp!, this.opts); // throws RTT_FABRIC_SANDBOX: not retried
    const child = spawned.child;
    this.spawned = spawned;
    this.proc = child;
    this.sandboxed = spawned.sandboxed;
    this.lastBeat = this.now();
    const hb = this.opts.heartbeat ?? { timeoutMs: 10_000 };
    this.exited = new Promise((resolveExit) => {
      let done = false;
      const finish = (why: string) => {
        if (done) return;
        done = true;
        this.onExit(child, why);
        resolveExit();
      };
      child.once("error", (e) => finish(`could not start: ${e.message}`));
      child.once("close", (code, signal) => finish(signal ? `killed by ${signal}` : `exited with code ${code ?? "?"}`));
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      if (hb !== false) this.beat();
      this.emit("stdout", chunk);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-STDERR_TAIL);
      this.emit("stderr", chunk);
    });
    child.stdin?.on("error", () => {}); // EPIPE from a dead driver is reported by its exit, not here
    this.emit("spawn", child);
    if (hb === false) {
      this.healthyAt = this.now();
      this.setState("healthy", this.reason);
    } else {
      this.setState("starting", this.reason);
      const late = hb.lateMs ?? hb.timeoutMs / 2;
      const tick = Math.max(5, Math.min(late, hb.timeoutMs) / 4);
      this.timer = setInterval(() => this.check(hb.timeoutMs, late), tick);
      this.timer.unref();
    }
  }

  private check(timeoutMs: number, lateMs: number): void {
    const p = this.proc;
    if (!p || this.killReason) return;
    const silent = this.now() - this.lastBeat;
    if (silent >= timeoutMs) {
      this.killReason = `no heartbeat for ${silent} ms (deadline ${timeoutMs} ms): killed`;
      this.setState("unhealthy", this.killReason);
      this.spawned?.kill();
    } else if (silent >= lateMs && this.state === "healthy") {
      this.setState("unhealthy", `heartbeat late: none for ${silent} ms`);
    }
  }

  private onExit(child: ChildProcess, why: string): void {
    clearInterval(this.timer);
    if (this.proc !== child) return;
    this.proc = undefined;
    this.spawned = undefined;
    if (this.stopping) return;
    const now = this.now();
    const healthyFor = this.healthyAt === undefined ? 0 : now - this.healthyAt;
    if (healthyFor >= (this.opts.healthyAfterMs ?? 10_000)) this.failures = 0;
    this.failures++;
    const delay = this.backoff.delay(this.failures);
    this.nextStartAt = now + delay;
    // The same instant as nextStartAt's: a second clock read may fall in the next millisecond.
    this.setState("backing_off", this.killReason ?? why, now);
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.restarts++;
      try {
        this.launch();
      } catch (e) {
        // The sandbox went away under us (bwrap uninstalled): report it and stop trying.
        this.setState("stopped", (e as Error).message);
      }
    }, delay);
  }

  private setState(state: DriverState, reason: string | undefined, at = this.now()): void {
    const changed = state !== this.state || reason !== this.reason;
    if (state !== this.state) this.since = at;
    this.state = state;
    this.reason = reason;
    if (changed) this.emit("health", this.health());
  }
}
