import { canonicalJson, summarizeSession } from "@rtt/core";
import type { SessionEmitter } from "../emit.js";
import type { Metrics } from "../metrics.js";
import type { GroupCommitter } from "../store/group-commit.js";
import type { IngestItem, MasteryUpdate } from "../store/types.js";
import type { PreparedSession } from "./prepare.js";

export type IngestResult =
  | { status: "created"; session_id: string; mastery?: MasteryUpdate }
  | { status: "duplicate"; session_id: string }
  | { status: "conflict"; session_id: string };

/**
 * validate → derive (done by prepareSession) → store → emit + metrics.
 * A session is acknowledged only after its transaction committed; metrics and the Loki line follow the commit.
 */
export class IngestService {
  private active = 0;
  private drainWaiters: Array<() => void> = [];

  constructor(
    private readonly committer: GroupCommitter,
    private readonly metrics: Metrics,
    private readonly emitter: SessionEmitter | null,
  ) {}

  /** Counts a request's ingest work until it settles; see `drained`. */
  async track<T>(work: Promise<T>): Promise<T> {
    this.active++;
    try {
      return await work;
    } finally {
      if (--this.active === 0) for (const w of this.drainWaiters.splice(0)) w();
    }
  }

  /** Resolves once no tracked request is being prepared or stored. */
  drained(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  toItem(p: PreparedSession): IngestItem {
    return {
      columns: p.derived.columns,
      summary: p.derived.summary,
      document: p.raw,
      sha256: p.sha256,
      mastery: p.derived.columns.operator_id ? (p.masterySummary ?? summarizeSession(p.log)) : undefined,
    };
  }

  async ingest(p: PreparedSession): Promise<IngestResult> {
    const started = performance.now();
    const outcome = await this.committer.submit(this.toItem(p));
    const session_id = p.derived.columns.session_id;
    if (outcome.status === "duplicate") return { status: "duplicate", session_id };
    if (outcome.status === "exists") {
      if (sameContent(outcome.stored, p)) return { status: "duplicate", session_id };
      this.metrics.rejected("conflict");
      return { status: "conflict", session_id };
    }
    this.metrics.ingestDuration.observe((performance.now() - started) / 1000);
    this.observe(p, outcome.mastery);
    this.emitter?.accepted(p, outcome.mastery);
    return { status: "created", session_id, mastery: outcome.mastery };
  }

  private observe(p: PreparedSession, mastery: MasteryUpdate | undefined): void {
    const c = p.derived.columns;
    this.metrics.session({
      device_type: c.device_type ?? "none",
      scenario: c.scenario,
      difficulty: c.difficulty,
      mode: c.mode ?? "none",
      spec_version: c.spec_version,
      score_final: c.score_final ?? Number.NaN,
      anomaly_count: c.anomaly_count,
      mastery_level: c.mastery_level ?? mastery?.state.level ?? null,
      anomalies: p.derived.anomalies,
    });
    if (mastery && c.operator_id) this.metrics.operator(c.operator_id, mastery.state.level, mastery.state.xp);
  }
}

/** Same content = same JSON value (key order and whitespace aside). Only reached when the bytes differ. */
function sameContent(stored: Buffer, p: PreparedSession): boolean {
  try {
    return canonicalJson(JSON.parse(stored.toString("utf8"))) === canonicalJson(p.log);
  } catch {
    return false;
  }
}
