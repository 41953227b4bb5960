// The seeds' JavaScript snippets, verbatim (test/fixtures/seed-*.mjs), run with plain `node` next to a
// vendored build of the SDK in ./rtt-sdk/ — exactly how seed 002 says to "vendor the RTT SDK" —
// against a real server, with the base URL and token from the environment.
import { execFile, spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDiagnosticsServer, type TestServer } from "./helpers/diagnostics-server.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
const TOKEN = "seed-snippet-token-0123";
let server: TestServer;
let dir: string;

function node(script: string, timeoutMs = 20_000): Promise<{ status: number | null; out: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      cwd: dir,
      env: { ...process.env, RTT_URL: server.url, RTT_TOKEN: TOKEN },
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, out, ms: Date.now() - started });
    });
  });
}

beforeAll(async () => {
  server = await startDiagnosticsServer({ token: TOKEN });
  dir = mkdtempSync(join(tmpdir(), "rtt-seed-js-"));
  // Vendor the SDK: compile packages/sdk/src to <dir>/rtt-sdk/*.js.
  await promisify(execFile)(
    process.execPath,
    [
      join(ROOT, "node_modules/typescript/bin/tsc"),
      "-p",
      join(ROOT, "packages/sdk"),
      "--outDir",
      join(dir, "rtt-sdk"),
      "--composite",
      "false",
      "--incremental",
      "false",
      "--declaration",
      "false",
      "--declarationMap",
      "false",
      "--sourceMap",
      "false",
    ],
    { timeout: 60_000 },
  );
  for (const f of ["seed-001-datacenters.mjs", "seed-002-backend.mjs"]) copyFileSync(join(FIXTURES, f), join(dir, f));
}, 90_000);

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("seed snippets (JavaScript)", () => {
  it("seed 002 backend snippets run and land on the server", async () => {
    const r = await node("seed-002-backend.mjs");
    expect(r.status, r.out).toBe(0);
    expect(await server.store.getProfile("auth-service")).toEqual({
      version: "1.0",
      supports: ["coherence", "drift"],
      contact: "infra@example.com",
    });
    const beacons = await server.store.listBeacons("auth-service", 10);
    expect(beacons.map((b) => b.event)).toEqual(["heartbeat"]);
    expect(beacons[0].session).toMatch(/^srv-\d+$/);
  });

  it("seed 001 client construction works against the server", async () => {
    const r = await node("seed-001-datacenters.mjs");
    expect(r.status, r.out).toBe(0);
  });

  it("a host that only starts a heartbeat exits on its own and sends startup then shutdown", async () => {
    writeFileSync(
      join(dir, "heartbeat-host.mjs"),
      `import { startHeartbeat } from "./rtt-sdk/index.js";
startHeartbeat({ site: "exit-host", intervalMs: 60000, structure: { url: "internal://x", title: "X", nav_count: 0, main_count: 0, form_count: 0, button_count: 0, dom_nodes: 0 } });
`,
    );
    const r = await node("heartbeat-host.mjs");
    expect(r.status, r.out).toBe(0);
    expect(r.ms).toBeLessThan(15_000); // the 60 s timer is unref'd: it does not hold the process
    expect((await server.store.listBeacons("exit-host", 10)).map((b) => b.event)).toEqual(["startup", "shutdown"]);
  });
});
