// Shared by conformance-lang-*.test.ts: builds one spec/v1/examples/<language>/ implementation, runs its native
// unit test, validates its file-mode session log and drives it with `rtt conformance` over the default cases.
// The language's rtt-conformance.json manifest says how (see spec/v1/language_guide.md).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatIssue, validateSessionLog } from "@rtt/core";
import { afterAll, describe, expect, it } from "vitest";
import { formatResult, loadCases, runConformanceKit, summaryLine } from "../src/conformance-kit/index.js";
import { toJUnit } from "../src/conformance-kit/junit.js";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const examplesDir = join(repoRoot, "spec", "v1", "examples");

export interface Manifest {
  language: string;
  /** Programs that must be on PATH; when one is missing the language is skipped (or fails under RTT_CONFORMANCE_REQUIRE_ALL=1). */
  requires: string[];
  version: string[];
  build: string[][];
  test: string[][];
  file: string[];
  session_file: string;
  protocol: string[];
  env?: Record<string, string>;
}

function which(cmd: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? "").split(":").some((d) => d && existsSync(join(d, cmd)));
}

function sh(argv: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 300_000) {
  const r = spawnSync(argv[0], argv.slice(1), { cwd, env, encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 });
  const output = `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? `\n${r.error.message}` : ""}`;
  return { ok: r.status === 0, status: r.status, output };
}

/** Registers the tests of one language. */
export function languageSuite(name: string): void {
  const dir = join(examplesDir, name);
  const manifest = JSON.parse(readFileSync(join(dir, "rtt-conformance.json"), "utf8")) as Manifest;
  const out = resolve(process.env.RTT_CONFORMANCE_BUILD ?? "/tmp/rtt-conformance", name);
  const fill = (s: string) => s.replaceAll("{out}", out).replaceAll("{dir}", dir);
  const argv = (a: string[]) => a.map(fill);
  // The repository's node_modules/.bin is on PATH so the TypeScript example finds the workspace's tsc.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${join(repoRoot, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
    PYTHONDONTWRITEBYTECODE: "1",
  };
  for (const [k, v] of Object.entries(manifest.env ?? {})) env[k] = fill(v);
  const missing = manifest.requires.filter((c) => !which(c, env));
  const requireAll = process.env.RTT_CONFORMANCE_REQUIRE_ALL === "1";
  const status: Record<string, unknown> = { language: manifest.language, dir: name, date: new Date().toISOString() };

  afterAll(() => {
    const artifacts = join(repoRoot, "test-artifacts", "conformance");
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, `${name}.json`), `${JSON.stringify(status, null, 2)}\n`);
  });

  if (missing.length && !requireAll) {
    const reason = `${manifest.language}: skipped, ${missing.join(", ")} not installed`;
    console.warn(`[conformance] ${reason}`);
    status.status = "skipped";
    status.reason = reason;
    describe.skip(`${manifest.language} (${reason})`, () => {
      it("toolchain missing", () => {});
    });
    return;
  }

  describe(`${manifest.language} (spec/v1/examples/${name})`, () => {
    it("has its toolchain", () => {
      expect(missing, `missing toolchain: ${missing.join(", ")}`).toEqual([]);
      const v = sh(argv(manifest.version), dir, env);
      status.toolchain = v.output.trim().split("\n")[0];
    });

    it("builds and passes its own unit test", { timeout: 300_000 }, () => {
      mkdirSync(out, { recursive: true });
      for (const step of [...manifest.build, ...manifest.test]) {
        const r = sh(argv(step), dir, env);
        status.native = r.ok ? "pass" : "fail";
        expect(r.ok, `${step.join(" ")} failed (exit ${r.status}):\n${r.output}`).toBe(true);
      }
    });

    it("writes a valid session log in file mode that passes the reference conformance", { timeout: 60_000 }, () => {
      const r = sh(argv(manifest.file), dir, env, 60_000);
      expect(r.ok, `${manifest.file.join(" ")} failed:\n${r.output}`).toBe(true);
      const log = JSON.parse(readFileSync(fill(manifest.session_file), "utf8"));
      const result = validateSessionLog(log, { conformance: true });
      status.file = result.ok ? "pass" : "fail";
      expect(result.errors.map(formatIssue)).toEqual([]);
    });

    it("passes rtt conformance over the default cases", { timeout: 120_000 }, async () => {
      const report = await runConformanceKit({
        command: argv(manifest.protocol),
        cases: loadCases(),
        cwd: dir,
        env,
        timeoutMs: 30_000,
      });
      status.conformance = { passed: report.passed, failed: report.failed, total: report.results.length };
      status.status = report.ok && status.native === "pass" && status.file === "pass" ? "pass" : "fail";
      writeFileSync(join(out, "junit.xml"), toJUnit(report, manifest.language));
      const failures = report.results.filter((r) => r.status !== "pass").map((r) => formatResult(r));
      expect(failures, summaryLine(report)).toEqual([]);
      expect(summaryLine(report)).toBe(`${report.results.length} passed, 0 failed`);
    });
  });
}
