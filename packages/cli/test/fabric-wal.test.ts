import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PlanLog, readPublicKeyFile } from "@rtt/fabric";
import { afterAll, describe, expect, it } from "vitest";
import { cli } from "./run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "rtt-cli-wal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const wal = join(dir, ".rtt", "wal", "fabric.wal");
const rtt = (...args: string[]) => cli("rtt", args, undefined, dir);

describe("rtt wal", () => {
  it("verifies a history, signs a checkpoint, prints a proof that checks offline, and fails once the key is revoked", () => {
    const log = PlanLog.open(wal);
    for (let i = 0; i < 6; i++) {
      log.prepare(`sha256:${i}`, i ? `sha256:${i - 1}` : null);
      log.commit(`sha256:${i}`);
    }
    log.close();
    expect(rtt("keys", "gen", "--name", "ci", "--trust").code).toBe(0);
    expect(rtt("wal", "checkpoint", "--key", join(".rtt", "keys", "ci.key")).code).toBe(0);

    const ok = rtt("wal", "verify");
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("ok — 13 records, 6 commits, 1 checkpoints; plan in force: sha256:5");

    const proof = rtt("wal", "proof", "sha256:2");
    expect(proof.code, proof.stderr).toBe(0);
    writeFileSync(join(dir, "proof.json"), proof.stdout);
    const check = rtt("wal", "proof", "--check", "proof.json");
    expect(check.stdout).toContain("valid — sha256:2 is leaf 2 of 6");
    expect(check.stdout).toContain("a signed checkpoint");

    const forged = JSON.parse(proof.stdout);
    forged.leaf_index = 3;
    writeFileSync(join(dir, "forged.json"), JSON.stringify(forged));
    const bad = rtt("wal", "proof", "--check", "forged.json");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("does not lead to its root");

    const keyId = readPublicKeyFile(join(dir, ".rtt", "keys", "ci.pub")).key_id;
    expect(rtt("keys", "revoke", keyId).code).toBe(0);
    const revoked = rtt("wal", "verify");
    expect(revoked.code).toBe(2);
    expect(revoked.stderr).toContain("record 13: checkpoint signature revoked");
  });

  it("names the record and offset of a corrupt middle, warns on a torn tail, and changes nothing on disk", () => {
    const wal = join(dir, "second.wal");
    const log = PlanLog.open(wal);
    log.prepare("sha256:a", null);
    log.commit("sha256:a");
    log.close();
    const before = readFileSync(wal);
    writeFileSync(wal, Buffer.concat([before, Buffer.from("torn")]));
    const torn = rtt("wal", "verify", "--wal", wal);
    expect(torn.code).toBe(0);
    expect(torn.stderr).toContain("4 bytes of a torn last record");
    expect(readFileSync(wal).length).toBe(before.length + 4);

    const flipped = Buffer.from(before);
    flipped[8 + 48 + 5] = (flipped[8 + 48 + 5] as number) ^ 1; // inside record 1's payload
    writeFileSync(wal, flipped);
    const corrupt = rtt("wal", "verify", "--wal", wal);
    expect(corrupt.code).toBe(2);
    expect(corrupt.stderr).toMatch(/record 1 at offset 8: CRC mismatch/);
    expect(readFileSync(wal).equals(flipped)).toBe(true);
  });

  it("explains a missing log and a missing plan", () => {
    const none = cli("rtt", ["wal", "verify", "--wal", join(dir, "nope.wal")]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no such WAL");
  });
});
