import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type DriverProcessSpec,
  driverEnv,
  isFabricError,
  makeDriverTmp,
  probeSandbox,
  type SandboxOptions,
  spawnDriver,
} from "@rtt/fabric";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Integration: real bubblewrap, real seccomp. Skipped (with the reason printed) where bwrap is missing, unless
// RTT_REQUIRE_SANDBOX=1 (CI), where a missing sandbox fails.
const probe = probeSandbox();
const required = process.env.RTT_REQUIRE_SANDBOX === "1";
if (!probe.ok)
  console.warn(`sandbox tests skipped: ${probe.reason}${required ? " (RTT_REQUIRE_SANDBOX=1: failing)" : ""}`);
const run = probe.ok || required;

const root = mkdtempSync(join(tmpdir(), "rtt-sbx-"));
const driverDir = join(root, "driver");
let server: Server;
let port = 0;

beforeAll(async () => {
  mkdirSync(driverDir);
  writeFileSync(join(driverDir, "probe.mjs"), NODE_PROBE);
  writeFileSync(join(driverDir, "probe.py"), PY_PROBE);
  server = createServer((s) => {
    s.on("error", () => {}); // the probe hangs up at once
    s.end("hello from the host\n");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(root, { recursive: true, force: true });
});

/** Runs a driver to its exit; its stdout is one JSON line. */
async function runOnce(spec: DriverProcessSpec, opts: SandboxOptions = {}) {
  const tmp = makeDriverTmp(spec.name, root);
  const d = spawnDriver(spec, tmp, { tmpRoot: root, ...opts });
  let out = "";
  let err = "";
  d.child.stdout?.on("data", (c: Buffer) => {
    out += c;
  });
  d.child.stderr?.on("data", (c: Buffer) => {
    err += c;
  });
  const code = await new Promise<number | null>((r) => d.child.on("close", (c) => r(c)));
  let result: Record<string, unknown> = {};
  try {
    result = JSON.parse(out.trim().split("\n").at(-1) ?? "{}");
  } catch {
    throw new Error(`driver printed no JSON (exit ${code}): ${out}\n${err}`);
  }
  return { code, result, stderr: err, tmp, sandboxed: d.sandboxed };
}

const nodeProbe = (name: string, extra: Partial<DriverProcessSpec> = {}): DriverProcessSpec => ({
  name,
  kind: "node",
  command: "probe.mjs",
  args: [String(port), driverDir],
  dir: driverDir,
  ...extra,
});
const pyProbe = (name: string): DriverProcessSpec => ({
  name,
  command: "/usr/bin/python3",
  args: [join(driverDir, "probe.py"), String(port), driverDir],
  dir: driverDir,
});

describe.runIf(run)("sandboxed drivers (bubblewrap + seccomp)", () => {
  it("the sandbox is available (RTT_REQUIRE_SANDBOX=1 fails here when it is not)", () => {
    expect(probe.ok, probe.ok ? "" : probe.reason).toBe(true);
  });

  // The Node permission layer hides /proc/net from a Node driver: the python probes below show only `lo` exists.
  it("a Node driver cannot reach 127.0.0.1 over TCP, cannot write outside its tmp dir, can write inside", async () => {
    const r = await runOnce(nodeProbe("node-probe"));
    expect(r.sandboxed).toBe(true);
    expect(r.code, r.stderr).toBe(0);
    expect(r.result.connect).toBe("EPERM"); // seccomp: socket(AF_INET) refused
    expect(r.result.writeTmp).toBe("ok");
    expect(readFileSync(join(r.tmp, "written.txt"), "utf8")).toBe("inside");
    // Node's permission model refuses first (the second layer); the mount is read-only below it.
    expect(r.result.writeDir).toBe("ERR_ACCESS_DENIED");
    expect(r.result.writeRoot).toBe("ERR_ACCESS_DENIED");
    expect(r.result.readEtcPasswd).toBe("ERR_ACCESS_DENIED");
    expect(r.result.childProcess).toBe("ERR_ACCESS_DENIED");
    expect(existsSync(join(driverDir, "escaped.txt"))).toBe(false);
    // The environment is the allowlist only (PWD is bwrap's, from --chdir).
    expect(Object.keys(r.result.env as object).sort()).toEqual(["HOME", "LANG", "PATH", "PWD", "TMPDIR"]);
    expect(r.result.uid).toBe(probe.ok && probe.userns ? 65534 : 0);
  });

  it("the filesystem is read-only outside the tmp dir (EROFS from the mount, no permission layer: python)", async () => {
    const r = await runOnce(pyProbe("py-probe"));
    expect(r.code, r.stderr).toBe(0);
    const w = r.result.writes as Record<string, string>;
    expect(w.tmp).toBe("ok");
    expect(["EROFS", "EACCES"]).toContain(w.driverDir);
    expect(["EROFS", "EACCES"]).toContain(w.usr);
    expect(["EROFS", "EACCES"]).toContain(w.root);
    expect(w.etcPasswd).toBe("ENOENT"); // not even there: /etc holds only the loader's files
  });

  it("seccomp denies socket() for AF_INET, AF_INET6, AF_NETLINK, AF_PACKET; AF_UNIX works", async () => {
    const r = await runOnce(pyProbe("py-seccomp"));
    expect(r.result.sockets).toEqual({
      inet: "EPERM",
      inet6: "EPERM",
      netlink: "EPERM",
      packet: "EPERM",
      unix: "ok",
      unixpair: "ok",
      inetpair: "EPERM",
    });
    expect(r.result.unshare).toBe("EPERM");
  });

  it("without seccomp the network namespace still isolates: sockets open, 127.0.0.1 is another host, only lo", async () => {
    const r = await runOnce(pyProbe("py-netns"), { seccomp: false });
    const s = r.result.sockets as Record<string, string>;
    expect(s.inet).toBe("ok");
    expect(["ECONNREFUSED", "ENETUNREACH"]).toContain(r.result.connect);
    expect(r.result.interfaces).toEqual(["lo"]);
  });

  it('sandbox: "none" runs unsandboxed, logged, with the Node permission layer still on', async () => {
    const logs: string[] = [];
    const r = await runOnce(nodeProbe("node-none", { sandbox: "none" }), { log: (l) => logs.push(l) });
    expect(r.sandboxed).toBe(false);
    expect(logs.join("\n")).toMatch(/node-none runs UNSANDBOXED/);
    expect(r.result.writeDir).toBe("ERR_ACCESS_DENIED");
    expect(r.result.writeTmp).toBe("ok");
    // Node 20's permission model does not restrict the network: that is why it is only a second layer.
    expect(r.result.connect).toBe("ok");
  });

  it("start-up overhead of the sandbox, beside a plain spawn of the same driver", async () => {
    const spec: DriverProcessSpec = {
      name: "startup",
      kind: "node",
      command: "probe.mjs",
      args: ["0", driverDir, "quick"],
      dir: driverDir,
    };
    const tmp = makeDriverTmp("startup", root);
    const firstByte = (start: () => ReturnType<typeof spawnDriver>["child"]) =>
      new Promise<number>((resolve) => {
        const t0 = performance.now();
        const c = start();
        c.stdout?.once("data", () => resolve(performance.now() - t0));
        c.stdout?.resume();
      });
    const plain: number[] = [];
    const boxed: number[] = [];
    for (let i = 0; i < 7; i++) {
      plain.push(
        await firstByte(() =>
          spawn(process.execPath, [join(driverDir, "probe.mjs"), "0", driverDir, "quick"], {
            env: driverEnv(spec, tmp),
            cwd: driverDir,
          }),
        ),
      );
      boxed.push(await firstByte(() => spawnDriver(spec, tmp, { tmpRoot: root }).child));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    console.log(
      `sandbox start-up: plain node ${median(plain).toFixed(1)} ms, bwrap+seccomp+permission ${median(boxed).toFixed(1)} ms (medians of 7)`,
    );
    expect(median(boxed)).toBeLessThan(median(plain) + 1000);
  });
});

describe("missing bubblewrap", () => {
  it("refuses to run a sandboxed driver, with a clear error; never falls back", () => {
    const tmp = makeDriverTmp("nobwrap", root);
    let err: unknown;
    try {
      spawnDriver(nodeProbe("nobwrap"), tmp, { bwrapPath: "/nonexistent/bwrap" });
    } catch (e) {
      err = e;
    }
    expect(isFabricError(err) && err.code).toBe("RTT_FABRIC_SANDBOX");
    expect((err as Error).message).toMatch(/bubblewrap not found at \/nonexistent\/bwrap/);
    expect((err as Error).message).toMatch(/sandbox: "none"/);
  });
});

const NODE_PROBE = `
import { execSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
const [port, dir, mode] = process.argv.slice(2);
if (mode === "quick") { process.stdout.write("{}\\n"); process.exit(0); }
const code = (f) => { try { f(); return "ok"; } catch (e) { return e.code ?? String(e); } };
const out = { env: { ...process.env }, uid: process.getuid() };
out.writeTmp = code(() => writeFileSync(process.env.TMPDIR + "/written.txt", "inside"));
out.writeDir = code(() => writeFileSync(dir + "/escaped.txt", "x"));
out.writeRoot = code(() => writeFileSync("/escaped.txt", "x"));
out.readEtcPasswd = code(() => readFileSync("/etc/passwd"));
out.childProcess = code(() => execSync("true"));
out.connect = await new Promise((resolve) => {
  const s = net.connect(Number(port), "127.0.0.1");
  s.on("connect", () => { s.destroy(); resolve("ok"); });
  s.on("error", (e) => resolve(e.code));
});
process.stdout.write(JSON.stringify(out) + "\\n");
`;

const PY_PROBE = `
import errno, json, os, socket, sys
port, d = int(sys.argv[1]), sys.argv[2]
def code(f):
    try:
        f()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def sock(fam, typ):
    return lambda: socket.socket(fam, typ).close()
def write(p):
    def f():
        with open(p, "w") as fh:
            fh.write("x")
    return f
def connect():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(("127.0.0.1", port))
    s.close()
def unshare():
    os.unshare(os.CLONE_NEWUSER)
out = {
    "sockets": {
        "inet": code(sock(socket.AF_INET, socket.SOCK_STREAM)),
        "inet6": code(sock(socket.AF_INET6, socket.SOCK_STREAM)),
        "netlink": code(sock(socket.AF_NETLINK, socket.SOCK_RAW)),
        "packet": code(sock(socket.AF_PACKET, socket.SOCK_RAW)),
        "unix": code(sock(socket.AF_UNIX, socket.SOCK_STREAM)),
        "unixpair": code(lambda: [s.close() for s in socket.socketpair(socket.AF_UNIX)]),
        "inetpair": code(lambda: [s.close() for s in socket.socketpair(socket.AF_INET)]),
    },
    "connect": code(connect),
    "interfaces": sorted(l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]),
    "writes": {
        "tmp": code(write(os.environ["TMPDIR"] + "/py.txt")),
        "driverDir": code(write(d + "/escaped.txt")),
        "usr": code(write("/usr/escaped.txt")),
        "root": code(write("/escaped.txt")),
        "etcPasswd": code(lambda: open("/etc/passwd").read()),
    },
    "unshare": code(unshare) if hasattr(os, "unshare") else "EPERM",
}
print(json.dumps(out))
`;
