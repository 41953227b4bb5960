// Runs the Python SDK's unittest suite (sdk-python/tests) against a real diagnostics server, and
// checks `pip install ./sdk-python` gives a working package that runs the seeds' Python snippets.
// Skipped, with the reason printed, when python3 is missing.
import { execFile, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDiagnosticsServer, type TestServer } from "./helpers/diagnostics-server.js";

const run = promisify(execFile);

/** Async child process: the server under test lives in THIS process, so spawnSync would starve it. */
function runAsync(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, out });
    });
  });
}
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const SDK_PY = join(ROOT, "sdk-python");
const TOKEN = "py-sdk-test-token-0123";

const probe = spawnSync("python3", ["--version"], { encoding: "utf8" });
const pythonMissing = probe.status !== 0 ? `python3 not runnable (${probe.error?.message ?? probe.stderr})` : undefined;
if (pythonMissing) console.warn(`python-sdk: skipping: ${pythonMissing}`);

let server: TestServer;
beforeAll(async () => {
  if (!pythonMissing) server = await startDiagnosticsServer({ token: TOKEN });
});
afterAll(async () => {
  await server?.close();
});

describe.skipIf(pythonMissing !== undefined)("Python SDK (rtt_sdk)", () => {
  it("passes its unittest suite against the server, with no server test skipped", { timeout: 120_000 }, async () => {
    const { status, out } = await runAsync(
      "python3",
      ["-m", "unittest", "discover", "-v", "-s", join(SDK_PY, "tests")],
      {
        cwd: ROOT,
        env: { ...process.env, RTT_URL: server.url, RTT_TOKEN: TOKEN, PYTHONDONTWRITEBYTECODE: "1" },
        timeoutMs: 110_000,
      },
    );
    expect(status, out).toBe(0);
    expect(out).toMatch(/\nOK\b/);
    expect(out, "a server test was skipped").not.toMatch(/skipped/);
  });

  it("installs with pip and runs the seeds' snippets from the installed package", { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "rtt-pip-"));
    try {
      // Build from a copy so pip's build/ and egg-info never land in the checkout.
      cpSync(SDK_PY, join(dir, "src"), {
        recursive: true,
        filter: (p) => !p.includes("__pycache__") && !p.includes(`${join("src", "tests")}`),
      });
      await run("python3", ["-m", "venv", join(dir, "venv")]);
      const py = join(dir, "venv", "bin", "python");
      await run(py, ["-m", "pip", "install", "--quiet", join(dir, "src")], { timeout: 150_000 });
      const env = { ...process.env, RTT_URL: server.url, RTT_TOKEN: TOKEN, PYTHONPATH: "" };
      for (const seed of ["seed_001_datacenters.py", "seed_002_backend.py"]) {
        const r = await runAsync(py, [join(SDK_PY, "tests", "seeds", seed)], { cwd: dir, env, timeoutMs: 60_000 });
        expect(r.status, `${seed}: ${r.out}`).toBe(0);
      }
      const where = spawnSync(py, ["-c", "import rtt_sdk; print(rtt_sdk.__file__)"], {
        cwd: dir,
        env,
        encoding: "utf8",
      });
      expect(where.stdout).toContain(join(dir, "venv"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
