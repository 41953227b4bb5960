// Shared by the browser benches: a real `rtt serve` on a temporary store, Debian's Chromium, a median.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CHROMIUM = process.env.RTT_CHROMIUM ?? "/usr/bin/chromium";
export const CLI = join(ROOT, "packages/cli/dist/bin/rtt.js");

/** Exits with a message when Chromium, the CLI or the web build is missing. */
export function requireBuilt() {
  for (const [f, why] of [
    [CHROMIUM, "install chromium (apt-get install -y chromium)"],
    [CLI, "run npm run build"],
    [join(ROOT, "packages/web/dist/index.html"), "run npm run build"],
  ]) {
    if (!existsSync(f)) {
      console.error(`missing ${f}: ${why}`);
      process.exit(1);
    }
  }
}

/** `rtt serve --port 0 --db <dir>/rtt.db …extra`; resolves with its URL and the child process. */
export async function startServer(dir, extra = []) {
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--db", join(dir, "rtt.db"), ...extra], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const url = await new Promise((resolve, reject) => {
    const onData = (b) => {
      out += b.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
      if (m) resolve(m[0]);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`rtt serve exited ${code}:\n${out}`)));
  });
  return { url, child };
}

export async function stopServer(server) {
  if (!server || server.child.exitCode !== null) return;
  const exited = new Promise((r) => server.child.once("exit", r));
  server.child.kill("SIGTERM");
  await exited;
}

export const launchChromium = () =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"],
  });

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
