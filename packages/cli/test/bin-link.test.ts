// The newcomer's path (README): after `npm ci` (or `npm run demo`) and the build, `npx rtt …` and
// `npx rtt-validate FILE` work from the repository root. npm links a workspace's bins into node_modules/.bin at
// install, before anything is built, so the bins are small committed shims (packages/cli/bin/) that run dist/.
// A fresh `npm ci` takes minutes, so this checks what it relies on instead: the shims are committed and executable,
// the lockfile (which `npm ci` follows) names them, and the links this install made resolve to them and run.
import { execFileSync, spawnSync } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./run-cli.js";

const BINS = ["rtt", "rtt-validate"] as const;
const cliPackage = JSON.parse(readFileSync(join(ROOT, "packages/cli/package.json"), "utf8")) as {
  bin: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
  packages: Record<string, { bin?: Record<string, string> }>;
};
const dir = mkdtempSync(join(tmpdir(), "rtt-bin-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const npx = (args: string[]) => {
  const r = spawnSync("npx", ["--no-install", ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe("rtt and rtt-validate as README shows them (npx from the repository root)", () => {
  it.each(BINS)("%s: a committed, executable shim that package.json and the lockfile name", (bin) => {
    const shim = `bin/${bin}.js`;
    expect(cliPackage.bin[bin]).toBe(`./${shim}`);
    expect(lock.packages["packages/cli"]?.bin?.[bin], "package-lock.json is stale: run `npm install`").toBe(shim);
    const tracked = execFileSync("git", ["ls-files", "--", `packages/cli/${shim}`], { cwd: ROOT, encoding: "utf8" });
    expect(tracked.trim(), "the shim is committed").toBe(`packages/cli/${shim}`);
    expect(readFileSync(join(ROOT, "packages/cli", shim), "utf8")).toMatch(/^#!\/usr\/bin\/env node\n/);
    accessSync(join(ROOT, "packages/cli", shim), constants.X_OK);
  });

  it.each(BINS)("%s: npm linked it in node_modules/.bin to the shim at install", (bin) => {
    const link = join(ROOT, "node_modules/.bin", bin);
    let target = "";
    try {
      target = realpathSync(link);
    } catch {
      throw new Error(`${link} is missing: this install predates the committed shim, run \`npm install\``);
    }
    expect(target).toBe(realpathSync(join(ROOT, "packages/cli/bin", `${bin}.js`)));
  });

  it("npx rtt --version, npx rtt run, npx rtt-validate FILE", () => {
    const version = npx(["rtt", "--version"]);
    expect(version.stderr).toBe("");
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(version.code).toBe(0);

    const file = join(dir, "run.json");
    const fixed = ["--session-id", "RTT-NPX", "--timestamp", "2026-01-06T00:00:00Z", "--out", file];
    expect(npx(["rtt", "run", "--spec", "v1", ...fixed]).code).toBe(0);
    const validated = npx(["rtt-validate", file]);
    expect(validated.stdout).toBe("✅ RTT‑Inside Compatible v1\n");
    expect(validated.code).toBe(0);
    expect(npx(["rtt-validate", join(dir, "missing.json")]).code).toBe(1);
  });
});
