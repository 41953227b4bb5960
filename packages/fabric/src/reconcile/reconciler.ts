import { performance } from "node:perf_hooks";
import { FabricError } from "../errors.js";
import { type Plan, type PlanRoute, pairKey } from "../planner/types.js";
import { PlanLog, type PlanState } from "../wal/plan-log.js";
import { crashPoint } from "./crash.js";
import { type ApplyLock, acquireApplyLock } from "./lock.js";
import { LocalParticipant, type Participant, sameTable, type Transition } from "./participant.js";
import { type ReconcilePaths, reconcilePaths } from "./paths.js";
import { dropPlan, loadPlan, sameRoutes, storePlan } from "./store.js";
import { postconditions, runVerifiers, type Verifier } from "./verify.js";

export interface ReconcilerOptions {
  paths?: ReconcilePaths;
  /** Default: one LocalParticipant materialising `paths.table`. */
  participants?: Participant[];
  /** Checks run in VERIFY after the built-in post-conditions (SLO gates plug in here). */
  verifiers?: Verifier[];
}

/** What opening did to bring the fabric back to the WAL's state after a crash. */
export interface RecoveryReport {
  /** Bytes of a torn last WAL record cut off. */
  truncated_bytes: number;
  /** The pid of a killed apply whose lock was taken over. */
  lock_taken_over_from: number | null;
  /** A plan prepared but never decided, now aborted ("recovered: no commit record"). */
  aborted: string | null;
  /** Participants whose table was not the plan in force and were re-driven to it. */
  redriven: string[];
}

export interface ApplyOptions {
  /** Run PREPARE (checks and votes) and stop: nothing written to the WAL, participants abort. */
  dryRun?: boolean;
  /** The hash of the inputs as they are now (`--check-inputs`): a plan computed from other inputs is stale. */
  inputsHash?: string;
}

export interface ApplyResult {
  plan_id: string;
  base: string | null;
  outcome: "committed" | "dry-run";
  routes: number;
  added: number;
  removed: number;
  /** WAL sequence numbers of the records written. */
  records: { prepare?: number; commit?: number };
  /** Wall time of each phase, ms. */
  ms: { prepare: number; commit: number; verify: number };
}

export interface RollbackResult {
  from: string;
  to: string | null;
  routes: number;
  record: number;
  reason: string;
}

const name = (id: string | null) => id ?? "no plan";

/**
 * The 2PC reconciler of seed 004 (spec/fabric/reconcile.md). Opening takes the apply lock and recovers: a plan
 * prepared but undecided is aborted (a committed one has its commit record, so it is simply the plan in force), and
 * every participant is re-driven to the WAL's plan in force. One instance = one lock holder; close() releases it.
 */
export class Reconciler {
  /** What opening had to repair. */
  readonly recovery: RecoveryReport;
  private inForce: { plan_id: string | null; routes: PlanRoute[]; base: string | null };

  private constructor(
    readonly paths: ReconcilePaths,
    private readonly log: PlanLog,
    private readonly lock: ApplyLock,
    readonly participants: readonly Participant[],
    private readonly verifiers: readonly Verifier[],
  ) {
    this.recovery = {
      truncated_bytes: log.wal.repairedBytes,
      lock_taken_over_from: lock.tookOverFrom,
      aborted: null,
      redriven: [],
    };
    this.inForce = { plan_id: null, routes: [], base: null };
  }

  static async open(opts: ReconcilerOptions = {}): Promise<Reconciler> {
    const paths = opts.paths ?? reconcilePaths();
    const lock = acquireApplyLock(paths.lock);
    let log: PlanLog | undefined;
    try {
      log = PlanLog.open(paths.wal);
      const r = new Reconciler(
        paths,
        log,
        lock,
        opts.participants ?? [new LocalParticipant(paths.table)],
        opts.verifiers ?? [],
      );
      await r.recover();
      return r;
    } catch (e) {
      log?.close();
      lock.release();
      throw e;
    }
  }

  get state(): Readonly<PlanState> {
    return this.log.state;
  }

  /** Records in the WAL (all durable). */
  get records(): number {
    return this.log.wal.size;
  }

  close(): void {
    this.log.close();
    this.lock.release();
  }

  /**
   * PREPARE → COMMIT → VERIFY of one plan that already passed verifyPlan (schema, plan_id, signature). Throws
   * RTT_FABRIC_STALE (base or inputs not the ones in force), RTT_FABRIC_INVALID (its diff does not lead from the plan
   * in force to its table), RTT_FABRIC_NACK (a participant voted no: abort record, nothing changed) or
   * RTT_FABRIC_VERIFY_FAILED (rolled back to the base, rollback record with the reason).
   */
  async apply(plan: Plan, opts: ApplyOptions = {}): Promise<ApplyResult> {
    const t0 = performance.now();
    const current = this.log.state.current;
    const base = plan.inputs.base;
    if (plan.plan_id === current)
      throw new FabricError("RTT_FABRIC_STALE", "this plan is already in force", plan.plan_id);
    if (base !== current)
      throw new FabricError(
        "RTT_FABRIC_STALE",
        `computed against ${name(base)}, in force is ${name(current)}: build the plan again`,
        plan.plan_id,
      );
    if (opts.inputsHash !== undefined && opts.inputsHash !== plan.inputs.hash)
      throw new FabricError(
        "RTT_FABRIC_STALE",
        `computed from inputs ${plan.inputs.hash}, the inputs now hash to ${opts.inputsHash}: build the plan again`,
        plan.plan_id,
      );
    this.checkDiff(plan);
    const t: Transition = { kind: "apply", plan_id: plan.plan_id, from: current, routes: plan.routes };
    const result: ApplyResult = {
      plan_id: plan.plan_id,
      base,
      outcome: "dry-run",
      routes: plan.routes.length,
      added: plan.routes_add.length,
      removed: plan.routes_remove.length,
      records: {},
      ms: { prepare: 0, commit: 0, verify: 0 },
    };

    if (opts.dryRun) {
      const nack = await this.vote(t);
      await this.abortAll(t);
      if (nack) throw new FabricError("RTT_FABRIC_NACK", `${nack} (dry run: nothing written)`, plan.plan_id);
      result.ms.prepare = performance.now() - t0;
      return result;
    }

    crashPoint("prepare");
    const committedBefore = this.log.state.commits.some((c) => c.plan_id === plan.plan_id);
    const stored = storePlan(this.paths.plans, plan);
    crashPoint("after-plan-stored");
    const extra: Record<string, unknown> = {
      file_sha256: stored.sha256,
      routes: plan.routes.length,
      add: plan.routes_add.length,
      remove: plan.routes_remove.length,
    };
    if (plan.sign) extra.key_id = plan.sign.key_id;
    result.records.prepare = this.log.prepare(plan.plan_id, base, extra).seq;
    crashPoint("after-prepare-record");
    const nack = await this.vote(t);
    if (nack) {
      await this.abortAll(t);
      this.log.abort(plan.plan_id, nack);
      if (!committedBefore) dropPlan(this.paths.plans, plan.plan_id);
      throw new FabricError("RTT_FABRIC_NACK", `${nack}; aborted, nothing changed`, plan.plan_id);
    }
    crashPoint("after-votes");
    const t1 = performance.now();
    result.ms.prepare = t1 - t0;

    result.records.commit = this.log.commit(plan.plan_id).seq; // the commit point
    this.inForce = { plan_id: plan.plan_id, routes: plan.routes, base };
    crashPoint("after-commit-record");
    const failed = await this.commitAll(t);
    crashPoint("before-verify");
    const t2 = performance.now();
    result.ms.commit = t2 - t1;

    const why =
      failed ??
      (await runVerifiers([postconditions, ...this.verifiers], {
        plan,
        transition: t,
        participants: this.participants,
      }));
    result.ms.verify = performance.now() - t2;
    if (why !== undefined) {
      await this.revert(base, `verify failed: ${why}`, { decided: true });
      throw new FabricError("RTT_FABRIC_VERIFY_FAILED", `${why}; rolled back to ${name(base)}`, plan.plan_id);
    }
    result.outcome = "committed";
    crashPoint("before-unlock");
    return result;
  }

  /**
   * Rolls the plan in force back (a transition like any other: participants vote on the old table, the rollback
   * record is the commit point, then they switch). `to` defaults to the base the plan in force was computed against;
   * it may name any plan committed before, or null for the empty table.
   */
  async rollback(opts: { to?: string | null; reason?: string } = {}): Promise<RollbackResult> {
    const current = this.log.state.current;
    if (current === null) throw new FabricError("RTT_FABRIC_USAGE", "no plan is in force: nothing to roll back");
    const to = opts.to !== undefined ? opts.to : this.inForce.base;
    if (to === current) throw new FabricError("RTT_FABRIC_USAGE", "that plan is already in force", to);
    if (to !== null && !this.log.state.commits.some((c) => c.plan_id === to))
      throw new FabricError(
        "RTT_FABRIC_NOT_FOUND",
        "no commit of this plan in the WAL: only a plan once in force can be restored",
        to,
      );
    const reason = opts.reason ?? "rtt plan rollback";
    const record = await this.revert(to, reason);
    crashPoint("before-unlock");
    return { from: current, to, routes: this.inForce.routes.length, record, reason };
  }

  /**
   * Makes `to` the plan in force again. A rollback someone asks for is a transition like any other: participants
   * vote on the old table, and only then is the rollback record written (a no leaves the plan in force). After a
   * failed VERIFY the decision is already made (`decided`): the rollback record is written first, so a kill during
   * the participants' switch leaves the base in force and the next open re-drives them to it — before, a kill
   * between VERIFY and the record left the failed plan in force.
   */
  private async revert(to: string | null, reason: string, opts: { decided?: boolean } = {}): Promise<number> {
    const from = this.log.state.current as string;
    const target = to === null ? null : loadPlan(this.paths.plans, to, this.storedHash(to));
    const t: Transition = { kind: "rollback", plan_id: to, from, routes: target?.routes ?? [] };
    const record = () => {
      crashPoint("before-rollback-record");
      const seq = this.log.rollback(from, to, reason).seq;
      this.inForce = { plan_id: to, routes: [...t.routes], base: target?.inputs.base ?? null };
      crashPoint("after-rollback-record");
      return seq;
    };
    const seq = opts.decided ? record() : undefined;
    const nack = await this.vote(t);
    if (nack) {
      await this.abortAll(t);
      if (seq !== undefined)
        throw new FabricError(
          "RTT_FABRIC_VERIFY_FAILED",
          `rolled back to ${name(to)} in the WAL (${reason}), but ${nack}; the next apply or \`rtt plan recover\` re-drives it`,
          from,
        );
      throw new FabricError(
        "RTT_FABRIC_NACK",
        `cannot roll back to ${name(to)}: ${nack}; ${name(from)} stays in force (${reason})`,
        from,
      );
    }
    const decision = seq ?? record();
    const why =
      (await this.commitAll(t)) ??
      (await runVerifiers([postconditions], { transition: t, participants: this.participants }));
    if (why !== undefined)
      throw new FabricError(
        "RTT_FABRIC_VERIFY_FAILED",
        `rolled back to ${name(to)} (${reason}), but ${why}; the next apply or \`rtt plan recover\` re-drives it`,
        from,
      );
    return decision;
  }

  /** Asks every participant to prepare; the first no (or throw) as "participant <name>: <reason>", else undefined. */
  private async vote(t: Transition): Promise<string | undefined> {
    for (const p of this.participants) {
      let why: string | undefined;
      try {
        const v = await p.prepare(t);
        if (!v.ok) why = v.reason;
      } catch (e) {
        why = (e as Error).message;
      }
      if (why !== undefined) return `participant ${p.name} voted no: ${why}`;
    }
    return undefined;
  }

  private async abortAll(t: Transition): Promise<void> {
    for (const p of this.participants) await p.abort(t);
  }

  /** Drives every participant to `t` after the decision; a failure is reported (and VERIFY then fails), not thrown. */
  private async commitAll(t: Transition): Promise<string | undefined> {
    let failed: string | undefined;
    for (const p of this.participants) {
      try {
        await p.commit(t);
      } catch (e) {
        failed ??= `participant ${p.name} failed to commit: ${(e as Error).message}`;
      }
    }
    return failed;
  }

  /**
   * The stored file's SHA-256 from the newest prepare record of `planId` among the last records (a bounded look back:
   * beyond it, or for records written before the field existed, loadPlan recomputes plan_id instead).
   */
  private storedHash(planId: string): string | undefined {
    const wal = this.log.wal;
    for (let i = wal.size - 1; i >= Math.max(0, wal.size - 256); i--) {
      const r = wal.record(i);
      if (r.type === "prepare" && r.payload.plan_id === planId)
        return typeof r.payload.file_sha256 === "string" ? r.payload.file_sha256 : undefined;
    }
    return undefined;
  }

  /** routes_add/routes_remove applied to the table in force must give the plan's table (keyed by from → to). */
  private checkDiff(plan: Plan): void {
    const table = new Map(this.inForce.routes.map((r) => [pairKey(r.from, r.to), r]));
    for (const r of plan.routes_remove) table.delete(pairKey(r.from, r.to));
    for (const r of plan.routes_add) table.set(pairKey(r.from, r.to), r);
    const got = [...table.values()].sort((a, b) => a.route_id - b.route_id);
    if (sameRoutes(got, plan.routes)) return;
    const want = new Map(plan.routes.map((r) => [pairKey(r.from, r.to), r]));
    const missing = plan.routes.find((r) => {
      const g = table.get(pairKey(r.from, r.to));
      return !g || g.route_id !== r.route_id || g.lane !== r.lane;
    });
    const extra = got.find((r) => !want.has(pairKey(r.from, r.to)));
    const at = missing
      ? `route ${missing.route_id} (${missing.from} -> ${missing.to}) is in routes but not reached by the diff`
      : extra
        ? `route ${extra.route_id} (${extra.from} -> ${extra.to}) stays from the plan in force but is not in routes`
        : "the tables differ";
    throw new FabricError(
      "RTT_FABRIC_INVALID",
      `routes_add/routes_remove applied to the plan in force (${name(this.inForce.plan_id)}) do not give routes: ${at}`,
      plan.plan_id,
    );
  }

  /**
   * Crash recovery (runs on every open, under the lock): abort an undecided prepare, drop whatever participants
   * staged, and re-drive each participant whose table is not the plan in force. Idempotent: a crash inside recovery
   * is recovered by the next open.
   */
  private async recover(): Promise<void> {
    const s = this.log.state;
    if (s.pending) {
      const p = s.pending;
      this.log.abort(p.plan_id, "recovered: no commit record");
      this.recovery.aborted = p.plan_id;
      crashPoint("recovery-after-abort");
      if (!s.commits.some((c) => c.plan_id === p.plan_id)) dropPlan(this.paths.plans, p.plan_id);
    }
    const current = s.current === null ? null : loadPlan(this.paths.plans, s.current, this.storedHash(s.current));
    this.inForce = { plan_id: s.current, routes: current?.routes ?? [], base: current?.inputs.base ?? null };
    const t: Transition = { kind: "recover", plan_id: s.current, from: s.current, routes: this.inForce.routes };
    await this.abortAll(t);
    for (const p of this.participants) {
      if (sameTable(await p.state(), t.plan_id, t.routes)) continue;
      const v = await p.prepare(t);
      if (!v.ok)
        throw new FabricError(
          "RTT_FABRIC_NACK",
          `recovery cannot restore ${name(t.plan_id)} on participant ${p.name}: ${v.reason}`,
          this.paths.wal,
        );
      await p.commit(t);
      this.recovery.redriven.push(p.name);
    }
  }
}
