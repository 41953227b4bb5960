import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import Fastify from "fastify";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
// The `rtt ctf` command group lives in the CLI package; it is exercised here in-process.
import { register } from "../../cli/src/commands/ctf.js";
import { ctfPlugin, seedDemoTraces } from "../../server/src/ctf/index.js";

const TRACES = join(import.meta.dirname, "../../../examples/agent/traces");
const steady = join(TRACES, "boiling-point-steady.ctf");
const flaky = join(TRACES, "boiling-point-flaky.ctf");
const dir = mkdtempSync(join(tmpdir(), "rtt-ctf-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let out: string;
let err: string;
beforeEach(() => {
  out = "";
  err = "";
  process.exitCode = undefined;
  vi.spyOn(process.stdout, "write").mockImplementation((s) => {
    out += String(s);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((s) => {
    err += String(s);
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

async function rtt(...args: string[]): Promise<number> {
  const program = new Command().exitOverride();
  register(program);
  await program.parseAsync(["ctf", ...args], { from: "user" });
  return Number(process.exitCode ?? 0);
}

describe("rtt ctf", () => {
  it("validate: 0 for a valid trace, 2 with line/field for an invalid one, 1 for a missing file", async () => {
    expect(await rtt("validate", steady, flaky)).toBe(0);
    expect(out).toContain("boiling-point-steady.ctf: valid");
    const bad = join(dir, "bad.ctf");
    const lines = readFileSync(steady, "utf8").split("\n");
    lines[4] = lines[4].replace('"parent_step_id":0', '"parent_step_id":9');
    writeFileSync(bad, lines.join("\n"));
    expect(await rtt("validate", bad)).toBe(2);
    expect(err).toContain("bad.ctf:line 5 /parent_step_id: error unknown_step");
    expect(await rtt("validate", join(dir, "missing.ctf"))).toBe(1);
    out = "";
    expect(await rtt("validate", "--format", "json", bad)).toBe(2);
    const report = JSON.parse(out)[0];
    expect(report.valid).toBe(false);
    expect(report.issues[0]).toMatchObject({ line: 5, field: "/parent_step_id", code: "unknown_step" });
  });

  it("summary prints sparklines; diff exits 0 same / 1 different / 2 trouble", async () => {
    expect(await rtt("summary", flaky)).toBe(0);
    expect(out).toMatch(/semantic_drift\s+[▁▂▃▄▅▆▇█]+/);
    expect(await rtt("diff", steady, steady)).toBe(0);
    out = "";
    expect(await rtt("diff", "--format", "json", steady, flaky)).toBe(1);
    const d = JSON.parse(out);
    expect(d.same).toBe(false);
    expect(d.divergence.index).toBe(0); // the flaky run's first search timed out
    expect(d.divergence.differs).toEqual(["observation"]);
    // The text names the difference and shows both observations: the two step lines alone are identical.
    out = "";
    expect(await rtt("diff", steady, flaky)).toBe(1);
    expect(out).toContain("differs in observation");
    expect(out).toContain(`observation: ${JSON.stringify(d.divergence.b.observation)}`);
    expect(d.divergence.b.observation).toMatch(/timed out/);
    expect(await rtt("diff", steady, join(dir, "nope.ctf"))).toBe(2);
  });

  it("summary computes the Q-metrics of a trace written without q events (the seed's minimal writer)", async () => {
    const full = readFileSync(flaky, "utf8");
    const bare = join(dir, "bare.ctf");
    const kept = full.split("\n").filter((l) => !l.startsWith('{"type":"q"') && !l.startsWith('{"type":"status"'));
    writeFileSync(bare, kept.join("\n"));
    expect(await rtt("summary", "--format", "json", flaky)).toBe(0);
    const want = JSON.parse(out);
    out = "";
    expect(await rtt("summary", "--format", "json", bare)).toBe(0);
    const got = JSON.parse(out);
    expect(got.metrics).toEqual(want.metrics);
    expect(got.metrics.latency_drift.max).toBeGreaterThan(0);
    expect(got.violations).toEqual(want.violations);
  });

  it("export writes Chrome and OTLP JSON", async () => {
    const chrome = join(dir, "trace.json");
    expect(await rtt("export", "--format", "chrome", "-o", chrome, steady, flaky)).toBe(0);
    const doc = JSON.parse(readFileSync(chrome, "utf8"));
    expect(new Set(doc.traceEvents.map((e: { pid: number }) => e.pid))).toEqual(new Set([1, 2]));
    out = "";
    expect(await rtt("export", "--format", "otlp", steady)).toBe(0);
    expect(JSON.parse(out).resourceSpans[0].scopeSpans[0].spans[0].name).toBe("invoke_agent");
    expect(await rtt("export", "--format", "vcd", steady)).toBe(1);
  });

  it("cat prints a stored trace and --follow tails a live one until its footer", async () => {
    const data = mkdtempSync(join(tmpdir(), "rtt-ctf-srv-"));
    await seedDemoTraces(data);
    const app = Fastify();
    await app.register(ctfPlugin, { dataDir: data });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const addr = app.server.address();
    const server = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
    try {
      expect(await rtt("cat", "--server", server, "boiling-point-steady")).toBe(0);
      expect(out).toBe(readFileSync(steady, "utf8"));
      out = "";
      const text = readFileSync(flaky, "utf8");
      const lines = text.trim().split("\n");
      await fetch(`${server}/ctf/tail/events`, { method: "POST", body: `${lines.slice(0, 10).join("\n")}\n` });
      const following = rtt("cat", "--follow", "--server", server, "tail");
      await new Promise((r) => setTimeout(r, 200));
      await fetch(`${server}/ctf/tail/events`, { method: "POST", body: `${lines.slice(10).join("\n")}\n` });
      expect(await following).toBe(0);
      expect(out).toBe(text);
    } finally {
      await app.close();
      rmSync(data, { recursive: true, force: true });
    }
  });
});
