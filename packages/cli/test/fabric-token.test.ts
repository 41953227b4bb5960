import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "./run-cli.js";

let cwd: string;
const rtt = (...args: string[]) => cli("rtt", args, undefined, cwd);
const SADDR = "rtt://core/api/metrics";

beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), "rtt-token-"));
  expect(rtt("keys", "gen", "--name", "ops", "--trust").code).toBe(0);
  expect(rtt("keys", "gen", "--name", "stranger").code).toBe(0);
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe("rtt token", () => {
  it("issue writes the seed's token; check accepts it for its operation", () => {
    const r = rtt(
      "token",
      "issue",
      "--saddr",
      SADDR,
      "--verb",
      "tx",
      "--scope",
      "metrics.read",
      "--ttl",
      "5m",
      "--key",
      ".rtt/keys/ops.key",
    );
    expect(r.code, r.stderr).toBe(0);
    const t = JSON.parse(r.stdout);
    expect(Object.keys(t).sort()).toEqual(["exp", "nonce", "saddr", "scopes", "sign", "verb"]);
    expect(Date.parse(t.exp) - Date.now()).toBeGreaterThan(4 * 60_000);
    writeFileSync(join(cwd, "tok.json"), r.stdout);
    const ok = rtt("token", "check", "tok.json", "--saddr", SADDR, "--verb", "tx", "--scope", "metrics.read");
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^accepted: tx rtt:\/\/core\/api\/metrics/);
    const wrong = rtt("token", "check", "tok.json", "--saddr", SADDR, "--verb", "rx", "--format", "json");
    expect(wrong.code).toBe(2);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ ok: false, reason: "wrong_verb" });
    const scope = rtt("token", "check", "tok.json", "--saddr", SADDR, "--verb", "tx", "--scope", "metrics.write");
    expect(scope.code).toBe(2);
    expect(scope.stdout).toMatch(/^refused: wrong_scope/);
  });

  it("refuses a tampered token and one signed by an untrusted key", () => {
    const t = JSON.parse(readFileSync(join(cwd, "tok.json"), "utf8"));
    writeFileSync(join(cwd, "forged.json"), JSON.stringify({ ...t, scopes: ["admin"] }));
    const f = rtt("token", "check", "forged.json", "--saddr", SADDR, "--verb", "tx");
    expect(f.code).toBe(2);
    expect(f.stdout).toMatch(/^refused: bad_signature/);
    const s = rtt(
      "token",
      "issue",
      "--saddr",
      SADDR,
      "--verb",
      "tx",
      "--key",
      ".rtt/keys/stranger.key",
      "--out",
      "s.json",
    );
    expect(s.code, s.stderr).toBe(0);
    const u = rtt("token", "check", "s.json", "--saddr", SADDR, "--verb", "tx");
    expect(u.stdout).toMatch(/^refused: untrusted/);
  });

  it("usage errors exit 1", () => {
    expect(
      rtt("token", "issue", "--saddr", SADDR, "--verb", "tx", "--ttl", "5y", "--key", ".rtt/keys/ops.key").code,
    ).toBe(1);
    expect(rtt("token", "issue", "--saddr", "nope", "--verb", "tx", "--key", ".rtt/keys/ops.key").code).toBe(1);
    expect(rtt("token", "issue", "--saddr", SADDR, "--verb", "write").code).not.toBe(0);
    expect(rtt("token", "check", "missing.json", "--saddr", SADDR, "--verb", "tx").code).toBe(1);
  });
});
