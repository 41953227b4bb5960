import { existsSync } from "node:fs";
import { FabricError } from "../errors.js";
import { inclusionProof, leafHash, treeRoot, verifyInclusion } from "./merkle.js";
import { Wal, type WalRecord } from "./wal.js";

/** What the log says about plans: the one applied now, the order they were committed in, one still undecided. */
export interface PlanState {
  /** The plan in force (after rollbacks), or null before the first commit. */
  current: string | null;
  /** Every commit in order: the Merkle tree's leaves. */
  commits: Array<{ plan_id: string; seq: number }>;
  /** A plan prepared whose commit or abort was never written (a crash between the phases). */
  pending: { plan_id: string; seq: number; base: string | null } | null;
}

export interface Checkpoint {
  tree_size: number;
  /** Hex RFC 6962 root over the first tree_size commit records. */
  root: string;
  sign?: unknown;
}

export interface InclusionProof {
  plan_id: string;
  /** The commit record's bytes [8, end), hex: the leaf data, so the proof checks without the log. */
  leaf: string;
  leaf_index: number;
  tree_size: number;
  audit_path: string[];
  root: string;
  /** The signed checkpoint that holds `root`, when one covers this leaf. */
  checkpoint?: Checkpoint;
}

const str = (v: unknown) => (typeof v === "string" ? v : undefined);

/**
 * The plan-transition log the 2PC reconciler writes (seed 004: "2PC Reconciler + Merkle WAL"): prepare, commit,
 * abort and rollback records, a Merkle tree over commits, and signed checkpoints of its root. Replaying the records
 * gives the state; a record that breaks the protocol (a commit without its prepare) is corruption naming the record.
 */
export class PlanLog {
  private constructor(
    readonly wal: Wal,
    private readonly s: PlanState,
  ) {}

  /** The plan in force according to the WAL at `path` (read-only, nothing changed), or null without one. */
  static inForce(path: string): string | null {
    if (!existsSync(path)) return null;
    const log = PlanLog.open(path, { readOnly: true });
    try {
      return log.state.current;
    } finally {
      log.close();
    }
  }

  static open(path: string, opts: { readOnly?: boolean } = {}): PlanLog {
    const s: PlanState = { current: null, commits: [], pending: null };
    const wal = Wal.open(path, (r) => step(path, s, r), opts);
    return new PlanLog(wal, s);
  }

  get state(): Readonly<PlanState> {
    return this.s;
  }

  prepare(plan_id: string, base: string | null, extra: Record<string, unknown> = {}): WalRecord {
    if (this.s.pending)
      throw new FabricError("RTT_FABRIC_INVALID", `plan ${this.s.pending.plan_id} is still being applied`, plan_id);
    return this.write("prepare", { ...extra, plan_id, base });
  }

  commit(plan_id: string): WalRecord {
    this.expectPending(plan_id);
    return this.write("commit", { plan_id });
  }

  abort(plan_id: string, reason: string): WalRecord {
    this.expectPending(plan_id);
    return this.write("abort", { plan_id, reason });
  }

  /** Records that `plan_id` (committed) was rolled back to `to` (an earlier commit, or null for none). */
  rollback(plan_id: string, to: string | null, reason: string): WalRecord {
    return this.write("rollback", { plan_id, to, reason });
  }

  /** Appends a checkpoint of the current Merkle root; `sign` adds a signature (trust part). */
  checkpoint(sign?: (c: Checkpoint) => Checkpoint): Checkpoint {
    const leaves = this.leaves();
    const base: Checkpoint = { tree_size: leaves.length, root: treeRoot(leaves).toString("hex") };
    const c = sign ? sign(base) : base;
    this.write("checkpoint", c as unknown as Record<string, unknown>);
    return c;
  }

  checkpoints(): Checkpoint[] {
    return [...this.wal.records("checkpoint")].map((r) => r.payload as unknown as Checkpoint);
  }

  /** The Merkle leaf hashes: one per commit record, in order. */
  leaves(): Buffer[] {
    return [...this.wal.records("commit")].map((r) => leafHash(r.body));
  }

  /**
   * Inclusion proof of `plan_id`'s latest commit: against the newest checkpoint that covers it when there is one
   * (so it verifies against a signed root), else against the whole tree now.
   */
  proof(plan_id: string): InclusionProof {
    const commits = [...this.wal.records("commit")];
    let index = -1;
    for (let i = commits.length - 1; i >= 0 && index < 0; i--) if (commits[i]?.payload.plan_id === plan_id) index = i;
    if (index < 0) throw new FabricError("RTT_FABRIC_NOT_FOUND", "no commit of this plan in the WAL", plan_id);
    return this.commitProof(index, commits);
  }

  /**
   * Inclusion proof of the commit at `index` (0-based, in commit order: the Merkle leaf index), against the newest
   * checkpoint that covers it, else the whole tree now (the Fabric view checks one per commit).
   */
  commitProof(index: number, commits: WalRecord[] = [...this.wal.records("commit")]): InclusionProof {
    const rec = commits[index];
    const plan_id = str(rec?.payload.plan_id);
    if (!rec || !plan_id) throw new FabricError("RTT_FABRIC_NOT_FOUND", `no commit ${index} in the WAL`, this.wal.path);
    const leaves = commits.map((r) => leafHash(r.body));
    const checkpoint = this.checkpoints()
      .filter((c) => c.tree_size > index)
      .at(-1);
    const size = checkpoint?.tree_size ?? leaves.length;
    return {
      plan_id,
      leaf: rec.body.toString("hex"),
      leaf_index: index,
      tree_size: size,
      audit_path: inclusionProof(leaves, index, size).map((h) => h.toString("hex")),
      root: treeRoot(leaves, size).toString("hex"),
      ...(checkpoint ? { checkpoint } : {}),
    };
  }

  /**
   * Checks what opening did not: every checkpoint's root against the tree recomputed from the commit records (a
   * rewritten history changes them), and each checkpoint's signature through `checkSig`. Returns the problems.
   */
  verifyCheckpoints(checkSig?: (c: Checkpoint) => string | undefined): string[] {
    const leaves = this.leaves();
    const problems: string[] = [];
    for (const rec of this.wal.records("checkpoint")) {
      const c = rec.payload as unknown as Checkpoint;
      if (!Number.isInteger(c.tree_size) || c.tree_size > leaves.length)
        problems.push(`record ${rec.seq}: checkpoint of ${c.tree_size} commits, but the log has ${leaves.length}`);
      else if (treeRoot(leaves, c.tree_size).toString("hex") !== c.root)
        problems.push(`record ${rec.seq}: checkpoint root does not match the commits before it (history rewritten)`);
      const sig = checkSig?.(c);
      if (sig) problems.push(`record ${rec.seq}: ${sig}`);
    }
    return problems;
  }

  close(): void {
    this.wal.close();
  }

  private expectPending(plan_id: string) {
    if (this.s.pending?.plan_id !== plan_id)
      throw new FabricError("RTT_FABRIC_INVALID", "no prepare of this plan is waiting for a decision", plan_id);
  }

  private write(type: WalRecord["type"], body: Record<string, unknown>): WalRecord {
    const rec = this.wal.append(type, body);
    step(this.wal.path, this.s, rec);
    return rec;
  }
}

/** Verifies a printed proof with nothing but its own fields (offline). */
export function verifyProof(p: InclusionProof): boolean {
  if (p.checkpoint && (p.checkpoint.root !== p.root || p.checkpoint.tree_size !== p.tree_size)) return false;
  return verifyInclusion(
    leafHash(Buffer.from(p.leaf, "hex")),
    p.leaf_index,
    p.tree_size,
    p.audit_path.map((h) => Buffer.from(h, "hex")),
    Buffer.from(p.root, "hex"),
  );
}

/** Applies one record to the state in place (replay of 10^5 records must stay linear). */
function step(path: string, s: PlanState, r: Pick<WalRecord, "seq" | "type" | "payload">): void {
  const bad = (why: string) => new FabricError("RTT_FABRIC_CORRUPT", `record ${r.seq} (${r.type}): ${why}`, path);
  const plan = str(r.payload.plan_id);
  switch (r.type) {
    case "prepare":
      if (!plan) throw bad("no plan_id");
      if (s.pending) throw bad(`prepare while ${s.pending.plan_id} is undecided`);
      s.pending = { plan_id: plan, seq: r.seq, base: str(r.payload.base) ?? null };
      return;
    case "commit":
      if (!plan || s.pending?.plan_id !== plan) throw bad("commit without its prepare");
      s.current = plan;
      s.commits.push({ plan_id: plan, seq: r.seq });
      s.pending = null;
      return;
    case "abort":
      if (!plan || s.pending?.plan_id !== plan) throw bad("abort without its prepare");
      s.pending = null;
      return;
    case "rollback":
      s.current = str(r.payload.to) ?? null;
      return;
    case "checkpoint":
      return;
  }
}
