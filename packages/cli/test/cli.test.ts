import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, ROOT, RTT_BIN } from "./run-cli.js";

let dir: string;
const at = (name: string) => join(dir, name);
const SEED = join(ROOT, "packages/core/test/fixtures/seed");
const FIXED = ["--session-id", "RTT-CLI", "--timestamp", "2026-01-06T00:00:00Z"];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "rtt-cli-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("rtt-validate (the seed's gate)", () => {
  it("accepts the reference v1 and v2 runs with the seed's message", () => {
    for (const spec of ["v1", "v2"]) {
      const file = at(`ref-${spec}.json`);
      expect(cli("rtt", ["run", "--spec", spec, ...FIXED, "--out", file]).code).toBe(0);
      const r = cli("rtt-validate", [file]);
      expect(r.stdout).toBe(`✅ RTT‑Inside Compatible ${spec}\n`);
      expect(r.code).toBe(0);
    }
  });

  it("exits 2 naming the field on a schema failure", () => {
    const log = JSON.parse(cli("rtt", ["run", "--spec", "v1", ...FIXED]).stdout);
    delete log.scores;
    writeFileSync(at("no-scores.json"), JSON.stringify(log));
    const r = cli("rtt-validate", [at("no-scores.json")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("❌ Schema validation failed");
    expect(r.stderr).toContain("/scores: missing required property 'scores'");
  });

  it("exits 2 naming sample and field on a reference mismatch", () => {
    const log = JSON.parse(cli("rtt", ["run", "--spec", "v1", ...FIXED]).stdout);
    log.samples[3].D = 0.5;
    writeFileSync(at("drift.json"), JSON.stringify(log));
    const r = cli("rtt-validate", [at("drift.json")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("reference test mismatch");
    expect(r.stderr).toContain(
      "Mismatch at sample 3, field D: got 0.5, expected 0.99970003 (/samples/3/D [REF_VALUE_MISMATCH])",
    );
  });

  it("prints the seed's reason wording: Sample length mismatch: got 2, expected 4", () => {
    const log = JSON.parse(cli("rtt", ["run", "--spec", "v1", ...FIXED]).stdout);
    log.samples = log.samples.slice(0, 2);
    log.sample_count = 2;
    writeFileSync(at("short.json"), JSON.stringify(log));
    const r = cli("rtt-validate", [at("short.json")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("⚠️ Schema OK, but reference test mismatch:\nSample length mismatch: got 2, expected 4");
  });

  it("passes a seed-valid log that breaks only the project's rules, printing them as warnings; --strict refuses it", () => {
    const log = JSON.parse(cli("rtt", ["run", "--spec", "v2", ...FIXED]).stdout);
    log.operator_id = "alice";
    log.sample_count = 99;
    log.extensions = ["WARP"];
    writeFileSync(at("project-rules.json"), JSON.stringify(log));
    const r = cli("rtt-validate", [at("project-rules.json")]);
    expect(r.stdout).toBe("✅ RTT‑Inside Compatible v2\n");
    expect(r.code).toBe(0);
    for (const code of ["OPERATOR_ID_NOT_URN", "COUNT_MISMATCH", "EXTENSION_UNKNOWN"])
      expect(r.stderr).toContain(`[${code}]`);
    const strict = cli("rtt-validate", ["--strict", at("project-rules.json")]);
    expect(strict.code).toBe(2);
    expect(strict.stdout).toBe("");
    expect(strict.stderr).toContain("❌ Strict validation failed (--strict):");
    expect(strict.stderr).toContain("[OPERATOR_ID_NOT_URN]");
  });

  it("passes a v1 log whose t goes backwards with a RESONANCE_TIME_SLIP warning (not conformant: reference mismatch)", () => {
    const log = JSON.parse(readFileSync(join(SEED, "section4_example_v1.json"), "utf8"));
    log.samples.push({ t: 0.05, C: 0.12, D: 0.998, Q: 0.5, R: 0 });
    writeFileSync(at("slip.json"), JSON.stringify(log));
    const r = cli("rtt", ["validate", at("slip.json")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("warning /samples/2/t: t must not decrease");
    expect(r.stdout).toContain("RESONANCE_TIME_SLIP, severity 5");
    expect(cli("rtt", ["validate", "--strict", at("slip.json")]).code).toBe(2);
  });

  it("exits 1 on usage errors, unreadable files and non-JSON", () => {
    expect(cli("rtt-validate", []).code).toBe(1);
    expect(cli("rtt-validate", [at("missing.json")]).stderr).toContain("cannot read (ENOENT)");
    writeFileSync(at("garbage.json"), "{not json");
    const r = cli("rtt-validate", [at("garbage.json")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("not JSON");
  });
});

describe("rtt run", () => {
  it("is byte-identical for the same --session-id and --timestamp", () => {
    const a = cli("rtt", ["run", ...FIXED]).stdout;
    expect(cli("rtt", ["run", ...FIXED]).stdout).toBe(a);
    const log = JSON.parse(a);
    expect(log.segments.map((s: { label: string }) => s.label)).toEqual(["warmup", "main"]);
    expect(log.sample_count).toBe(6);
  });

  it("honours --steps and --dt and rejects bad values with exit 1", () => {
    const log = JSON.parse(cli("rtt", ["run", "--spec", "v1", "--steps", "10", "--dt", "0.5", ...FIXED]).stdout);
    expect(log.samples).toHaveLength(11);
    expect(log.samples[10].t).toBeCloseTo(5, 12);
    const bad = cli("rtt", ["run", "--dt", "fast"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--dt must be a finite number");
    expect(cli("rtt", ["run", "--spec", "v9"]).code).toBe(1);
  });
});

describe("rtt run --scenario", () => {
  const run = (...args: string[]) => cli("rtt", ["run", "--scenario", "COMT_STEP_03", "--compact", ...args]);

  it("is byte-identical for the same scenario, policy and seed, and valid under strict labels", () => {
    const a = run("--policy", "novice", "--seed", "7");
    expect(a.code).toBe(0);
    expect(run("--policy", "novice", "--seed", "7").stdout).toBe(a.stdout);
    expect(cli("rtt", ["validate", "-", "--strict-labels"], a.stdout).code).toBe(0);
  });

  it("separates a novice from an expert by score and anomalies", () => {
    const novice = JSON.parse(run("--policy", "novice", "--seed", "7").stdout);
    const expert = JSON.parse(run("--policy", "expert", "--seed", "7").stdout);
    expect(expert.score_final).toBeGreaterThan(novice.score_final);
    expect(novice.anomaly_count).toBeGreaterThan(expert.anomaly_count);
    expect(novice.operator_id ?? expert.operator_id ?? "urn:operator:x").toMatch(/^urn:operator:/);
  });

  it("records the operator and rejects bad options with exit 1", () => {
    const log = JSON.parse(run("--operator", "urn:operator:triadic:alice.smith").stdout);
    expect(log.operator_id).toBe("urn:operator:triadic:alice.smith");
    expect(cli("rtt", ["run", "--scenario", "NOPE"]).stderr).toContain("unknown scenario");
    expect(run("--policy", "genius").code).toBe(1);
    expect(cli("rtt", ["run", "--policy", "novice"]).stderr).toContain("--policy needs --scenario");
  });
});

describe("rtt validate", () => {
  it("streams NDJSON from stdin with per-line verdicts and a summary", () => {
    const good = cli("rtt", ["run", "--compact", ...FIXED]).stdout.trim();
    const bad = JSON.stringify({ ...JSON.parse(good), mode: "PLAY" });
    const r = cli("rtt", ["validate", "-"], [good, bad, good, "oops"].join("\n"));
    expect(r.stdout).toContain("stdin:2 (RTT-CLI)");
    expect(r.stdout).toContain('/mode: expected one of "TRAINING", "LIVE", "REPLAY", found "PLAY"');
    expect(r.stdout).toContain("stdin:4: not JSON");
    expect(r.stdout).toMatch(/^2 passed, 2 failed$/m);
    expect(r.code).toBe(1);
  });

  it("accepts a pretty-printed log piped from rtt run", () => {
    const r = cli("rtt", ["validate", "-", "--conformance", "--strict-labels"], cli("rtt", ["run", ...FIXED]).stdout);
    expect(r.stdout).toBe("1 passed, 0 failed\n");
    expect(r.code).toBe(0);
  });

  it("exits 2 when logs are JSON but invalid, and reports JSON on request", () => {
    const log = JSON.parse(cli("rtt", ["run", ...FIXED]).stdout);
    log.anomaly_count = 3;
    writeFileSync(at("counts.ndjson"), `${JSON.stringify(log)}\n`);
    // A count inconsistency is the project's rule, not the seed's: a warning, an error under --strict.
    const lax = JSON.parse(cli("rtt", ["validate", at("counts.ndjson"), "--format", "json"]).stdout);
    expect(lax).toMatchObject({ passed: 1, failed: 0 });
    expect(lax.results[0].warnings[0]).toMatchObject({ code: "COUNT_MISMATCH", path: "/anomaly_count" });
    const r = cli("rtt", ["validate", at("counts.ndjson"), "--strict", "--format", "json"]);
    expect(r.code).toBe(2);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ passed: 0, failed: 1 });
    expect(report.results[0].errors[0]).toMatchObject({ code: "COUNT_MISMATCH", path: "/anomaly_count" });
  });

  it("validates many files and an empty one", () => {
    writeFileSync(at("empty.ndjson"), "");
    const r = cli("rtt", ["validate", at("ref-v1.json"), at("ref-v2.json"), at("empty.ndjson")]);
    expect(r.stdout).toContain("empty input");
    expect(r.stdout).toMatch(/^2 passed, 1 failed$/m);
    expect(r.code).toBe(1);
  });
});

describe("rtt upgrade", () => {
  it("turns a v1 log into a valid v2 log on stdout", () => {
    const r = cli("rtt", ["upgrade", at("ref-v1.json")]);
    expect(r.code).toBe(0);
    const v2 = JSON.parse(r.stdout);
    expect(v2.spec_version).toBe("v2");
    expect(v2.segments[0].samples).toEqual(JSON.parse(readFileSync(at("ref-v1.json"), "utf8")).samples);
    expect(cli("rtt", ["validate", "-", "--strict-labels"], r.stdout).code).toBe(0);
  });

  it("upgrades the seed's §4 common log and a conformant v1 log to v2 logs that pass both tools (issue 19: 3)", () => {
    const common = cli("rtt", ["upgrade", join(SEED, "section4_example_v1.json")]);
    expect(common.code).toBe(0);
    writeFileSync(at("common-v2.json"), common.stdout);
    const v = cli("rtt", ["validate", at("common-v2.json")]);
    expect(v.code).toBe(0);
    expect(v.stdout).not.toMatch(/✗/);
    // Its anomaly at t=6.2 lies outside the samples [0, 0.1]: the same warning before and after the upgrade.
    expect(cli("rtt", ["validate", join(SEED, "section4_example_v1.json")]).stdout).toContain("ANOMALY_OUT_OF_SEGMENT");
    const up = cli("rtt", ["upgrade", at("ref-v1.json")]);
    writeFileSync(at("ref-v1-up.json"), up.stdout);
    expect(cli("rtt-validate", [at("ref-v1.json")]).stdout).toBe("✅ RTT‑Inside Compatible v1\n");
    const r = cli("rtt-validate", ["--strict", at("ref-v1-up.json")]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("✅ RTT‑Inside Compatible v2\n");
    expect(r.code).toBe(0);
  });

  it("refuses a v2 log and an invalid log", () => {
    expect(cli("rtt", ["upgrade", at("ref-v2.json")]).stderr).toContain("already a v2 log");
    expect(cli("rtt", ["upgrade", at("no-scores.json")]).code).toBe(2);
  });
});

describe("rtt", () => {
  it("stops quietly when the reader of its output leaves (rtt … | head)", async () => {
    // A long run: megabytes of output, far more than one pipe buffer, so writes continue after the reader left.
    const child = spawn(process.execPath, [RTT_BIN, "run", "--steps", "50000"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });

  it("serve outlives a closed stdout: the Loki feed stops, the server keeps answering", async () => {
    const child = spawn(process.execPath, [RTT_BIN, "serve", "--port", "0", "--db", ":memory:"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, RTT_LOG_LEVEL: "warn" },
    });
    try {
      let stderr = "";
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.on("data", (c) => {
          stderr += c;
          const m = /http:\/\/127\.0\.0\.1:\d+/.exec(stderr);
          if (m) resolve(m[0]);
        });
        child.once("exit", (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
      });
      child.stdout.destroy(); // the collector reading the feed went away
      for (let i = 0; i < 3; i++) expect((await fetch(`${url}/run/v2`, { method: "POST" })).status).toBe(200);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect(child.exitCode).toBeNull();
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  }, 60_000);

  it("prints help and fails on an unknown command", () => {
    expect(cli("rtt", ["--help"]).stdout).toContain("validate");
    const r = cli("rtt", ["frobnicate"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unknown command");
  });
});
