import { existsSync } from "node:fs";
import { hostname } from "node:os";
import type { KvWatchEntry } from "@nats-io/kv";
import type { QueuedIterator } from "@nats-io/nats-core";
import { fabricParticipants } from "../daemon/participant.js";
import { FabricError, isFabricError } from "../errors.js";
import type { Plan } from "../planner/types.js";
import { verifyPlan } from "../planner/verify.js";
import { acquireApplyLock } from "../reconcile/lock.js";
import { LocalParticipant, readTable } from "../reconcile/participant.js";
import { type ReconcilePaths, reconcilePaths } from "../reconcile/paths.js";
import { type ApplyResult, Reconciler } from "../reconcile/reconciler.js";
import { readPlanInForce } from "../reconcile/status.js";
import { tableHash } from "../reconcile/store.js";
import { openRegistry } from "../registry/registry.js";
import { isStrict } from "../trust/sign.js";
import { loadTrustStore } from "../trust/store.js";
import { PlanLog } from "../wal/plan-log.js";
import { type SyncReport, syncRegistry } from "./cas-sync.js";
import { type ClusterConn, type ConnectOptions, countWarning, openCluster, readClusterState } from "./connect.js";
import { clusterCrashPoint } from "./crash.js";
import { ClusterGate } from "./gate.js";
import { NODE_RE } from "./names.js";
import { getPlanBody, type HeadEntry, moveHead, type PlanHead, putPlanBody, readHead } from "./plans.js";
import { type DecisionRecord, decideVotes, readDecision, TxWatch } from "./twopc.js";

export interface ClusterNodeOptions extends ConnectOptions {
  /** The node's fabric root (`.rtt`): its own registry, WAL, plans and routing table. */
  root?: string;
  /** Its name in the cluster (subject token); default the host name. */
  name?: string;
  /** Fixed 2PC membership; default the nodes whose heartbeat is fresh when a plan is proposed. */
  members?: string[];
  /** Refuse unsigned plans and unknown signers (also on when policy.json says strict). */
  strict?: boolean;
  /** How long a coordinator waits for every member's vote before it decides abort (default 5 s). */
  voteTimeoutMs?: number;
  /** How long a voter waits for the decision before it appends an abort decision itself (default 15 s). */
  decisionTimeoutMs?: number;
  /** How long a coordinator waits for every member's done report after a commit (default 10 s). */
  doneTimeoutMs?: number;
  heartbeatMs?: number;
  /** Follow the plan head and take part in 2PC (default true; false for one-shot commands: sync, status, apply). */
  participate?: boolean;
  /** Where warnings go (default stderr). */
  warn?: (message: string) => void;
  /** Test hook: vote yes with a table hash other than the staged table's (a node that lies in prepare). */
  lie?: boolean;
}

/** A node's heartbeat in the nodes bucket. */
export interface NodeBeat {
  node: string;
  plan_id: string | null;
  /** The head revision this node has processed. */
  head_revision: number;
  heartbeat_ms: number;
  pid: number;
  at: string;
}

export interface ClusterApplyResult {
  plan_id: string;
  mode: "cluster" | "single";
  /** The head revision the plan was published at (cluster mode). */
  revision?: number;
  decision?: DecisionRecord;
  members: string[];
  /** Members that reported the plan committed (done records) before the coordinator stopped waiting. */
  committed: string[];
  /** Members that had not reported within doneTimeoutMs (they converge when they run again). */
  waiting: string[];
  /** From publishing the head to every member's done report (or the timeout). */
  ms: { vote: number; total: number };
  local?: ApplyResult;
}

export interface NodeStatus {
  node: string;
  plan_id: string | null;
  head_revision: number;
  /** Head revisions this node has not processed yet. */
  lag_revisions: number;
  /** Since its last heartbeat. */
  age_ms: number;
  alive: boolean;
  in_sync: boolean;
}

export interface ClusterStatus {
  mode: "cluster" | "single";
  node: string;
  servers: string[];
  warning?: string;
  single_node_warnings: number;
  local: { plan_id: string | null };
  head: { plan_id: string | null; revision: number; aborted?: string } | null;
  nodes: NodeStatus[];
}

export interface NodeCounters {
  committed: number;
  aborted: number;
  lies_detected: number;
  stale_rejected: number;
  errors: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One fabric node of a NATS JetStream cluster (spec/fabric/cluster.md). It follows the plan head in the plans
 * bucket, takes part in cross-node 2PC through its own reconciler (ClusterGate), resolves an undecided prepare from
 * the decision stream when it starts, replicates its registry through the Object Store, and heartbeats its plan in
 * force. When NATS cannot be reached within the connect timeout it runs alone ("single" mode), says so once and
 * counts it: plans then apply on this node only.
 */
export class ClusterNode {
  readonly name: string;
  readonly paths: ReconcilePaths;
  mode: "cluster" | "single" = "single";
  warning: string | undefined;
  readonly counters: NodeCounters = { committed: 0, aborted: 0, lies_detected: 0, stale_rejected: 0, errors: 0 };
  /** The last error handling a head (also warned). */
  lastError: string | undefined;
  /** What start() did to an undecided prepare left by a crash. */
  resolved: { plan_id: string; outcome: "commit" | "abort"; by: string } | undefined;
  private conn: ClusterConn | undefined;
  private current: string | null = null;
  private seenRevision = 0;
  private queue: Promise<void> = Promise.resolve();
  private watcher: QueuedIterator<KvWatchEntry> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly o: Required<
    Pick<ClusterNodeOptions, "voteTimeoutMs" | "decisionTimeoutMs" | "doneTimeoutMs" | "heartbeatMs">
  >;

  private constructor(readonly opts: ClusterNodeOptions) {
    this.name =
      opts.name ??
      hostname()
        .replace(/[^A-Za-z0-9_-]/g, "-")
        .slice(0, 64);
    if (!NODE_RE.test(this.name))
      throw new FabricError("RTT_FABRIC_USAGE", `node name must match ${NODE_RE}`, this.name);
    this.paths = reconcilePaths(opts.root ?? ".rtt");
    this.o = {
      voteTimeoutMs: opts.voteTimeoutMs ?? 5000,
      decisionTimeoutMs: opts.decisionTimeoutMs ?? 15000,
      doneTimeoutMs: opts.doneTimeoutMs ?? 10000,
      heartbeatMs: opts.heartbeatMs ?? 1000,
    };
  }

  /** Connects (bounded) or falls back to single-node mode; then recovers and, when participating, follows the head. */
  static async start(opts: ClusterNodeOptions = {}): Promise<ClusterNode> {
    const node = new ClusterNode(opts);
    try {
      node.conn = await openCluster({ reconnect: opts.participate !== false, ...opts });
      node.mode = "cluster";
    } catch (e) {
      node.alone(e as Error);
      return node;
    }
    try {
      if (opts.participate !== false) {
        await node.resolvePending();
        await node.localRecover();
      }
      node.current = existsSync(node.paths.wal) ? readPlanInForce(node.paths).plan_id : null;
      if (opts.participate !== false) {
        await node.beat();
        node.timer = setInterval(() => void node.beat().catch(() => {}), node.o.heartbeatMs);
        node.timer.unref();
        node.watcher = await node.conn.plans.watch({ key: "head" });
        void node.follow(node.watcher);
      }
    } catch (e) {
      await node.close();
      throw e;
    }
    return node;
  }

  private alone(e: Error): void {
    const servers = (Array.isArray(this.opts.servers) ? this.opts.servers.join(",") : this.opts.servers) ?? "";
    this.warning = `cluster: NATS ${servers || "(default)"} unreachable (${e.message}); single-node mode: plans apply on this node only and the registry is not replicated`;
    this.mode = "single";
    countWarning(this.paths.root, this.warning);
    (this.opts.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`)))(this.warning);
  }

  private warn(message: string): void {
    (this.opts.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`)))(message);
  }

  private requireConn(): ClusterConn {
    if (!this.conn) throw new FabricError("RTT_FABRIC_CLUSTER", this.warning ?? "not connected");
    return this.conn;
  }

  /** The plan this node serves (its WAL's plan in force). */
  get planInForce(): string | null {
    return this.current;
  }

  /** Resolves once every head seen so far has been handled. */
  idle(): Promise<void> {
    return this.queue;
  }

  private enqueue(fn: () => Promise<void>): void {
    this.queue = this.queue.then(fn).catch((e) => {
      this.counters.errors++;
      this.lastError = (e as Error).message;
      this.warn(`cluster node ${this.name}: ${this.lastError}`);
    });
  }

  private async follow(it: QueuedIterator<KvWatchEntry>): Promise<void> {
    try {
      for await (const e of it) {
        if (e.operation !== "PUT") continue;
        const head = e.json<PlanHead>();
        const revision = e.revision;
        this.enqueue(() => this.handleHead(head, revision));
      }
    } catch (e) {
      if (this.conn) this.warn(`cluster node ${this.name}: head watch ended: ${(e as Error).message}`);
    }
  }

  /**
   * A crash can leave this node's WAL with a plan prepared and undecided. The standard recovery would abort it, but
   * the cluster may have decided commit (this node voted yes): read the decision record and write the same outcome;
   * with no decision yet, append an abort decision (the expected-sequence publish: if another node decided first,
   * its decision is the one read back and followed).
   */
  private async resolvePending(): Promise<void> {
    if (!existsSync(this.paths.wal)) return;
    const conn = this.requireConn();
    const lock = acquireApplyLock(this.paths.lock);
    let planId: string | undefined;
    try {
      const log = PlanLog.open(this.paths.wal);
      try {
        const p = log.state.pending;
        if (!p) return;
        planId = p.plan_id;
        const tx = await TxWatch.open(conn, p.plan_id);
        try {
          const d =
            tx.decision ??
            (await tx.decide({
              outcome: "abort",
              by: this.name,
              reason_code: "recovered-undecided",
              reason: `node ${this.name} restarted with the plan prepared and no decision`,
              votes: {},
            }));
          if (d.outcome === "commit") log.commit(p.plan_id);
          else log.abort(p.plan_id, `cluster decision (${d.by}): abort (${d.reason_code}): ${d.reason}`);
          this.resolved = { plan_id: p.plan_id, outcome: d.outcome, by: d.by };
        } finally {
          tx.close();
        }
      } finally {
        log.close();
      }
    } finally {
      lock.release();
    }
    if (this.resolved && planId)
      this.warn(`cluster node ${this.name}: resolved ${planId} from the stream: ${this.resolved.outcome}`);
  }

  /** The reconciler's own recovery: re-drives the table to the WAL's plan in force (after resolvePending). */
  private async localRecover(): Promise<void> {
    const r = await Reconciler.open({ paths: this.paths, participants: await fabricParticipants(this.paths) });
    r.close();
    if (this.resolved) {
      const conn = this.requireConn();
      const tx = await TxWatch.open(conn, this.resolved.plan_id);
      try {
        await this.reportDone(tx, this.resolved.outcome === "commit" ? "committed" : "aborted");
      } finally {
        tx.close();
      }
    }
  }

  private async reportDone(tx: TxWatch, outcome: "committed" | "aborted"): Promise<void> {
    const table = readTable(this.paths.table);
    await tx.publishDone({
      node: this.name,
      outcome,
      serving: table?.plan_id ?? null,
      table_hash: table && !table.problem ? tableHash(table.routes) : null,
    });
  }

  /** Verified plans from this node's plan in force to `planId` (its chain of bases), oldest first. */
  private async chainTo(planId: string): Promise<Plan[]> {
    const conn = this.requireConn();
    const strict = isStrict({ flag: this.opts.strict, policyPath: this.paths.policy });
    const store = loadTrustStore(this.paths.registry);
    const out: Plan[] = [];
    let id = planId;
    for (let i = 0; i < 1024; i++) {
      const { plan } = verifyPlan(await getPlanBody(conn, id), { strict, store, where: `cluster plan ${id}` });
      out.unshift(plan);
      if (plan.inputs.base === this.current) return out;
      if (plan.inputs.base === null)
        throw new FabricError(
          "RTT_FABRIC_STALE",
          `this node serves ${this.current}, which is not on the cluster's chain of plans to ${planId}`,
          planId,
        );
      id = plan.inputs.base;
    }
    throw new FabricError("RTT_FABRIC_STALE", "more than 1024 plans behind the head", planId);
  }

  private reconcile(plan: Plan, gate?: ClusterGate): Promise<ApplyResult> {
    return (async () => {
      // The local table, the root's fabric daemon when one answers on its socket, then the cluster's vote.
      const parts = await fabricParticipants(this.paths);
      const r = await Reconciler.open({ paths: this.paths, participants: gate ? [...parts, gate] : parts });
      try {
        return await r.apply(plan);
      } finally {
        r.close();
      }
    })();
  }

  /** Stages a gate whose staged file is the local participant's. */
  private gateFor(tx: TxWatch): ClusterGate {
    return new ClusterGate(
      this.name,
      tx,
      new LocalParticipant(this.paths.table).staged,
      this.paths.table,
      this.o.decisionTimeoutMs,
      this.opts.lie === true,
    );
  }

  private async handleHead(head: PlanHead, revision: number): Promise<void> {
    const conn = this.requireConn();
    try {
      if (!head.plan_id || head.plan_id === this.current) return;
      const member = head.members.includes(this.name);
      const tx = await TxWatch.open(conn, head.plan_id, [this.name]);
      let gate: ClusterGate | undefined;
      try {
        if (tx.decision?.outcome === "abort") return;
        if (!member && !tx.decision) await tx.until(() => tx.decision !== undefined, this.o.decisionTimeoutMs);
        if (!member && tx.decision?.outcome !== "commit") return;
        try {
          const chain = await this.chainTo(head.plan_id);
          for (const p of chain.slice(0, -1)) await this.catchUp(p);
          const plan = chain[chain.length - 1] as Plan;
          if (tx.decision?.outcome !== "commit") gate = this.gateFor(tx);
          await this.reconcile(plan, gate);
          this.current = plan.plan_id;
          this.counters.committed++;
          await this.reportDone(tx, "committed");
        } catch (e) {
          // A refusal before this node voted (stale base, untrusted signature, busy lock, table refused) is its no vote.
          if (member && !gate?.voted && !tx.prepares.has(this.name) && !tx.decision)
            await tx.publishPrepare({ node: this.name, vote: "no", reason: (e as Error).message });
          const d: DecisionRecord | undefined = tx.decision as DecisionRecord | undefined; // set meanwhile by the gate
          if (isFabricError(e) && e.code === "RTT_FABRIC_NACK" && d?.outcome === "abort") {
            this.counters.aborted++;
            if (d.reason_code === "lying-participant") this.counters.lies_detected++;
            await this.reportDone(tx, "aborted");
            return;
          }
          throw e;
        }
      } finally {
        tx.close();
      }
    } finally {
      this.seenRevision = Math.max(this.seenRevision, revision);
      await this.beat().catch(() => {});
    }
  }

  /** Applies a plan the cluster already committed (this node was down or not a member): no vote needed. */
  private async catchUp(plan: Plan): Promise<void> {
    const conn = this.requireConn();
    const d = await readDecision(conn, plan.plan_id);
    if (d?.outcome !== "commit")
      throw new FabricError(
        "RTT_FABRIC_STALE",
        "on the chain to the head but not committed by the cluster",
        plan.plan_id,
      );
    await this.reconcile(plan);
    this.current = plan.plan_id;
    const tx = await TxWatch.open(conn, plan.plan_id);
    try {
      await this.reportDone(tx, "committed");
    } finally {
      tx.close();
    }
  }

  private async beat(): Promise<void> {
    if (!this.conn) return;
    const b: NodeBeat = {
      node: this.name,
      plan_id: this.current,
      head_revision: this.seenRevision,
      heartbeat_ms: this.o.heartbeatMs,
      pid: process.pid,
      at: new Date().toISOString(),
    };
    await this.conn.nodes.put(this.name, new TextEncoder().encode(JSON.stringify(b)));
  }

  /** The heartbeats in the nodes bucket. */
  async beats(): Promise<Array<NodeBeat & { age_ms: number; alive: boolean }>> {
    const conn = this.requireConn();
    const out: Array<NodeBeat & { age_ms: number; alive: boolean }> = [];
    for await (const k of await conn.nodes.keys()) {
      const e = await conn.nodes.get(k);
      if (e?.operation !== "PUT") continue;
      const b = e.json<NodeBeat>();
      const age_ms = Math.max(0, Date.now() - e.created.getTime());
      out.push({ ...b, age_ms, alive: age_ms < 3 * (b.heartbeat_ms || 1000) + 1000 });
    }
    return out.sort((a, b) => a.node.localeCompare(b.node));
  }

  /**
   * Coordinates a plan across the cluster: verify it, store its body, move the head (`kv.update` with the revision
   * read — or `opts.revision` — so a stale writer is refused), collect every member's vote, append the decision
   * (expected last sequence 0: one decision per plan), and wait for the members' done reports. An abort puts the
   * head back and throws RTT_FABRIC_NACK with the decision's named reason. In single-node mode: a local apply.
   */
  async apply(planDoc: unknown, opts: { revision?: number; members?: string[] } = {}): Promise<ClusterApplyResult> {
    const strict = isStrict({ flag: this.opts.strict, policyPath: this.paths.policy });
    const { plan } = verifyPlan(planDoc, { strict, store: loadTrustStore(this.paths.registry) });
    const t0 = performance.now();
    if (!this.conn) {
      const local = await this.reconcile(plan);
      this.current = plan.plan_id;
      return {
        plan_id: plan.plan_id,
        mode: "single",
        members: [this.name],
        committed: [this.name],
        waiting: [],
        ms: { vote: local.ms.prepare, total: performance.now() - t0 },
        local,
      };
    }
    const conn = this.conn;
    const read: HeadEntry = await readHead(conn);
    if (opts.revision === undefined && (read.head?.plan_id ?? null) !== plan.inputs.base)
      throw new FabricError(
        "RTT_FABRIC_STALE",
        `computed against ${plan.inputs.base ?? "no plan"}, the cluster's head is ${read.head?.plan_id ?? "no plan"} (revision ${read.revision}): build the plan again`,
        plan.plan_id,
      );
    const members = [
      ...new Set(opts.members ?? this.opts.members ?? (await this.beats()).filter((b) => b.alive).map((b) => b.node)),
    ].sort();
    if (members.length === 0) throw new FabricError("RTT_FABRIC_CLUSTER", "no node is alive to take the plan");
    const tx = await TxWatch.open(conn, plan.plan_id, members);
    try {
      if (tx.decision)
        throw new FabricError("RTT_FABRIC_STALE", `already decided: ${tx.decision.outcome}`, plan.plan_id);
      await putPlanBody(conn, plan);
      const head: PlanHead = {
        plan_id: plan.plan_id,
        base: plan.inputs.base,
        members,
        coordinator: this.name,
        at: new Date().toISOString(),
      };
      let revision: number;
      try {
        revision = await moveHead(conn, head, opts.revision ?? read.revision);
      } catch (e) {
        if (isFabricError(e) && e.code === "RTT_FABRIC_STALE") this.counters.stale_rejected++;
        throw e;
      }
      clusterCrashPoint("cluster-after-head");
      const tHead = performance.now();
      await tx.until(() => members.every((n) => tx.prepares.has(n)) || tx.decision !== undefined, this.o.voteTimeoutMs);
      const vote = performance.now() - tHead;
      const d = await tx.decide({
        by: this.name,
        ...decideVotes(members, tx.prepares, tableHash(plan.routes), this.o.voteTimeoutMs),
      });
      if (d.outcome === "abort") {
        if (d.reason_code === "lying-participant") this.counters.lies_detected++;
        const back: PlanHead = read.head
          ? { ...read.head, aborted: plan.plan_id, at: new Date().toISOString() }
          : { plan_id: null, base: null, members: [], coordinator: this.name, aborted: plan.plan_id, at: "" };
        await moveHead(conn, back, revision).catch(() => {}); // someone moved on: nothing to put back
        throw new FabricError(
          "RTT_FABRIC_NACK",
          `the cluster aborted the plan (${d.reason_code ?? "?"}, decided by ${d.by}): ${d.reason ?? ""}`,
          plan.plan_id,
        );
      }
      await tx.until(() => members.every((n) => tx.done.has(n)), this.o.doneTimeoutMs);
      const committed = members.filter((n) => tx.done.get(n)?.outcome === "committed");
      return {
        plan_id: plan.plan_id,
        mode: "cluster",
        revision,
        decision: d,
        members,
        committed,
        waiting: members.filter((n) => !committed.includes(n)),
        ms: { vote, total: performance.now() - tHead },
      };
    } finally {
      tx.close();
    }
  }

  /** Pushes this node's registry objects to the Object Store and pulls (verified) what it lacks. */
  async sync(opts: { push?: boolean; pull?: boolean } = {}): Promise<SyncReport> {
    const conn = this.requireConn();
    return syncRegistry(openRegistry(this.paths.registry), await conn.cas(), opts);
  }

  async status(): Promise<ClusterStatus> {
    const local = { plan_id: existsSync(this.paths.wal) ? readPlanInForce(this.paths).plan_id : null };
    const base = {
      node: this.name,
      servers: this.conn?.servers ?? [],
      single_node_warnings: readClusterState(this.paths.root).single_node_warnings,
      local,
    };
    if (!this.conn)
      return { mode: "single", ...base, ...(this.warning ? { warning: this.warning } : {}), head: null, nodes: [] };
    const h = await readHead(this.conn);
    const nodes = (await this.beats()).map(
      (b): NodeStatus => ({
        node: b.node,
        plan_id: b.plan_id,
        head_revision: b.head_revision,
        lag_revisions: Math.max(0, h.revision - b.head_revision),
        age_ms: b.age_ms,
        alive: b.alive,
        in_sync: b.plan_id === (h.head?.plan_id ?? null),
      }),
    );
    return {
      mode: "cluster",
      ...base,
      head: h.head
        ? { plan_id: h.head.plan_id, revision: h.revision, ...(h.head.aborted ? { aborted: h.head.aborted } : {}) }
        : { plan_id: null, revision: h.revision },
      nodes,
    };
  }

  /** Waits until this node has handled the head as it is now (or `ms` passed). */
  async settle(ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    const target = this.conn && this.watcher ? (await readHead(this.conn)).revision : 0;
    for (;;) {
      const q = this.queue;
      await q;
      if ((q === this.queue && this.seenRevision >= target) || Date.now() > end) return;
      await sleep(20);
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.watcher?.stop();
    await this.queue.catch(() => {});
    const c = this.conn;
    this.conn = undefined;
    await c?.close();
  }
}
