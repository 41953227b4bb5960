import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { badgeCommand, conformanceCommand } from "../src/commands/conformance.js";
import { checkCaseFile, loadCases, runConformanceKit } from "../src/conformance-kit/index.js";

/** A temporary folder removed when the test that made it ends. */
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const fixtures = fileURLToPath(new URL("./fixtures/conformance/", import.meta.url));
const impl = (mode: string) => [process.execPath, join(fixtures, "impl.mjs"), mode];
const small = loadCases(join(fixtures, "cases-small.json"));

function capture() {
  let out = "";
  let err = "";
  return {
    io: {
      out: (s: string) => {
        out += s;
      },
      err: (s: string) => {
        err += s;
      },
    },
    get: () => ({ out, err }),
  };
}

describe("rtt conformance harness", () => {
  it("the default case set is well formed and covers the issue's list", () => {
    const cases = loadCases();
    const ids = cases.cases.map((c) => c.id);
    expect(ids).toContain("v1-reference-vector");
    expect(cases.cases.some((c) => c.steps === 0)).toBe(true);
    expect(cases.cases.some((c) => c.steps === 1)).toBe(true);
    expect(cases.cases.some((c) => (c.steps ?? 0) >= 100_000)).toBe(true);
    expect(cases.cases.some((c) => c.segments?.length === 1)).toBe(true);
    expect(cases.cases.some((c) => (c.segments?.length ?? 0) > 1)).toBe(true);
    expect(checkCaseFile({ cases: [{ id: "a", spec_version: "v3", session: {} }] })).toEqual([
      '/cases/0/spec_version: must be "v1" or "v2"',
    ]);
  });

  it("passes a right implementation on every default case, with the exact summary line and exit 0", async () => {
    const c = capture();
    const code = await conformanceCommand(impl("right"), {}, c.io);
    const { out } = c.get();
    expect(out).toMatch(/^10 passed, 0 failed$/m);
    expect(out).not.toMatch(/^FAIL/m);
    expect(code).toBe(0);
  });

  it("fails an implementation off by 1e-6, naming case, sample and field", async () => {
    const c = capture();
    const code = await conformanceCommand(impl("off-by-1e-6"), {}, c.io);
    const { out } = c.get();
    expect(code).toBe(2);
    expect(out).toMatch(/^0 passed, 10 failed$/m);
    expect(out).toMatch(
      /^FAIL v1-reference-vector: .*sample 2, field D: expected 0\.999800010*1, found 0\.999801010*1/m,
    );
    expect(out).toContain("at /samples/2/D");
    expect(out).toMatch(/^FAIL v2-multi-segment: segment 0 \(warmup\): mismatch at sample 2, field D/m);
    expect(out).toContain("at /segments/0/samples/2/D");
  });

  it("fails garbage output as not JSON", async () => {
    const report = await runConformanceKit({ command: impl("garbage"), cases: small });
    expect(report.results.map((r) => r.status)).toEqual(["fail", "fail"]);
    expect(report.results[0].message).toMatch(/^reply is not JSON .*hello, this is not json/);
    // An implementation that failed itself gets its stderr attached (judged by the reply, not by the message text).
    expect(report.results[0]).toHaveProperty("stderr");
    expect(report.results[0]).not.toHaveProperty("implementationFailed");
  });

  it("reports an implementation that exits early with its exit code and stderr, and restarts it", async () => {
    const report = await runConformanceKit({ command: impl("exit-early"), cases: small });
    // The first case of each (re)started process is answered; here the process dies on the second case.
    expect(report.results[0].status).toBe("pass");
    expect(report.results[1].status).toBe("fail");
    expect(report.results[1].message).toBe("the implementation exited (code 3) before replying");
    expect(report.results[1].stderr).toContain("fatal: out of resonance");
  });

  it("times out a hanging implementation, kills it and reports its stderr", async () => {
    const t0 = Date.now();
    const report = await runConformanceKit({ command: impl("hang"), cases: small, timeoutMs: 1500 });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(report.failed).toBe(2);
    expect(report.results[0].message).toBe("no reply within 1500 ms (timeout); the implementation was killed");
    expect(report.results[0].stderr).toContain("hang: got case ref");
    expect(report.results[1].stderr).toContain("hang: got case v2-two");
  });

  it("treats {errored} as a failure and {skipped} as a failure unless skips are allowed", async () => {
    const errored = await runConformanceKit({ command: impl("errored"), cases: small });
    expect(errored.results[0].message).toBe("implementation errored: engine not implemented");
    expect(errored.results[0]).toHaveProperty("stderr");
    const strict = await runConformanceKit({ command: impl("skip-v2"), cases: small });
    expect(strict.results.map((r) => r.status)).toEqual(["pass", "skip"]);
    expect(strict.results[0]).not.toHaveProperty("stderr");
    expect([strict.passed, strict.failed, strict.ok]).toEqual([1, 1, false]);
    const lenient = await runConformanceKit({ command: impl("skip-v2"), cases: small, allowSkip: true });
    expect([lenient.passed, lenient.failed, lenient.ok]).toEqual([1, 0, true]);
  });

  it("checks that the reply echoes the case's session", async () => {
    const report = await runConformanceKit({ command: impl("wrong-session"), cases: small });
    expect(report.results[0].message).toBe(
      '/session_id: expected "S-1" (from the case\'s session), found "SOMETHING-ELSE"',
    );
  });

  it("reports a command that cannot be started on every case without hanging", async () => {
    const report = await runConformanceKit({ command: ["/nonexistent/rtt-impl"], cases: small });
    expect(report.failed).toBe(2);
    expect(report.results[1].message).toMatch(/^cannot start the implementation: .*ENOENT/);
  });

  it("writes JUnit XML and a JSON report", async () => {
    const dir = tempDir("rtt-conf-");
    const c = capture();
    const code = await conformanceCommand(
      impl("off-by-1e-6"),
      { cases: join(fixtures, "cases-small.json"), junit: join(dir, "j.xml"), json: join(dir, "r.json"), name: "js" },
      c.io,
    );
    expect(code).toBe(2);
    const xml = readFileSync(join(dir, "j.xml"), "utf8");
    expect(xml).toContain('<testsuite name="js" tests="2" failures="2" skipped="0"');
    expect(xml).toMatch(
      /<testcase classname="js" name="ref" time="[\d.]+">\s*<failure message="samples: mismatch at sample 2, field D/,
    );
    const json = JSON.parse(readFileSync(join(dir, "r.json"), "utf8"));
    expect([json.name, json.passed, json.failed]).toEqual(["js", 0, 2]);
  });

  it("rejects a bad case file and a missing command as usage errors", async () => {
    const dir = tempDir("rtt-conf-");
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ cases: [{ id: "x", spec_version: "v1", session: {} }] }));
    const c = capture();
    expect(await conformanceCommand(impl("right"), { cases: join(dir, "bad.json") }, c.io)).toBe(1);
    expect(c.get().err).toContain("/cases/0/dt: must be a finite number");
    expect(await conformanceCommand([], {}, c.io)).toBe(1);
  });
});

describe("rtt badge", () => {
  it("prints the badge for a passing log and refuses a failing one", () => {
    const dir = tempDir("rtt-badge-");
    const samples = [
      { t: 0, C: 0.1, D: 1, Q: 0.5, R: 0 },
      { t: 0.1, C: 0.101, D: 0.9999, Q: 0.5, R: 0 },
      { t: 0.2, C: 0.102, D: 0.99980001, Q: 0.5, R: 0 },
      { t: 0.30000000000000004, C: 0.103, D: 0.99970003, Q: 0.5, R: 0 },
    ];
    const log = {
      session_id: "RTT-1",
      timestamp: "2026-01-06T00:00:00Z",
      device: "COMT",
      scenario: "COMT_LOCK_01",
      difficulty: "Journeyman",
      samples,
      anomalies: [],
      scores: { stability: 0, response: 0, quality: 0, final: 0 },
    };
    writeFileSync(join(dir, "ok.json"), JSON.stringify(log));
    const ok = capture();
    expect(badgeCommand(join(dir, "ok.json"), ok.io)).toBe(0);
    expect(ok.get().out).toBe(
      "![RTT-Inside Compatible v1](https://img.shields.io/badge/RTT--Inside-Compatible%20v1-brightgreen)\n",
    );
    samples[3].D += 1e-6;
    writeFileSync(join(dir, "bad.json"), JSON.stringify(log));
    const bad = capture();
    expect(badgeCommand(join(dir, "bad.json"), bad.io)).toBe(2);
    expect(bad.get().err).toContain("/samples/3/D");
  });
});

describe("rtt conformance command line", () => {
  it("passes everything after -- to the implementation, including its own flags", async () => {
    const { Command } = await import("commander");
    const { register } = await import("../src/commands/conformance.js");
    const program = new Command("rtt").exitOverride();
    register(program);
    const writes: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((s: string) => writes.push(String(s)) > 0) as typeof process.stdout.write;
    const saved = process.exitCode;
    try {
      await program.parseAsync(
        ["conformance", "--cases", join(fixtures, "cases-small.json"), "--timeout", "5000", "--", ...impl("skip-v2")],
        { from: "user" },
      );
      expect(process.exitCode).toBe(2);
      await program.parseAsync(
        ["conformance", "--cases", join(fixtures, "cases-small.json"), "--allow-skip", "--", ...impl("skip-v2")],
        { from: "user" },
      );
      expect(process.exitCode).toBe(0);
    } finally {
      process.stdout.write = write;
      process.exitCode = saved;
    }
    const out = writes.join("");
    expect(out).toMatch(/^SKIP v2-two: v2 not supported/m);
    expect(out).toMatch(/^1 passed, 1 failed$/m);
    expect(out).toMatch(/^1 skipped\n1 passed, 0 failed$/m);
  });
});
