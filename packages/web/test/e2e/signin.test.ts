// The UI against a server started with --token-file: it asks for the token once, then every view works — including
// the SSE stream, which cannot carry an Authorization header and relies on the session cookie.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { artifactPath, chromiumSuite } from "./harness.js";

const TOKEN = "e2e-write-token-0123456789abcdef";
let dir: string;
/** A token file in a directory of its own, for `rtt serve --token-file`. */
const tokenFileArgs = () => {
  dir = mkdtempSync(join(tmpdir(), "rtt-e2e-token-"));
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, `${TOKEN}\n`);
  return ["--token-file", tokenFile];
};

// Each test starts signed out, in a context of its own; the pages' 401s before sign-in are expected.
chromiumSuite(
  "sign-in on a token server, in Chromium",
  {
    label: "sign-in",
    serverArgs: tokenFileArgs,
    teardown: () => rmSync(dir, { recursive: true, force: true }),
    allowedErrors: /401|Unauthorized/,
  },
  (ui) => {
    const testid = (id: string) => ui.page.locator(`[data-testid="${id}"]`);
    const signIn = async (token: string) => {
      await testid("signin").locator("input").fill(token);
      await testid("signin").locator("button").click();
    };

    it("asks for the token, refuses a wrong one, and shows the sessions after the right one", async () => {
      expect((await fetch(`${ui.server.url}/replay/sessions`)).status).toBe(401);
      await ui.page.goto(`${ui.server.url}/`);
      await testid("signin").waitFor();
      await ui.page.screenshot({ path: artifactPath("signin.png") });
      await signIn(`${TOKEN}x`);
      await ui.page.getByText("That token is not accepted.").waitFor();

      await signIn(TOKEN);
      await testid("session-row").first().waitFor();
      expect(await testid("signin").count()).toBe(0);
    });

    it("plays a replay over SSE with the session cookie", async () => {
      await ui.page.goto(`${ui.server.url}/`);
      await signIn(TOKEN);
      await testid("session-row").first().click();
      await testid("open-replay").click();
      await ui.page.locator('[data-testid="plots-drawn"][data-drawn="true"]').waitFor();
      const before = Number(await testid("inspector-t").textContent());
      await testid("play").click();
      await ui.page.waitForFunction(
        (t0) => Number(document.querySelector('[data-testid="inspector-t"]')?.textContent) > t0,
        before,
      );
      await testid("play").click();
    });
  },
);
