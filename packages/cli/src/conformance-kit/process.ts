import { type ChildProcess, spawn } from "node:child_process";

export type Outcome =
  | { kind: "reply"; line: string }
  | { kind: "timeout" }
  | { kind: "exit"; code: number | null; signal: NodeJS.Signals | null }
  | { kind: "spawn-error"; message: string };

const STDERR_KEEP = 8 * 1024;

/**
 * One running implementation: lines in on stdin, lines out on stdout, stderr kept (the last 8 KiB).
 * Started in its own process group so a timeout kills wrappers and their children alike.
 */
export class Implementation {
  private child: ChildProcess | null = null;
  private buffer = "";
  private lines: string[] = [];
  private stderr = "";
  private exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private spawnError: string | null = null;
  private wake: (() => void) | null = null;
  /** Lines printed that were no reply to a request (read before the request was sent). */
  unexpectedLines = 0;

  constructor(
    private readonly command: string,
    private readonly args: string[],
    private readonly opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
  ) {}

  get running(): boolean {
    return this.child !== null && this.exited === null && this.spawnError === null;
  }

  start(): void {
    this.buffer = "";
    this.lines = [];
    this.stderr = "";
    this.exited = null;
    this.spawnError = null;
    const child = spawn(this.command, this.args, {
      cwd: this.opts.cwd,
      env: this.opts.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
      detached: process.platform !== "win32",
    });
    this.child = child;
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      this.buffer += chunk;
      let nl = this.buffer.indexOf("\n");
      while (nl >= 0) {
        this.lines.push(this.buffer.slice(0, nl).replace(/\r$/, ""));
        this.buffer = this.buffer.slice(nl + 1);
        nl = this.buffer.indexOf("\n");
      }
      this.notify();
    });
    child.stderr!.on("data", (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_KEEP);
    });
    child.stdin!.on("error", () => {}); // EPIPE when the implementation is gone; reported through "exit".
    child.on("error", (err) => {
      this.spawnError = err.message;
      this.notify();
    });
    // "close" waits for stdout to drain, so a reply written just before exiting is still read.
    child.on("close", (code, signal) => {
      if (this.buffer.length) {
        this.lines.push(this.buffer);
        this.buffer = "";
      }
      this.exited = { code, signal };
      this.notify();
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Sends one line and waits for one reply line, the process's end, or the timeout. */
  async request(line: string, timeoutMs: number): Promise<Outcome> {
    if (!this.child) this.start();
    this.unexpectedLines += this.lines.length;
    this.lines = [];
    if (this.running) this.child!.stdin!.write(`${line}\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const next = this.lines.shift();
      if (next !== undefined) return { kind: "reply", line: next };
      if (this.spawnError !== null) return { kind: "spawn-error", message: this.spawnError };
      if (this.exited) return { kind: "exit", ...this.exited };
      const left = deadline - Date.now();
      if (left <= 0) return { kind: "timeout" };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  stderrTail(): string {
    return this.stderr;
  }

  /** Kills the whole process group and waits (briefly) for it to be gone. */
  async stop(graceful = false): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (this.exited === null && this.spawnError === null) {
      if (graceful) {
        child.stdin!.end();
        await this.waitExit(2000);
      }
      if (this.exited === null) {
        try {
          if (child.pid !== undefined && process.platform !== "win32") process.kill(-child.pid, "SIGKILL");
          else child.kill("SIGKILL");
        } catch {
          child.kill("SIGKILL");
        }
        await this.waitExit(2000);
      }
    }
    child.stdout?.destroy();
    child.stderr?.destroy();
    this.child = null;
  }

  private async waitExit(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.exited === null && this.spawnError === null && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
