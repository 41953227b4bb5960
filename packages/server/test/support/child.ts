import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

export interface Child {
  proc: ChildProcess;
  url: string;
  stderr: () => string;
}

/** Starts the server from sources in a separate process (so it can be SIGKILLed); resolves once listening. */
export function spawnServer(opts: Record<string, unknown>, timeoutMs = 30_000): Promise<Child> {
  const proc = spawn(
    process.execPath,
    ["--import", join(here, "register.mjs"), join(here, "child-server.mjs"), JSON.stringify(opts)],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let err = "";
  proc.stderr?.on("data", (c: Buffer) => {
    err += c.toString();
  });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`child server did not start in ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    proc.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        resolve({ proc, url: JSON.parse(out.slice(0, nl)).url, stderr: () => err });
      }
    });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`child server exited with ${code} before listening: ${err}`));
    });
  });
}

export function waitExit(proc: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (proc.exitCode !== null || proc.signalCode !== null)
    return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  return new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal })));
}
