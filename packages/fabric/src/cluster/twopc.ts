import type { Subscription } from "@nats-io/transport-node";
import type { ClusterConn } from "./connect.js";
import { planHex } from "./names.js";

/** A node's vote on a plan, published once it staged the plan's table (or refused it). */
export interface PrepareRecord {
  type: "prepare";
  plan_id: string;
  node: string;
  vote: "yes" | "no";
  /** SHA-256 of the table the node staged (canonical JSON of its routes): what it will serve on commit. */
  table_hash?: string;
  reason?: string;
  at: string;
}

/** Why a plan was aborted, as a stable name (spec/fabric/cluster.md, "Decision"). */
export type AbortCode =
  | "voted-no"
  | "lying-participant"
  | "vote-timeout"
  | "decision-timeout"
  | "recovered-undecided"
  | "coordinator";

/** The one decision of a plan: the first record appended to its decision subject (expected last sequence 0). */
export interface DecisionRecord {
  type: "decision";
  plan_id: string;
  outcome: "commit" | "abort";
  /** The node that appended it. */
  by: string;
  reason_code?: AbortCode;
  reason?: string;
  /** The table hash each node voted with (commit: all equal to the plan's). */
  votes: Record<string, string | null>;
  at: string;
}

/** What a node did after the decision: the bench's and `apply`'s "committed on every node". */
export interface DoneRecord {
  type: "done";
  plan_id: string;
  node: string;
  outcome: "committed" | "aborted";
  /** The plan this node serves now and its table's hash. */
  serving: string | null;
  table_hash: string | null;
  at: string;
}

export type TxRecord = PrepareRecord | DecisionRecord | DoneRecord;

/** JetStream's "wrong last sequence" (an expected-sequence publish that lost, a stale KV revision). */
export const WRONG_LAST_SEQUENCE = 10071;
export const isWrongLastSequence = (e: unknown): boolean =>
  (e as { code?: unknown })?.code === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(String(e));

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

/**
 * The 2PC records of one plan on the cluster's stream: `<subject>.<hex>.prepare.<node>`, `.decision`,
 * `.done.<node>`. A watcher subscribes (core NATS sees every JetStream publish on its subjects) and back-fills what
 * was appended before it subscribed with direct "last by subject" reads, so it misses nothing and needs no consumer.
 */
export class TxWatch {
  readonly prepares = new Map<string, PrepareRecord>();
  readonly done = new Map<string, DoneRecord>();
  decision: DecisionRecord | undefined;
  private readonly sub: Subscription;
  private waiters: Array<() => void> = [];
  readonly base: string;

  private constructor(
    private readonly conn: ClusterConn,
    readonly planId: string,
  ) {
    this.base = `${conn.names.subject}.${planHex(planId)}`;
    this.sub = conn.nc.subscribe(`${this.base}.>`, {
      callback: (err, msg) => {
        if (err) return;
        try {
          this.take(msg.json<TxRecord>());
        } catch {}
      },
    });
  }

  /** Subscribes, then reads the decision (and `nodes`' prepare and done records) already in the stream. */
  static async open(conn: ClusterConn, planId: string, nodes: readonly string[] = []): Promise<TxWatch> {
    const w = new TxWatch(conn, planId);
    await conn.nc.flush();
    const subjects = [`${w.base}.decision`, ...nodes.flatMap((n) => [`${w.base}.prepare.${n}`, `${w.base}.done.${n}`])];
    await Promise.all(subjects.map((s) => w.backfill(s)));
    return w;
  }

  private async backfill(subject: string): Promise<void> {
    const m = await this.conn.jsm.streams.getMessage(this.conn.names.stream, { last_by_subj: subject });
    if (m) this.take(m.json<TxRecord>());
  }

  private take(r: TxRecord): void {
    if (r.plan_id !== this.planId) return;
    if (r.type === "prepare") this.prepares.set(r.node, r);
    else if (r.type === "done") this.done.set(r.node, r);
    else if (r.type === "decision") this.decision ??= r;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when `done()` holds or after `ms` (then with whatever holds). */
  async until(done: () => boolean, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (!done()) {
      const left = end - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  async publishPrepare(r: Omit<PrepareRecord, "type" | "plan_id" | "at">): Promise<void> {
    await this.conn.js.publish(
      `${this.base}.prepare.${r.node}`,
      enc({ type: "prepare", plan_id: this.planId, ...r, at: new Date().toISOString() }),
    );
  }

  async publishDone(r: Omit<DoneRecord, "type" | "plan_id" | "at">): Promise<void> {
    await this.conn.js.publish(
      `${this.base}.done.${r.node}`,
      enc({ type: "done", plan_id: this.planId, ...r, at: new Date().toISOString() }),
    );
  }

  /**
   * Appends `d` as the plan's decision unless one exists: the publish expects the decision subject's last sequence to
   * be 0, so of two deciders (the coordinator, a node that timed out, a restarted node) exactly one wins and every
   * other reads the winner's record. Returns the decision in force.
   */
  async decide(d: Omit<DecisionRecord, "type" | "plan_id" | "at">): Promise<DecisionRecord> {
    if (this.decision) return this.decision;
    const rec: DecisionRecord = { type: "decision", plan_id: this.planId, ...d, at: new Date().toISOString() };
    try {
      await this.conn.js.publish(`${this.base}.decision`, enc(rec), { expect: { lastSubjectSequence: 0 } });
      this.decision ??= rec;
    } catch (e) {
      if (!isWrongLastSequence(e)) throw e;
      await this.backfill(`${this.base}.decision`);
      if (!this.decision) throw new Error(`${this.base}.decision: lost the race, but no decision can be read`);
    }
    return this.decision;
  }

  close(): void {
    this.sub.unsubscribe();
  }
}

/** The decision of `planId`, if any (one direct read, no subscription). */
export async function readDecision(conn: ClusterConn, planId: string): Promise<DecisionRecord | undefined> {
  const m = await conn.jsm.streams.getMessage(conn.names.stream, {
    last_by_subj: `${conn.names.subject}.${planHex(planId)}.decision`,
  });
  return m ? m.json<DecisionRecord>() : undefined;
}

/**
 * The coordinator's rule: commit only when every member voted yes with the plan's table hash. A yes vote with
 * another hash is a lie (the node would serve a table other than the one it agreed to): abort, named.
 */
export function decideVotes(
  members: readonly string[],
  prepares: ReadonlyMap<string, PrepareRecord>,
  expectedHash: string,
  voteTimeoutMs: number,
): Pick<DecisionRecord, "outcome" | "reason_code" | "reason" | "votes"> {
  const votes: Record<string, string | null> = {};
  for (const n of members) votes[n] = prepares.get(n)?.table_hash ?? null;
  for (const n of members) {
    const p = prepares.get(n);
    if (p?.vote === "yes" && p.table_hash !== expectedHash)
      return {
        outcome: "abort",
        reason_code: "lying-participant",
        reason: `node ${n} voted yes but staged table ${p.table_hash ?? "(none)"}; the plan's table is ${expectedHash}`,
        votes,
      };
  }
  for (const n of members) {
    const p = prepares.get(n);
    if (p?.vote === "no")
      return { outcome: "abort", reason_code: "voted-no", reason: `node ${n} voted no: ${p.reason ?? "?"}`, votes };
  }
  const missing = members.filter((n) => !prepares.has(n));
  if (missing.length > 0)
    return {
      outcome: "abort",
      reason_code: "vote-timeout",
      reason: `no vote from ${missing.join(", ")} in ${voteTimeoutMs} ms`,
      votes,
    };
  return { outcome: "commit", votes };
}
