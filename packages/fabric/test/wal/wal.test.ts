import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { FabricError } from "../../src/errors.js";
import { encodeRecord, HEADER, MAGIC, SEED_CRC, ZERO_HASH } from "../../src/wal/format.js";
import { PlanLog, verifyProof } from "../../src/wal/plan-log.js";
import { scanWal, Wal } from "../../src/wal/wal.js";

const dir = mkdtempSync(join(tmpdir(), "rtt-wal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `w${++n}`, "fabric.wal");

function writeSome(path: string, count: number) {
  const wal = Wal.open(path);
  for (let i = 0; i < count; i++) wal.append(i % 2 ? "commit" : "prepare", { plan_id: `sha256:${i >> 1}`, i });
  wal.close();
}

function corruptError(fn: () => unknown): FabricError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FabricError);
    expect((e as FabricError).code).toBe("RTT_FABRIC_CORRUPT");
    return e as FabricError;
  }
  throw new Error("expected a corrupt-WAL error");
}

describe("WAL records", () => {
  it("reopen reads back every record, in order, with the chain intact", () => {
    const path = fresh();
    writeSome(path, 10);
    const wal = Wal.open(path);
    expect([...wal.records()].map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(wal.record(3).payload).toEqual({ plan_id: "sha256:1", i: 3 });
    expect(wal.repairedBytes).toBe(0);
    wal.append("abort", { plan_id: "x", reason: "r" });
    wal.close();
    expect(Wal.open(path).size).toBe(11);
  });

  it("a torn tail at any byte is cut off at recovery and the records before it stay", () => {
    const path = fresh();
    writeSome(path, 4);
    const full = readFileSync(path);
    const wal = Wal.open(path);
    const lastStart = wal.record(3).offset;
    wal.close();
    fc.assert(
      fc.property(fc.integer({ min: lastStart + 1, max: full.length - 1 }), (cut) => {
        writeFileSync(path, full.subarray(0, cut));
        const w = Wal.open(path);
        expect(w.size).toBe(3);
        expect(w.repairedBytes).toBe(cut - lastStart);
        w.close();
        expect(statSync(path).size).toBe(lastStart);
      }),
      { numRuns: 40 },
    );
  });

  it("a changed byte in the middle stops the open with the record's number and offset", () => {
    const path = fresh();
    writeSome(path, 5);
    const buf = readFileSync(path);
    const second = Wal.open(path);
    const at = second.record(1).offset + HEADER + 3;
    second.close();
    buf[at] = (buf[at] as number) ^ 0x20;
    writeFileSync(path, buf);
    const e = corruptError(() => Wal.open(path));
    expect(e.message).toMatch(/record 2 at offset \d+: CRC mismatch/);
    expect(e.message).toContain(path);
  });

  it("a record removed from the middle (CRCs re-computed by hand) breaks the chain", () => {
    // Rebuild the log without record 2 but with correct per-record CRCs: the hash chain still names record 1.
    const a = encodeRecord(1, "prepare", ZERO_HASH, Buffer.from('{"plan_id":"a"}'), SEED_CRC);
    const b = encodeRecord(2, "commit", a.hash, Buffer.from('{"plan_id":"a"}'), a.crc);
    const c = encodeRecord(2, "prepare", b.hash, Buffer.from('{"plan_id":"b"}'), a.crc);
    const path = fresh();
    writeSome(path, 0);
    writeFileSync(path, Buffer.concat([MAGIC, a.bytes, c.bytes, Buffer.from("x".repeat(60))]));
    expect(corruptError(() => scanWal(path, readFileSync(path))).message).toMatch(/record 2 .*hash chain broken/);
  });

  it("refuses a file that is not a WAL", () => {
    const path = fresh();
    writeSome(path, 1);
    writeFileSync(path, "hello, not a wal at all");
    expect(corruptError(() => Wal.open(path)).message).toContain("not an RTT WAL");
  });

  it("a crash before the magic was complete leaves an empty, usable log", () => {
    const path = fresh();
    writeSome(path, 1);
    truncateSync(path, 3);
    const w = Wal.open(path);
    expect(w.size).toBe(0);
    w.append("prepare", { plan_id: "p", base: null });
    w.close();
    expect(Wal.open(path).size).toBe(1);
  });
});

describe("plan log (2PC records, Merkle tree over commits, checkpoints)", () => {
  it("replays to the plan in force, and a prepare without a decision is pending", () => {
    const path = fresh();
    const log = PlanLog.open(path);
    log.prepare("sha256:a", null);
    log.commit("sha256:a");
    log.prepare("sha256:b", "sha256:a");
    log.commit("sha256:b");
    log.rollback("sha256:b", "sha256:a", "verify failed: p99 over budget");
    log.prepare("sha256:c", "sha256:a");
    log.close();
    const again = PlanLog.open(path);
    expect(again.state.current).toBe("sha256:a");
    expect(again.state.commits.map((c) => c.plan_id)).toEqual(["sha256:a", "sha256:b"]);
    expect(again.state.pending).toMatchObject({ plan_id: "sha256:c", base: "sha256:a" });
    expect(() => again.prepare("sha256:d", null)).toThrow(/still being applied/);
    again.abort("sha256:c", "recovered: no commit record");
    expect(again.state.pending).toBeNull();
    again.close();
  });

  it("prints inclusion proofs that verify offline against the signed checkpoint root", () => {
    const log = PlanLog.open(fresh());
    for (let i = 0; i < 9; i++) {
      log.prepare(`sha256:${i}`, null);
      log.commit(`sha256:${i}`);
    }
    const cp = log.checkpoint((c) => ({ ...c, sign: { alg: "ed25519", key_id: "k", sig: "test" } }));
    expect(cp.tree_size).toBe(9);
    log.prepare("sha256:late", null);
    log.commit("sha256:late");
    const p = log.proof("sha256:4");
    expect(p.checkpoint?.root).toBe(cp.root);
    expect(p.tree_size).toBe(9);
    expect(verifyProof(JSON.parse(JSON.stringify(p)))).toBe(true);
    expect(verifyProof({ ...p, leaf_index: 5 })).toBe(false);
    expect(verifyProof({ ...p, leaf: p.leaf.replace(/.$/, (d) => (d === "0" ? "1" : "0")) })).toBe(false);
    // Not covered by a checkpoint yet: proved against the tree as it is now.
    expect(log.proof("sha256:late").tree_size).toBe(10);
    expect(log.verifyCheckpoints()).toEqual([]);
    log.close();
  });

  it("a rewritten history (valid CRCs and chain, changed commit) no longer matches its checkpoint", () => {
    const path = fresh();
    const log = PlanLog.open(path);
    log.prepare("sha256:a", null);
    log.commit("sha256:a");
    const cp = log.checkpoint();
    log.close();
    // Re-write the whole log with a different first plan, keeping the old checkpoint payload.
    const forged = join(dir, `forged${n}`, "fabric.wal");
    const f = PlanLog.open(forged);
    f.prepare("sha256:evil", null);
    f.commit("sha256:evil");
    f.wal.append("checkpoint", { ...cp });
    f.close();
    const reopened = PlanLog.open(forged);
    expect(reopened.verifyCheckpoints()).toEqual([
      "record 3: checkpoint root does not match the commits before it (history rewritten)",
    ]);
    reopened.close();
  });

  it("a commit without its prepare is corruption naming the record", () => {
    const path = fresh();
    const w = Wal.open(path);
    w.append("commit", { plan_id: "sha256:x" });
    w.close();
    expect(corruptError(() => PlanLog.open(path)).message).toContain("record 1 (commit): commit without its prepare");
  });
});
