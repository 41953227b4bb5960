// Shared plumbing for the browser tests and the replay-UI bench: start the real `rtt serve --demo`
// as a child process, launch Debian's Chromium through playwright-core, save screenshots.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect } from "vitest";

export const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
export const CHROMIUM = process.env.RTT_CHROMIUM ?? "/usr/bin/chromium";
export const CLI = join(ROOT, "packages/cli/dist/bin/rtt.js");
export const WEB_DIST = join(ROOT, "packages/web/dist/index.html");
export const ARTIFACTS = join(ROOT, "test-artifacts");

/** Why the browser tests cannot run here, or null when they can. Printed by the tests when they skip. */
export function unavailableReason(): string | null {
  if (!existsSync(CHROMIUM)) return `Chromium not found at ${CHROMIUM} (install it: apt-get install -y chromium)`;
  if (process.env.RTT_E2E_URL) return null;
  if (!existsSync(CLI)) return `the CLI is not built (${CLI} missing): run npm run build`;
  return null;
}

/** Newest modification time of the files a web build reads. */
function newestWebSource(): number {
  const dir = join(ROOT, "packages/web/src");
  const files = [
    join(ROOT, "packages/web/index.html"),
    ...readdirSync(dir, { recursive: true }).map((f) => join(dir, String(f))),
  ];
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

/** Build packages/web when its dist is missing or older than its sources (the server serves it at `/`). */
export function ensureWebBuilt(): void {
  if (existsSync(WEB_DIST) && statSync(WEB_DIST).mtimeMs >= newestWebSource()) return;
  const r = spawnSync("npm", ["run", "build", "-w", "packages/web"], { cwd: ROOT, encoding: "utf8", stdio: "pipe" });
  if (r.status !== 0) throw new Error(`web build failed:\n${r.stdout}\n${r.stderr}`);
}

export interface RunningServer {
  url: string;
  stop: () => Promise<void>;
  output: () => string;
}

/**
 * `rtt serve --demo --port 0 --db <tmp>`; resolves with the URL it prints. RTT_E2E_URL points the tests at an
 * already running server instead (nothing is started or stopped then).
 */
export async function startServer(extraArgs: string[] = [], timeoutMs = 90_000): Promise<RunningServer> {
  if (process.env.RTT_E2E_URL && extraArgs.length === 0) {
    const url = process.env.RTT_E2E_URL.replace(/\/$/, "");
    return { url, stop: async () => {}, output: () => "" };
  }
  ensureWebBuilt();
  const dir = mkdtempSync(join(tmpdir(), "rtt-e2e-"));
  const args = [
    CLI,
    "serve",
    "--demo",
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--db",
    join(dir, "rtt.db"),
    ...extraArgs,
  ];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`rtt serve printed no URL within ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /https?:\/\/(?:127\.0\.0\.1|localhost|\[::1\]|0\.0\.0\.0):\d+/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[0].replace("0.0.0.0", "127.0.0.1"));
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`rtt serve exited with ${code} before listening:\n${out}`));
    });
  });
  // Keep draining output so the child never blocks on a full pipe.
  child.stdout!.on("data", (b: Buffer) => {
    if (out.length < 200_000) out += b.toString();
  });
  return {
    url,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"],
  });
}

export interface FreshPage {
  page: Page;
  context: BrowserContext;
  /** Uncaught page errors and console errors (other than 404s) seen so far. */
  errors: string[];
}

/**
 * A page in a context of its own (no cookies, storage or history from another test), so each test starts from
 * nothing and runs alone with `-t`. Close it with `context.close()`.
 */
export async function freshPage(browser: Browser): Promise<FreshPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/404|Not Found/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return { page, context, errors };
}

export function artifactPath(name: string): string {
  const dir = join(ARTIFACTS, "e2e");
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

/** What a suite of chromiumSuite shares: one server and browser, and the current test's fresh page. */
export interface ChromiumUi extends FreshPage {
  server: RunningServer;
  browser: Browser;
}

export interface ChromiumSuiteOptions {
  /** Names the suite in the warning printed when it is skipped ("[e2e] <label> browser tests skipped: …"). */
  label: string;
  /** Extra `rtt serve` arguments, computed when the suite starts. */
  serverArgs?: () => string[];
  /** Runs after the browser is closed and the server stopped. */
  teardown?: () => void;
  /** Page errors a test may end with; any other fails it. */
  allowedErrors?: RegExp;
}

/**
 * `describe(name, fn)` against a real server in Chromium, skipped with a warning when unavailableReason() says so.
 * The server and the browser are shared; each test gets a page of its own (see freshPage) in `ui`, closed after it,
 * and ends without page errors. Hooks that `fn` adds run after these (beforeAll: once the server and browser are up).
 */
export function chromiumSuite(name: string, opts: ChromiumSuiteOptions, fn: (ui: ChromiumUi) => void): void {
  const reason = unavailableReason();
  if (reason) console.warn(`[e2e] ${opts.label} browser tests skipped: ${reason}`);
  describe.skipIf(reason !== null)(name, () => {
    const ui = {} as ChromiumUi;
    beforeAll(async () => {
      ui.server = await startServer(opts.serverArgs?.());
      ui.browser = await launchChromium();
    }, 120_000);
    afterAll(async () => {
      await ui.browser?.close();
      await ui.server?.stop();
      opts.teardown?.();
    });
    beforeEach(async () => {
      Object.assign(ui, await freshPage(ui.browser));
    });
    afterEach(async () => {
      await ui.context?.close();
      const { allowedErrors } = opts;
      expect(allowedErrors ? ui.errors.filter((e) => !allowedErrors.test(e)) : ui.errors).toEqual([]);
    });
    fn(ui);
  });
}
