// The Python fabric stub (sdk-python/rtt_sdk/fabric.py, standard library only) against a real `rtt fabric up`
// (issue 16 item 7): over UDS and TCP, with capability tokens issued here (Python's standard library cannot sign
// Ed25519). Skipped, with the reason printed, when python3 is missing.
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueToken } from "../../packages/fabric/src/caps/token.js";
import { generateKeyPair, writeKeyPair } from "../../packages/fabric/src/trust/keys.js";
import { trustKey } from "../../packages/fabric/src/trust/store.js";
import { type Daemon, type Project, project, route, startDaemon } from "../../packages/fabric/test/daemon/harness.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const probe = spawnSync("python3", ["--version"], { encoding: "utf8" });
const pythonMissing = probe.status !== 0 ? `python3 not runnable (${probe.error?.message ?? probe.stderr})` : undefined;
if (pythonMissing) console.warn(`sdk-python fabric: skipping: ${pythonMissing}`);

const ECHO = "rtt://svc/echo";
const key = generateKeyPair();
let p: Project;
let d: Daemon;

beforeAll(async () => {
  if (pythonMissing) return;
  p = project([route(1, "rtt://app/echo", ECHO)], { [ECHO]: { builtin: "echo", info: true } });
  const w = writeKeyPair(key, join(p.dir, "keys"), "py");
  trustKey(join(p.root, "registry"), w.publicKeyFile);
  d = await startDaemon(p, ["--tcp", "0"], { auth: true });
}, 30_000);
afterAll(async () => {
  await d?.stop();
  p?.cleanup();
});

function python(input: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("python3", [join(ROOT, "sdk-python", "tests", "fabric_stub.py")], {
      cwd: ROOT,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      stderr += s;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

describe.skipIf(pythonMissing !== undefined)("rtt_sdk.fabric (Python stub) against the daemon", () => {
  it("calls a route over UDS (open) and TCP (tx); refusals come back as FabricError codes", async () => {
    const tok = (verb: "open" | "tx") =>
      issueToken({ saddr: "rtt://app/echo", verb, scopes: [], ttlMs: 60_000 }, key.privateKey);
    const r = await python(
      JSON.stringify({
        socket: p.socket,
        tcp: [d.tcp?.host, d.tcp?.port],
        tokens: { uds_open: tok("open"), tcp_tx: tok("tx") },
      }),
    );
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.crc_check).toBe("0xe3069283");
    expect(out.frame_len).toBe(27);
    expect(out.hello).toMatchObject({ daemon: "rtt-fabric", protocol: 1, pid: d.pid });
    expect(out.resolve).toEqual({ route_id: 1, from: "rtt://app/echo", to: ECHO, lane: "uds" });
    expect(out.unopened).toMatch(/^RTT_FABRIC_UNAUTHORIZED: route_id 1 is not open/);
    expect(out.no_token).toMatch(/^RTT_FABRIC_UNAUTHORIZED: .*needs a capability token/);
    expect(out.uds).toEqual([0, 1, 2].map((i) => ({ endpoint: ECHO, request: { i } })));
    // 76,800 bytes out (not JSON: the info echo answers them as base64 inside {endpoint, request})
    expect(out.uds_raw.startsWith(Buffer.from('{"endpoint"').toString("hex"))).toBe(true);
    expect(out.replayed).toMatch(/replayed/);
    expect(out.no_route).toMatch(/^RTT_FABRIC_NO_ROUTE/);
    expect(out.tcp).toEqual({ endpoint: ECHO, request: { over: "tcp" } });
    expect(out.tcp_spent).toMatch(/^RTT_FABRIC_UNAUTHORIZED/);
    expect(out.tcp_2pc).toMatch(/control socket only/);
  }, 60_000);
});
