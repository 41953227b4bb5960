import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "./run-cli.js";

// One working directory per file: the commands' defaults (.rtt/keys, .rtt/registry) are relative to it.
let cwd: string;
const rtt = (...args: string[]) => cli("rtt", args, undefined, cwd);
const at = (name: string) => join(cwd, name);
const keyIdOf = (stdout: string) => /^(ed25519:[0-9a-f]{32})$/m.exec(stdout)?.[1] ?? "";

beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), "rtt-keys-"));
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const plan = {
  plan_id: "sha256:0000",
  routes_add: [{ from: "rtt://ui/hook/refresh", to: "rtt://core/api/metrics", lane: "shm" }],
  placement: { "rtt://ui/hook/refresh": "node0" },
};

describe("rtt keys / sign / verify", () => {
  let aliceId = "";

  it("keys gen writes a 0600 private key under .rtt/keys and prints only the key id and paths", () => {
    const r = rtt("keys", "gen", "--name", "alice");
    expect(r.code).toBe(0);
    aliceId = keyIdOf(r.stdout);
    expect(aliceId).toMatch(/^ed25519:[0-9a-f]{32}$/);
    expect(statSync(at(".rtt/keys/alice.key")).mode & 0o777).toBe(0o600);
    expect(statSync(at(".rtt/keys")).mode & 0o777).toBe(0o700);
    const pem = readFileSync(at(".rtt/keys/alice.key"), "utf8");
    const body = pem.split("\n")[1] ?? "";
    expect(r.stdout + r.stderr).not.toContain(body);
    expect(readFileSync(at(".rtt/keys/alice.pub"), "utf8")).toMatch(/^ed25519 [A-Za-z0-9+/]{43}= alice\n$/);
    // A second gen with the same name would destroy the key: refused.
    const again = rtt("keys", "gen", "--name", "alice");
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/alice\.key: already exists/);
  });

  it("sign, then verify against an empty store is unknown_key (exit 2), after keys trust it is valid", () => {
    writeFileSync(at("plan.json"), JSON.stringify(plan));
    const s = rtt("sign", "plan.json", "--key", ".rtt/keys/alice.key", "--out", "plan.signed.json");
    expect(s.code).toBe(0);
    expect(s.stderr).toMatch(/not trusted/);
    const signed = JSON.parse(readFileSync(at("plan.signed.json"), "utf8"));
    expect(signed.sign).toMatchObject({ alg: "ed25519", key_id: aliceId });

    const before = rtt("verify", "plan.signed.json");
    expect(before.code).toBe(2);
    expect(before.stderr).toMatch(/plan\.signed\.json: unknown_key: .*not in the trust store/);

    const t = rtt("keys", "trust", ".rtt/keys/alice.pub");
    expect(t.code).toBe(0);
    expect(t.stdout).toContain(`trusted ${aliceId}`);
    expect(rtt("keys", "trust", ".rtt/keys/alice.pub").stdout).toContain("already trusted");
    const after = rtt("verify", "plan.signed.json");
    expect(after.code).toBe(0);
    expect(after.stdout).toBe(`plan.signed.json: valid (${aliceId})\n`);
  });

  it("verify refuses unsigned and tampered files with the reason on stderr; --strict is accepted", () => {
    const signed = readFileSync(at("plan.signed.json"), "utf8");
    writeFileSync(at("tampered.json"), signed.replace("node0", "node1"));
    const r = rtt("verify", "plan.json", "tampered.json", "plan.signed.json", "--strict");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/plan\.json: unsigned: no sign member/);
    expect(r.stderr).toMatch(/tampered\.json: bad_signature: .*does not match the content/);
    expect(r.stdout).toContain("plan.signed.json: valid");
    const missing = rtt("verify", "nope.json");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.json: no such file/);
  });

  it("sign --in-place with the default key; a reformatted signed file still verifies", () => {
    expect(rtt("keys", "gen", "--trust").code).toBe(0);
    writeFileSync(at("view.json"), JSON.stringify({ name: "summarize", tools: [{ name: "a" }] }));
    const s = rtt("sign", "view.json", "--in-place");
    expect(s.code).toBe(0);
    expect(s.stderr).not.toMatch(/not trusted/);
    const doc = JSON.parse(readFileSync(at("view.json"), "utf8"));
    const { sign, ...rest } = doc;
    writeFileSync(at("view.json"), JSON.stringify({ sign, tools: rest.tools, name: rest.name }, null, 8));
    expect(rtt("verify", "view.json").code).toBe(0);
    expect(rtt("sign", "view.json", "--in-place", "--out", "x.json").code).toBe(1);
    expect(rtt("sign", "view.json", "--key", "missing.key").stderr).toMatch(/missing\.key: no such file/);
    writeFileSync(at("array.json"), "[1]");
    expect(rtt("sign", "array.json").code).toBe(2);
  });

  it("keys ls and keys revoke: a revoked key's signatures stop verifying and trust cannot undo it", () => {
    const ls = rtt("keys", "ls");
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(new RegExp(`${aliceId}  trusted  alice`));
    const rev = rtt("keys", "revoke", aliceId, "--reason", "laptop stolen");
    expect(rev.code).toBe(0);
    expect(rev.stdout).toContain(`revoked ${aliceId}`);
    const v = rtt("verify", "plan.signed.json");
    expect(v.code).toBe(2);
    expect(v.stderr).toMatch(/revoked: .*laptop stolen/);
    expect(rtt("keys", "trust", ".rtt/keys/alice.pub").code).toBe(2);
    const json = JSON.parse(rtt("keys", "ls", "--format", "json").stdout);
    expect(json.keys).toContainEqual(
      expect.objectContaining({ key_id: aliceId, status: "revoked", reason: "laptop stolen" }),
    );
    expect(rtt("keys", "revoke", "alice").code).toBe(1);
  });

  it("--registry points every command at another store", () => {
    const other = at("other-registry");
    expect(rtt("verify", "view.json", "--registry", other).code).toBe(2);
    expect(rtt("keys", "trust", ".rtt/keys/default.pub", "--registry", other).code).toBe(0);
    expect(rtt("verify", "view.json", "--registry", other).code).toBe(0);
  });

  it("--help shows examples", () => {
    expect(rtt("keys", "--help").stdout).toContain("rtt keys gen --name ci");
    expect(rtt("sign", "--help").stdout).toContain("--in-place");
    expect(rtt("verify", "--help").stdout).toContain("Exit codes");
  });
});
