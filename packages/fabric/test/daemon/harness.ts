import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PlanRoute } from "../../src/planner/types.js";

export const RTT = fileURLToPath(new URL("../../../cli/dist/bin/rtt.js", import.meta.url));
export const DRIVER = fileURLToPath(new URL("./fixtures/driver.mjs", import.meta.url));
/** drivers.json entry of the fixture driver: sandboxed (the default; it needs nothing outside its folder). */
export const fixtureDriver = (name: string, extra: Record<string, unknown> = {}) => ({
  command: [process.execPath, DRIVER, name],
  ...extra,
});

export interface Project {
  dir: string;
  root: string;
  socket: string;
  cleanup(): void;
}

/** A project folder with `.rtt/fabric/routes.json` and `.rtt/drivers.json`. */
export function project(routes: PlanRoute[], drivers: Record<string, unknown>, planId = "sha256:test-1"): Project {
  const dir = mkdtempSync(join(tmpdir(), "rtt-fd-"));
  const root = join(dir, ".rtt");
  mkdirSync(join(root, "fabric"), { recursive: true });
  writeFileSync(join(root, "fabric", "routes.json"), JSON.stringify({ plan_id: planId, routes }));
  writeFileSync(join(root, "drivers.json"), JSON.stringify(drivers));
  return { dir, root, socket: join(root, "fabric.sock"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Daemon {
  child: ChildProcess;
  pid: number;
  tcp: { host: string; port: number } | undefined;
  stderr: () => string;
  /** SIGTERM, then the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * `rtt fabric up` as a child process; resolves once it printed its ready line. Lane, swap and fuzz tests run it with
 * `--no-auth` (tokens are tested in auth.test.ts); `{auth: true}` leaves capability tokens on.
 */
export function startDaemon(p: Project, args: string[] = [], opts: { auth?: boolean } = {}): Promise<Daemon> {
  const argv = [RTT, "fabric", "up", "--root", p.root, ...(opts.auth ? [] : ["--no-auth"]), ...args];
  const child = spawn(process.execPath, argv, {
    cwd: p.dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr?.on("data", (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`daemon did not start: ${err}`)), 20_000);
    child.once("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`daemon exited ${code}: ${err}`));
    });
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /^fabric up: pid (\d+) socket \S+(?: tcp (\S+):(\d+))?$/m.exec(out);
      if (!m) return;
      clearTimeout(t);
      resolve({
        child,
        pid: Number(m[1]),
        tcp: m[2] ? { host: m[2], port: Number(m[3]) } : undefined,
        stderr: () => err,
        stop: (signal = "SIGTERM") => {
          child.kill(signal);
          return exited;
        },
      });
    });
  });
}

export const route = (route_id: number, from: string, to: string, lane: PlanRoute["lane"] = "uds"): PlanRoute => ({
  route_id,
  from,
  to,
  lane,
});

export const json = (v: unknown) => Buffer.from(JSON.stringify(v));
export const parse = (b: Uint8Array) => JSON.parse(Buffer.from(b).toString("utf8"));
