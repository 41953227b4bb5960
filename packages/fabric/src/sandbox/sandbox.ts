import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readlinkSync,
  realpathSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { FabricError } from "../errors.js";
import { buildSeccompFilter } from "./seccomp.js";

/**
 * A driver's configuration: what to run and what it may see (spec/fabric/sandbox.md). `sandbox: "none"` is the one
 * explicit opt-out; it is logged every time the driver starts.
 */
export interface DriverProcessSpec {
  /** For logs and health reports. */
  name: string;
  /** `exec`: `command` is a program (absolute, or found on PATH). `node`: `command` is a script run by this Node. */
  kind?: "exec" | "node";
  command: string;
  args?: readonly string[];
  /** The driver's own directory: read-only inside, and its working directory. */
  dir: string;
  /** More paths the driver may read (bound read-only at the same place), e.g. a node_modules it imports. */
  readOnly?: readonly string[];
  /** Environment of the driver; nothing else from the parent passes except `passEnv` names. */
  env?: Readonly<Record<string, string>>;
  passEnv?: readonly string[];
  /** Default "bwrap". "none" runs the driver without bubblewrap and seccomp (the Node permission layer stays). */
  sandbox?: "bwrap" | "none";
}

export interface SandboxOptions {
  /** Where bubblewrap is; default /usr/bin/bwrap, else `bwrap` on PATH. */
  bwrapPath?: string;
  /** Load the seccomp filter (default true). False only to test the namespaces alone. */
  seccomp?: boolean;
  /** Where per-driver writable tmp dirs are made (default os.tmpdir()). */
  tmpRoot?: string;
  /** Warnings (the `sandbox: "none"` opt-out). Default: stderr. */
  log?: (line: string) => void;
}

export interface SpawnedDriver {
  /** bwrap (or, unsandboxed, the driver itself). Use `kill`, not `child.kill`: see there. */
  child: ChildProcess;
  /**
   * Kills the driver and everything it started, now (SIGKILL). Sandboxed: the sandbox's first process (pid 1 of
   * its pid namespace, learnt from bwrap's --info-fd) — killing it ends every process inside — and bwrap. Killing
   * bwrap alone is not enough: in the moment after it forks, before the child has set its parent-death signal, the
   * sandbox would outlive it. Unsandboxed: the driver's process group.
   */
  kill: () => void;
  /** The driver's private writable directory (host path; the same path inside the sandbox, also $TMPDIR, $HOME). */
  tmpDir: string;
  sandboxed: boolean;
  /** The full argv run (bwrap's and the driver's), for logs. */
  argv: string[];
}

/** Paths every driver sees read-only (those that exist): the dynamic loader, libraries and the usual binaries. */
export const SYSTEM_READ_ONLY = [
  "/usr",
  "/bin",
  "/sbin",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/localtime",
  "/etc/alternatives",
] as const;

export const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

const defaultLog = (line: string) => process.stderr.write(`${line}\n`);

/** The bubblewrap binary to use, or undefined when there is none. */
export function findBwrap(path?: string): string | undefined {
  if (path !== undefined) return isExecutable(path) ? path : undefined;
  if (isExecutable("/usr/bin/bwrap")) return "/usr/bin/bwrap";
  for (const d of (process.env.PATH ?? "").split(delimiter)) {
    if (d && isExecutable(join(d, "bwrap"))) return join(d, "bwrap");
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export type SandboxProbe = { ok: true; bwrap: string; userns: boolean } | { ok: false; reason: string };
const probes = new Map<string, SandboxProbe>();

/**
 * Whether sandboxed drivers can run here: bubblewrap present and able to build a sandbox (with a user namespace if
 * the kernel allows one; as root without one, capabilities are still dropped). Cached per bwrap path.
 */
export function probeSandbox(opts: Pick<SandboxOptions, "bwrapPath"> = {}): SandboxProbe {
  const bwrap = findBwrap(opts.bwrapPath);
  if (!bwrap) {
    return {
      ok: false,
      reason:
        `bubblewrap not found${opts.bwrapPath ? ` at ${opts.bwrapPath}` : " (/usr/bin/bwrap or bwrap on PATH)"}: ` +
        'install the Debian package `bubblewrap`, or set `sandbox: "none"` in the driver\'s config to run it ' +
        "unsandboxed",
    };
  }
  const cached = probes.get(bwrap);
  if (cached) return cached;
  const base = ["--ro-bind", "/", "/", "--unshare-all", "--cap-drop", "ALL", "--die-with-parent"];
  const tryRun = (extra: string[]) =>
    spawnSync(bwrap, [...base, ...extra, "--", "/bin/true"], { timeout: 10_000, encoding: "utf8" });
  let probe: SandboxProbe;
  const withUserns = tryRun(["--unshare-user"]);
  if (withUserns.status === 0) probe = { ok: true, bwrap, userns: true };
  else if (tryRun([]).status === 0) probe = { ok: true, bwrap, userns: false };
  else {
    const why = (withUserns.stderr || withUserns.error?.message || "").trim();
    probe = { ok: false, reason: `bubblewrap at ${bwrap} cannot build a sandbox here: ${why}` };
  }
  probes.set(bwrap, probe);
  return probe;
}

/** Resolves `command` to an absolute, symlink-free path (searching the parent's PATH for a bare name). */
export function resolveCommand(command: string): string {
  let found: string | undefined;
  if (command.includes("/")) found = resolve(command);
  else {
    for (const d of (process.env.PATH ?? DEFAULT_PATH).split(delimiter)) {
      if (d && isExecutable(join(d, command))) {
        found = join(d, command);
        break;
      }
    }
  }
  if (!found || !existsSync(found)) throw new FabricError("RTT_FABRIC_UNREADABLE", "driver command not found", command);
  return realpathSync(found);
}

/** The driver's environment: fixed basics, then `passEnv` names from the parent, then `env`. Nothing else. */
export function driverEnv(spec: DriverProcessSpec, tmpDir: string): Record<string, string> {
  const env: Record<string, string> = { PATH: DEFAULT_PATH, HOME: tmpDir, TMPDIR: tmpDir, LANG: "C.UTF-8" };
  for (const name of spec.passEnv ?? []) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  return { ...env, ...spec.env };
}

/**
 * The driver's own argv (inside the sandbox). A Node driver runs under Node's permission model as a second layer:
 * reads limited to its directory and `readOnly` paths, writes to its tmp dir, no child processes, workers or addons.
 * Node 20's model does not restrict the network — bubblewrap and seccomp do that.
 */
export function driverArgv(spec: DriverProcessSpec, tmpDir: string): string[] {
  if ((spec.kind ?? "exec") === "exec") return [resolveCommand(spec.command), ...(spec.args ?? [])];
  const script = isAbsolute(spec.command) ? spec.command : resolve(spec.dir, spec.command);
  const reads = [spec.dir, ...(spec.readOnly ?? [])].map((p) => `${resolve(p).replace(/\/+$/, "")}/*`);
  return [
    realpathSync(process.execPath),
    "--experimental-permission",
    "--disable-warning=ExperimentalWarning",
    // One flag per path: Node 20.20+ reads a comma-separated list as one path (with a warning), so only the
    // first directory would be readable.
    ...reads.map((r) => `--allow-fs-read=${r}`),
    `--allow-fs-write=${tmpDir.replace(/\/+$/, "")}/*`,
    script,
    ...(spec.args ?? []),
  ];
}

/**
 * bubblewrap's arguments for one driver (before `--`): a root of nothing but the system's read-only library paths,
 * the driver's directory read-only, its tmp dir writable, fresh /proc and /dev, every namespace unshared (the
 * network namespace has only `lo`), all capabilities dropped, the root remounted read-only, a new session (no
 * TIOCSTI into the parent's terminal), and death with the supervisor. `--seccomp 3` when a filter is passed on fd 3.
 */
export function bwrapArgs(
  spec: DriverProcessSpec,
  tmpDir: string,
  opts: { userns: boolean; seccompFd?: number; executable?: string },
): string[] {
  const a: string[] = ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"];
  if (opts.userns) a.push("--unshare-user", "--uid", "65534", "--gid", "65534", "--hostname", "rtt-driver");
  const bound: string[] = [];
  for (const p of SYSTEM_READ_ONLY) {
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) a.push("--symlink", readlinkSync(p), p);
    else {
      a.push("--ro-bind", p, p);
      bound.push(p);
    }
  }
  const inside = (p: string) => bound.some((b) => p === b || p.startsWith(`${b}/`));
  const extra = [opts.executable, resolve(spec.dir), ...(spec.readOnly ?? []).map((p) => resolve(p))];
  for (const p of extra) if (p && !inside(p)) a.push("--ro-bind", p, p);
  a.push(
    "--bind",
    tmpDir,
    tmpDir,
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--remount-ro",
    "/",
    "--chdir",
    resolve(spec.dir),
  );
  if (opts.seccompFd !== undefined) a.push("--seccomp", String(opts.seccompFd));
  return a;
}

let seq = 0;

/** A private (0700) writable directory for one driver under `tmpRoot`. */
export function makeDriverTmp(name: string, tmpRoot = tmpdir()): string {
  mkdirSync(tmpRoot, { recursive: true });
  const safe = name.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 40);
  return realpathSync(mkdtempSync(join(tmpRoot, `rtt-driver-${safe}-`)));
}

/**
 * Starts one driver process: under bubblewrap and the seccomp filter, or — only when the spec says
 * `sandbox: "none"` — directly, with a logged warning. stdin/stdout/stderr are pipes. Throws RTT_FABRIC_SANDBOX when
 * sandboxing is asked for and impossible (never falls back to running unsandboxed).
 */
export function spawnDriver(spec: DriverProcessSpec, tmpDir: string, opts: SandboxOptions = {}): SpawnedDriver {
  const argv = driverArgv(spec, tmpDir);
  const env = driverEnv(spec, tmpDir);
  const log = opts.log ?? defaultLog;
  if (spec.sandbox === "none") {
    log(`rtt fabric: driver ${spec.name} runs UNSANDBOXED (sandbox: "none" in its config): no namespaces, no seccomp`);
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: spec.dir,
      env,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    };
    return { child, kill, tmpDir, sandboxed: false, argv };
  }
  const probe = probeSandbox(opts);
  if (!probe.ok) throw new FabricError("RTT_FABRIC_SANDBOX", probe.reason, spec.name);
  const useSeccomp = opts.seccomp ?? true;
  let fd: number | undefined;
  if (useSeccomp) {
    // bwrap reads the program from an fd until EOF: a file written, reopened for reading, and unlinked at once.
    // Never in the driver's tmp dir (a driver could plant a symlink there); `wx` refuses any existing name.
    const file = join(
      opts.tmpRoot ?? tmpdir(),
      `.rtt-seccomp-${process.pid}-${++seq}-${randomBytes(6).toString("hex")}`,
    );
    writeFileSync(file, buildSeccompFilter(), { mode: 0o600, flag: "wx" });
    try {
      fd = openSync(file, "r");
    } finally {
      unlinkSync(file);
    }
  }
  const infoFd = fd !== undefined ? 4 : 3;
  const args = [
    ...bwrapArgs(spec, tmpDir, {
      userns: probe.userns,
      ...(fd !== undefined ? { seccompFd: 3 } : {}),
      executable: argv[0]!,
    }),
    "--info-fd",
    String(infoFd),
    "--",
    ...argv,
  ];
  let child: ChildProcess;
  try {
    child = spawn(probe.bwrap, args, {
      env,
      stdio: fd !== undefined ? ["pipe", "pipe", "pipe", fd, "pipe"] : ["pipe", "pipe", "pipe", "pipe"],
    });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  // bwrap writes {"child-pid": N, …} on the info fd once the sandbox's first process exists.
  let sandboxPid: number | undefined;
  let killWanted = false;
  const killAll = () => {
    if (sandboxPid !== undefined) {
      try {
        process.kill(sandboxPid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    child.kill("SIGKILL");
  };
  const info = child.stdio[infoFd] as NodeJS.ReadableStream | null;
  let infoText = "";
  info?.on("data", (c: Buffer) => {
    infoText += c.toString("utf8");
    const m = /"child-pid"\s*:\s*(\d+)/.exec(infoText);
    if (m && sandboxPid === undefined) {
      sandboxPid = Number(m[1]);
      if (killWanted) killAll();
    }
  });
  info?.on("error", () => {});
  // Until the pid is known the kill waits for it (bwrap reports it within milliseconds, or exits); bwrap dying
  // first means there is no sandbox left to kill.
  child.once("exit", () => {
    if (killWanted && sandboxPid === undefined) child.kill("SIGKILL");
  });
  const kill = () => {
    killWanted = true;
    if (sandboxPid !== undefined || child.exitCode !== null || child.signalCode !== null) killAll();
  };
  return { child, kill, tmpDir, sandboxed: true, argv: [probe.bwrap, ...args] };
}
