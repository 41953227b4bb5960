// The UI against a server started with --token-file: it asks for the token once, then every view works — including
// the SSE stream, which cannot carry an Authorization header and relies on the session cookie.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  artifactPath,
  freshPage,
  launchChromium,
  type RunningServer,
  startServer,
  unavailableReason,
} from "./harness.js";

const reason = unavailableReason();
if (reason) console.warn(`[e2e] sign-in browser tests skipped: ${reason}`);

describe.skipIf(reason !== null)("sign-in on a token server, in Chromium", () => {
  const TOKEN = "e2e-write-token-0123456789abcdef";
  let server: RunningServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let dir: string;
  const testid = (id: string) => page.locator(`[data-testid="${id}"]`);
  const signIn = async (token: string) => {
    await testid("signin").locator("input").fill(token);
    await testid("signin").locator("button").click();
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "rtt-e2e-token-"));
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, `${TOKEN}\n`);
    server = await startServer(["--token-file", tokenFile]);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // Each test starts signed out, in a context of its own.
  beforeEach(async () => {
    ({ page, context, errors } = await freshPage(browser));
  });
  afterEach(async () => {
    await context?.close();
    expect(errors.filter((e) => !/401|Unauthorized/.test(e))).toEqual([]);
  });

  it("asks for the token, refuses a wrong one, and shows the sessions after the right one", async () => {
    expect((await fetch(`${server.url}/replay/sessions`)).status).toBe(401);
    await page.goto(`${server.url}/`);
    await testid("signin").waitFor();
    await page.screenshot({ path: artifactPath("signin.png") });
    await signIn(`${TOKEN}x`);
    await page.getByText("That token is not accepted.").waitFor();

    await signIn(TOKEN);
    await testid("session-row").first().waitFor();
    expect(await testid("signin").count()).toBe(0);
  });

  it("plays a replay over SSE with the session cookie", async () => {
    await page.goto(`${server.url}/`);
    await signIn(TOKEN);
    await testid("session-row").first().click();
    await testid("open-replay").click();
    await page.locator('[data-testid="plots-drawn"][data-drawn="true"]').waitFor();
    const before = Number(await testid("inspector-t").textContent());
    await testid("play").click();
    await page.waitForFunction(
      (t0) => Number(document.querySelector('[data-testid="inspector-t"]')?.textContent) > t0,
      before,
    );
    await testid("play").click();
  });
});
