import { hashOf } from "../canonical.js";
import {
  type Participant,
  type ParticipantState,
  readTable,
  type Transition,
  type Vote,
} from "../reconcile/participant.js";
import { tableHash } from "../reconcile/store.js";
import { clusterCrashPoint } from "./crash.js";
import type { TxWatch } from "./twopc.js";

/**
 * The cluster's vote inside a node's own 2PC (spec/fabric/cluster.md): the last participant of the node's
 * reconciler. Its prepare runs after the local participant staged the table: it publishes this node's yes vote with
 * the staged table's hash, waits for the cluster's decision record, and answers with it — so the node's WAL gets its
 * commit record only after the cluster decided commit, and its abort record when the cluster decided abort. A voter
 * that waits longer than `decisionTimeoutMs` appends an abort decision itself (the expected-sequence publish makes
 * the first decision the only one). Commit and abort have nothing of their own to do; its state is the local table.
 */
export class ClusterGate implements Participant {
  readonly name = "cluster";
  /** Whether this gate published a vote (else the node publishes its no vote when the apply fails). */
  voted = false;

  constructor(
    private readonly node: string,
    private readonly tx: TxWatch,
    private readonly stagedFile: string,
    private readonly tableFile: string,
    private readonly decisionTimeoutMs: number,
    /** Test hook: vote yes with a hash other than the staged table's. */
    private readonly lie = false,
  ) {}

  async prepare(t: Transition): Promise<Vote> {
    if (t.kind !== "apply" || t.plan_id !== this.tx.planId) return { ok: true };
    if (!this.tx.decision) {
      const staged = readTable(this.stagedFile);
      if (!staged || staged.problem) return { ok: false, reason: `nothing staged in ${this.stagedFile}` };
      const table_hash = this.lie ? hashOf({ lie: staged.routes }) : tableHash(staged.routes);
      await this.tx.publishPrepare({ node: this.node, vote: "yes", table_hash });
      this.voted = true;
      clusterCrashPoint("cluster-after-vote");
      if (!(await this.tx.until(() => this.tx.decision !== undefined, this.decisionTimeoutMs)))
        await this.tx.decide({
          outcome: "abort",
          by: this.node,
          reason_code: "decision-timeout",
          reason: `node ${this.node} voted and waited ${this.decisionTimeoutMs} ms for a decision`,
          votes: {},
        });
    }
    const d = this.tx.decision;
    if (d?.outcome === "commit") return { ok: true };
    return {
      ok: false,
      reason: `the cluster aborted the plan (${d?.reason_code ?? "?"}): ${d?.reason ?? "no decision"}`,
    };
  }

  async commit(_t: Transition): Promise<void> {}

  async abort(_t: Transition): Promise<void> {}

  async state(): Promise<ParticipantState | null> {
    return readTable(this.tableFile);
  }
}
