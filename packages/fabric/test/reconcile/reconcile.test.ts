import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { prettyJson } from "../../src/json-file.js";
import type { Plan } from "../../src/planner/types.js";
import { applyPlanFile } from "../../src/reconcile/apply-file.js";
import { LocalParticipant, readTable, type Transition, type Vote } from "../../src/reconcile/participant.js";
import { type ReconcilePaths, reconcilePaths } from "../../src/reconcile/paths.js";
import { Reconciler } from "../../src/reconcile/reconciler.js";
import { planStatus, readPlanInForce } from "../../src/reconcile/status.js";
import { planFile } from "../../src/reconcile/store.js";
import type { Verifier } from "../../src/reconcile/verify.js";
import { generateKeyPair, writeKeyPair } from "../../src/trust/keys.js";
import { trustKey } from "../../src/trust/store.js";
import { PlanLog } from "../../src/wal/plan-log.js";
import { rejectsFabricError } from "../fabric-error.js";
import { makePlan, route, routes } from "./plans.js";

const dir = mkdtempSync(join(tmpdir(), "rtt-reconcile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (): ReconcilePaths => reconcilePaths(join(dir, `r${++n}`, ".rtt"));

async function applied(paths: ReconcilePaths, plan: Plan, extra: Partial<Parameters<typeof Reconciler.open>[0]> = {}) {
  const r = await Reconciler.open({ paths, ...extra });
  try {
    return await r.apply(plan);
  } finally {
    r.close();
  }
}

const fails = (fn: () => Promise<unknown>, code: string) => rejectsFabricError(fn, code);

const walTypes = (paths: ReconcilePaths) => {
  const log = PlanLog.open(paths.wal, { readOnly: true });
  try {
    return [...log.wal.records()].map((r) => r.type);
  } finally {
    log.close();
  }
};

const writePlan = (paths: ReconcilePaths, plan: unknown, name = "plan.json") => {
  const file = join(paths.root, "..", name);
  mkdirSync(join(paths.root, ".."), { recursive: true });
  writeFileSync(file, prettyJson(plan));
  return file;
};

/** A participant with its own table that votes no on every apply and rollback (recovery may still drive it). */
class Nacker extends LocalParticipant {
  constructor(file: string) {
    super(file, "nacker");
  }
  override async prepare(t: Transition): Promise<Vote> {
    return t.kind === "recover" ? super.prepare(t) : { ok: false, reason: "out of ring slots" };
  }
}

describe("apply: PREPARE → COMMIT → VERIFY", () => {
  it("commits a plan: WAL prepare + commit, the plan stored by id, the table materialised, status and plan in force", async () => {
    const paths = fresh();
    const p1 = makePlan(null, routes(3));
    const res = await applied(paths, p1);
    expect(res).toMatchObject({ outcome: "committed", plan_id: p1.plan_id, base: null, routes: 3, added: 3 });
    expect(walTypes(paths)).toEqual(["prepare", "commit"]);
    expect(readTable(paths.table)).toEqual({ plan_id: p1.plan_id, routes: p1.routes });
    expect(JSON.parse(readFileSync(planFile(paths.plans, p1.plan_id), "utf8"))).toEqual(p1);
    expect(readPlanInForce(paths)).toEqual({ plan_id: p1.plan_id, plan: p1 });
    const p2 = makePlan(p1, [route(1, "shm"), route(2), route(4)]);
    expect(p2.routes_add.map((r) => r.route_id)).toEqual([1, 4]);
    expect(p2.routes_remove.map((r) => r.route_id)).toEqual([3]);
    await applied(paths, p2);
    const s = await planStatus({ paths });
    expect(s).toMatchObject({ current: p2.plan_id, routes: 3, commits: 2, records: 4, pending: null, lock: null });
    expect(s.participants).toEqual([{ name: "local", plan_id: p2.plan_id, routes: 3, in_sync: true }]);
    expect(s.recent.map((e) => e.type)).toEqual(["prepare", "commit", "prepare", "commit"]);
    expect(existsSync(`${paths.table}.prepared`)).toBe(false);
    expect(existsSync(paths.lock)).toBe(false);
  });

  it("refuses a plan computed against a plan no longer in force, and one already in force", async () => {
    const paths = fresh();
    const p1 = makePlan(null, routes(2));
    const p2 = makePlan(p1, routes(3));
    const other = makePlan(null, routes(4));
    await applied(paths, p1);
    const e = await fails(() => applied(paths, other), "RTT_FABRIC_STALE");
    expect(e.message).toContain(`computed against no plan, in force is ${p1.plan_id}`);
    await applied(paths, p2);
    expect((await fails(() => applied(paths, p2), "RTT_FABRIC_STALE")).message).toContain("already in force");
    // After a rollback to p1, a plan computed on p2 is the stale one.
    const r = await Reconciler.open({ paths });
    await r.rollback();
    r.close();
    const p3 = makePlan(p2, routes(5));
    expect((await fails(() => applied(paths, p3), "RTT_FABRIC_STALE")).message).toContain(
      `computed against ${p2.plan_id}, in force is ${p1.plan_id}`,
    );
    expect(walTypes(paths)).toEqual(["prepare", "commit", "prepare", "commit", "rollback"]);
    expect(readTable(paths.table)?.plan_id).toBe(p1.plan_id);
  });

  it("--check-inputs: a plan computed from other inputs than the ones now is stale", async () => {
    const paths = fresh();
    const p1 = makePlan(null, routes(2));
    const r = await Reconciler.open({ paths });
    try {
      const e = await fails(() => r.apply(p1, { inputsHash: `sha256:${"0".repeat(64)}` }), "RTT_FABRIC_STALE");
      expect(e.message).toContain(`computed from inputs ${p1.inputs.hash}`);
      expect((await r.apply(p1, { inputsHash: p1.inputs.hash })).outcome).toBe("committed");
    } finally {
      r.close();
    }
  });

  it("refuses a plan whose diff does not lead from the plan in force to its table", async () => {
    const paths = fresh();
    const p1 = makePlan(null, routes(2));
    await applied(paths, p1);
    const bad = makePlan(null, routes(3));
    const forged = makePlan(p1, routes(3));
    // Same table, but the diff claims nothing is added: recompute plan_id so only the diff is wrong.
    const { plan_id: _, ...body } = { ...forged, routes_add: [] };
    const { computePlanId } = await import("../../src/planner/verify.js");
    const inconsistent = { plan_id: computePlanId(body), ...body } as Plan;
    const e = await fails(() => applied(paths, inconsistent), "RTT_FABRIC_INVALID");
    expect(e.message).toContain("route 3 (rtt://svc/s3 -> rtt://svc/t3) is in routes but not reached by the diff");
    expect(bad.inputs.base).toBeNull();
    expect(walTypes(paths)).toEqual(["prepare", "commit"]);
  });

  it("--dry-run votes and stops: no WAL record, no stored plan, no staged file", async () => {
    const paths = fresh();
    const p1 = makePlan(null, routes(2));
    const r = await Reconciler.open({ paths });
    try {
      expect((await r.apply(p1, { dryRun: true })).outcome).toBe("dry-run");
    } finally {
      r.close();
    }
    expect(walTypes(paths)).toEqual([]);
    expect(existsSync(planFile(paths.plans, p1.plan_id))).toBe(false);
    expect(existsSync(`${paths.table}.prepared`)).toBe(false);
    expect(readTable(paths.table)).toBeNull();
  });

  it("a participant's NACK aborts with its reason and changes nothing", async () => {
    const paths = fresh();
    const p1 = makePlan(null, routes(2));
    await applied(paths, p1);
    const p2 = makePlan(p1, routes(4));
    const participants = [new LocalParticipant(paths.table), new Nacker(`${paths.table}.nacker`)];
    const e = await fails(() => applied(paths, p2, { participants }), "RTT_FABRIC_NACK");
    expect(e.message).toContain("participant nacker voted no: out of ring slots; aborted, nothing changed");
    const log = PlanLog.open(paths.wal, { readOnly: true });
    const last = log.wal.record(log.wal.size - 1);
    expect(last.type).toBe("abort");
    expect(last.payload.reason).toBe("participant nacker voted no: out of ring slots");
    expect(log.state.current).toBe(p1.plan_id);
    log.close();
    expect(readTable(paths.table)).toEqual({ plan_id: p1.plan_id, routes: p1.routes });
    expect(existsSync(`${paths.table}.prepared`)).toBe(false);
    expect(existsSync(planFile(paths.plans, p2.plan_id))).toBe(false);
  });

  it("a failed VERIFY (an injected SLO check) rolls back to the base with the reason in the WAL", async () => {
    const paths = fresh();
    const p1 = makePlan(null, routes(2));
    await applied(paths, p1);
    const p2 = makePlan(p1, routes(3));
    let seen: string | null | undefined;
    const slo: Verifier = {
      name: "slo",
      check: ({ transition }) => {
        seen = transition.plan_id;
        return "route 3 p99 2.4 ms over its 1.5 ms budget";
      },
    };
    const e = await fails(() => applied(paths, p2, { verifiers: [slo] }), "RTT_FABRIC_VERIFY_FAILED");
    expect(seen).toBe(p2.plan_id);
    expect(e.message).toContain(`slo: route 3 p99 2.4 ms over its 1.5 ms budget; rolled back to ${p1.plan_id}`);
    const log = PlanLog.open(paths.wal, { readOnly: true });
    const last = log.wal.record(log.wal.size - 1);
    expect(last.type).toBe("rollback");
    expect(last.payload).toEqual({
      plan_id: p2.plan_id,
      to: p1.plan_id,
      reason: "verify failed: slo: route 3 p99 2.4 ms over its 1.5 ms budget",
    });
    expect(log.state.current).toBe(p1.plan_id);
    log.close();
    expect(readTable(paths.table)).toEqual({ plan_id: p1.plan_id, routes: p1.routes });
    // The plan stays stored (it was committed once) and p1 can move on.
    expect(existsSync(planFile(paths.plans, p2.plan_id))).toBe(true);
    expect((await applied(paths, p2)).outcome).toBe("committed");
  });

  it("after a failed VERIFY the rollback record comes before the participants switch: a refusal leaves the base in force, re-driven on open", async () => {
    const paths = fresh();
    const p1 = makePlan(null, routes(2));
    await applied(paths, p1);
    const p2 = makePlan(p1, routes(3));
    // What the WAL held when each participant was asked to stage the rollback.
    const seenAtVote: string[][] = [];
    class RefusesRollback extends LocalParticipant {
      override async prepare(t: Transition): Promise<Vote> {
        if (t.kind !== "rollback") return super.prepare(t);
        seenAtVote.push(walTypes(paths));
        return { ok: false, reason: "busy" };
      }
    }
    const slo: Verifier = { name: "slo", check: () => "p99 over budget" };
    const e = await fails(
      () => applied(paths, p2, { participants: [new RefusesRollback(paths.table)], verifiers: [slo] }),
      "RTT_FABRIC_VERIFY_FAILED",
    );
    expect(e.message).toContain(`rolled back to ${p1.plan_id} in the WAL (verify failed: slo: p99 over budget)`);
    expect(seenAtVote).toEqual([["prepare", "commit", "prepare", "commit", "rollback"]]);
    // The failed plan is not in force even though the table still serves it; the next open brings the table back.
    expect(readTable(paths.table)?.plan_id).toBe(p2.plan_id);
    const r = await Reconciler.open({ paths });
    expect(r.state.current).toBe(p1.plan_id);
    expect(r.recovery.redriven).toEqual(["local"]);
    r.close();
    expect(readTable(paths.table)).toEqual({ plan_id: p1.plan_id, routes: p1.routes });
  });

  it("a participant that fails to commit fails the post-conditions: rolled back", async () => {
    const paths = fresh();
    const p1 = makePlan(null, routes(1));
    class Broken extends LocalParticipant {
      override async commit(t: Parameters<LocalParticipant["commit"]>[0]) {
        if (t.kind === "apply") throw new Error("disk full");
        return super.commit(t);
      }
    }
    const e = await fails(
      () => applied(paths, p1, { participants: [new Broken(paths.table)] }),
      "RTT_FABRIC_VERIFY_FAILED",
    );
    expect(e.message).toContain("participant local failed to commit: disk full; rolled back to no plan");
    expect(walTypes(paths)).toEqual(["prepare", "commit", "rollback"]);
    expect(readTable(paths.table)).toEqual({ plan_id: null, routes: [] });
  });
});

describe("rollback", () => {
  it("defaults to the base of the plan in force, --to names any plan once committed or none", async () => {
    const paths = fresh();
    const p1 = makePlan(null, routes(1));
    const p2 = makePlan(p1, routes(2));
    const p3 = makePlan(p2, routes(3));
    for (const p of [p1, p2, p3]) await applied(paths, p);
    const r = await Reconciler.open({ paths });
    try {
      expect(await r.rollback()).toMatchObject({ from: p3.plan_id, to: p2.plan_id, routes: 2 });
      expect(readTable(paths.table)?.plan_id).toBe(p2.plan_id);
      await fails(() => r.rollback({ to: makePlan(null, routes(9)).plan_id }), "RTT_FABRIC_NOT_FOUND");
      await fails(() => r.rollback({ to: p2.plan_id }), "RTT_FABRIC_USAGE");
      expect(await r.rollback({ to: p3.plan_id, reason: "roll forward" })).toMatchObject({ to: p3.plan_id });
      expect(await r.rollback({ to: null })).toMatchObject({ to: null, routes: 0 });
      expect(readTable(paths.table)).toEqual({ plan_id: null, routes: [] });
      await fails(() => r.rollback(), "RTT_FABRIC_USAGE");
    } finally {
      r.close();
    }
    const s = await planStatus({ paths });
    expect(s.current).toBeNull();
    expect(s.recent.slice(-3).map((e) => [e.type, e.to, e.reason])).toEqual([
      ["rollback", p2.plan_id, "rtt plan rollback"],
      ["rollback", p3.plan_id, "roll forward"],
      ["rollback", null, "rtt plan rollback"],
    ]);
  });

  it("a NACK on the old table keeps the plan in force, nothing written", async () => {
    const paths = fresh();
    const p1 = makePlan(null, routes(1));
    await applied(paths, p1);
    const r = await Reconciler.open({
      paths,
      participants: [new LocalParticipant(paths.table), new Nacker(`${paths.table}.nacker`)],
    });
    try {
      const e = await fails(() => r.rollback(), "RTT_FABRIC_NACK");
      expect(e.message).toContain(`cannot roll back to no plan: participant nacker voted no`);
    } finally {
      r.close();
    }
    expect(walTypes(paths)).toEqual(["prepare", "commit"]);
    expect(readTable(paths.table)?.plan_id).toBe(p1.plan_id);
  });
});

describe("recovery on open", () => {
  it("an undecided prepare is aborted ('recovered: no commit record') and the staged table dropped", async () => {
    const paths = fresh();
    const p1 = makePlan(null, routes(2));
    await applied(paths, p1);
    const p2 = makePlan(p1, routes(3));
    // What a kill after the votes leaves: p2 stored, its prepare record, the local participant's staged table.
    const r0 = await Reconciler.open({ paths });
    r0.close();
    writeFileSync(planFile(paths.plans, p2.plan_id), prettyJson(p2));
    const log = PlanLog.open(paths.wal);
    log.prepare(p2.plan_id, p1.plan_id);
    log.close();
    writeFileSync(`${paths.table}.prepared`, JSON.stringify({ plan_id: p2.plan_id, routes: p2.routes }));
    expect((await planStatus({ paths })).pending?.plan_id).toBe(p2.plan_id);

    const r = await Reconciler.open({ paths });
    expect(r.recovery).toMatchObject({ aborted: p2.plan_id, redriven: [] });
    expect(r.state).toMatchObject({ current: p1.plan_id, pending: null });
    r.close();
    const s = await planStatus({ paths });
    expect(s.recent.at(-1)).toMatchObject({
      type: "abort",
      plan_id: p2.plan_id,
      reason: "recovered: no commit record",
    });
    expect(existsSync(`${paths.table}.prepared`)).toBe(false);
    expect(existsSync(planFile(paths.plans, p2.plan_id))).toBe(false);
    expect(readTable(paths.table)?.plan_id).toBe(p1.plan_id);
  });

  it("a committed plan the participant never applied (or a damaged table file) is re-driven", async () => {
    const paths = fresh();
    const p1 = makePlan(null, routes(2));
    await applied(paths, p1);
    writeFileSync(paths.table, "{ torn");
    expect((await planStatus({ paths })).participants[0]).toMatchObject({ in_sync: false });
    const r = await Reconciler.open({ paths });
    expect(r.recovery.redriven).toEqual(["local"]);
    r.close();
    expect(readTable(paths.table)).toEqual({ plan_id: p1.plan_id, routes: p1.routes });
    rmSync(paths.table);
    const again = await Reconciler.open({ paths });
    expect(again.recovery.redriven).toEqual(["local"]);
    again.close();
    expect(readTable(paths.table)?.plan_id).toBe(p1.plan_id);
  });

  it("a torn commit record (a power cut mid-append) is not durable: the plan is aborted and the table driven back", async () => {
    const paths = fresh();
    const p1 = makePlan(null, routes(2));
    const p2 = makePlan(p1, routes(3));
    await applied(paths, p1);
    await applied(paths, p2);
    expect(readTable(paths.table)?.plan_id).toBe(p2.plan_id);
    const full = readFileSync(paths.wal);
    writeFileSync(paths.wal, full.subarray(0, full.length - 5));
    const r = await Reconciler.open({ paths });
    expect(r.recovery).toMatchObject({ aborted: p2.plan_id, redriven: ["local"] });
    expect(r.recovery.truncated_bytes).toBeGreaterThan(0);
    expect(r.state.current).toBe(p1.plan_id);
    r.close();
    expect(readTable(paths.table)).toEqual({ plan_id: p1.plan_id, routes: p1.routes });
  });

  it("a WAL with a flipped byte in the middle refuses to open, naming the record; nothing changes", async () => {
    const paths = fresh();
    const p1 = makePlan(null, routes(2));
    const p2 = makePlan(p1, routes(3));
    await applied(paths, p1);
    await applied(paths, p2);
    const buf = readFileSync(paths.wal);
    const log = PlanLog.open(paths.wal, { readOnly: true });
    const at = log.wal.record(1).offset + 60;
    log.close();
    buf[at] = (buf[at] as number) ^ 0x01;
    writeFileSync(paths.wal, buf);
    const table = readFileSync(paths.table);
    const e = await fails(() => applied(paths, makePlan(p2, routes(4))), "RTT_FABRIC_CORRUPT");
    expect(e.message).toMatch(/record 2 at offset \d+: CRC mismatch/);
    expect(readFileSync(paths.wal)).toEqual(buf);
    expect(readFileSync(paths.table)).toEqual(table);
    expect(existsSync(paths.lock)).toBe(false);
  });

  it("a stored plan changed on disk is named, not restored", async () => {
    const paths = fresh();
    const p1 = makePlan(null, routes(2));
    await applied(paths, p1);
    const file = planFile(paths.plans, p1.plan_id);
    writeFileSync(file, readFileSync(file, "utf8").replace('"uds"', '"tcp"'));
    const e = await fails(() => Reconciler.open({ paths }), "RTT_FABRIC_CORRUPT");
    expect(e.message).toContain(file);
  });
});

describe("the apply lock", () => {
  it("a live holder makes a second apply fail clearly; a dead holder's lock is taken over", async () => {
    const paths = fresh();
    mkdirSync(paths.root, { recursive: true });
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      writeFileSync(paths.lock, `${holder.pid}\n`);
      const e = await fails(() => applied(paths, makePlan(null, routes(1))), "RTT_FABRIC_BUSY");
      expect(e.message).toContain(`another apply (pid ${holder.pid}) is running`);
      expect(walTypes.bind(null, paths)).toThrow(); // no WAL was even created
      expect((await planStatus({ paths })).lock).toEqual({ pid: holder.pid, alive: true });
    } finally {
      holder.kill("SIGKILL");
    }
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    writeFileSync(paths.lock, `${dead}\n`);
    const r = await Reconciler.open({ paths });
    expect(r.recovery.lock_taken_over_from).toBe(dead);
    await r.apply(makePlan(null, routes(1)));
    r.close();
    expect(existsSync(paths.lock)).toBe(false);
  });

  it("two applies at once: exactly one wins, the other is BUSY", async () => {
    const paths = fresh();
    const p1 = makePlan(null, routes(1));
    const a = await Reconciler.open({ paths });
    await fails(() => Reconciler.open({ paths }), "RTT_FABRIC_BUSY");
    await a.apply(p1);
    a.close();
    expect(readTable(paths.table)?.plan_id).toBe(p1.plan_id);
  });
});

describe("applyPlanFile: the plan file is checked before anything else", () => {
  it("a changed byte fails plan_id or the signature; strict mode refuses unsigned plans; nothing written", async () => {
    const paths = fresh();
    const keys = generateKeyPair();
    const written = writeKeyPair(keys, join(paths.root, "keys"), "ci");
    trustKey(paths.registry, written.publicKeyFile);
    const signed = makePlan(null, routes(2), { sign: keys.privateKey });
    const text = prettyJson(signed);
    // One byte of the body: plan_id no longer matches.
    const tampered = writePlan(paths, JSON.parse(text.replace("rtt://svc/t2", "rtt://svc/t3")), "tampered.json");
    expect((await fails(() => applyPlanFile(tampered, { paths }), "RTT_FABRIC_CORRUPT")).message).toContain(
      "does not match the content",
    );
    // One byte of the signature.
    const sig = signed.sign?.sig as string;
    const flipped = `${sig[0] === "A" ? "B" : "A"}${sig.slice(1)}`;
    const badSig = writePlan(paths, JSON.parse(text.replace(sig, flipped)), "badsig.json");
    await fails(() => applyPlanFile(badSig, { paths }), "RTT_FABRIC_UNTRUSTED");
    const unsigned = writePlan(paths, makePlan(null, routes(2)), "unsigned.json");
    expect(
      (await fails(() => applyPlanFile(unsigned, { paths, strict: true }), "RTT_FABRIC_UNTRUSTED")).message,
    ).toContain("strict mode");
    expect(existsSync(paths.wal)).toBe(false);
    const ok = writePlan(paths, signed, "signed.json");
    const res = await applyPlanFile(ok, { paths, strict: true });
    expect(res.signature.status).toBe("valid");
    expect(res.outcome).toBe("committed");
  });
});
