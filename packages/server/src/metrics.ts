import { OVERFLOW_LABEL } from "@rtt/http";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Label values that come from session content are bounded: long strings cut, and at most this many per label. */
export const MAX_LABEL_VALUES = 100;
export const MAX_LABEL_LENGTH = 64;

const NON_CONFORMING_DEFAULTS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

export type RejectReason = "schema" | "semantic" | "conflict" | "too_large" | "bad_json" | "unsupported_media";

export interface SessionObservation {
  device_type: string;
  scenario: string;
  difficulty: string;
  mode: string;
  spec_version: string;
  score_final: number;
  anomaly_count: number;
  mastery_level: number | null;
  anomalies: Array<{ segment_label: string; severity: number | null; type: string }>;
}

/**
 * Keeps a label's distinct values bounded so a client cannot grow /metrics without limit:
 * the first MAX_LABEL_VALUES distinct values are kept, later new ones are reported as "other".
 */
class LabelBudget {
  private readonly seen = new Map<string, Set<string>>();
  value(label: string, raw: string | null | undefined): string {
    let v = raw == null || raw === "" ? "none" : String(raw);
    if (v.length > MAX_LABEL_LENGTH) v = v.slice(0, MAX_LABEL_LENGTH);
    let set = this.seen.get(label);
    if (!set) {
      set = new Set();
      this.seen.set(label, set);
    }
    if (set.has(v)) return v;
    if (set.size >= MAX_LABEL_VALUES) return OVERFLOW_LABEL;
    set.add(v);
    return v;
  }
}

/** Metrics of one server instance, on its own registry (tests build several servers in one process). */
export class Metrics {
  readonly registry = new Registry();
  private readonly labels = new LabelBudget();
  private readonly operators = new Map<string, true>();

  readonly httpRequests = new Counter({
    name: "rtt_runner_http_requests_total",
    help: "Total HTTP requests processed by rtt-runner.",
    labelNames: ["path", "method", "status"],
    registers: [this.registry],
  });
  readonly runRequests = new Counter({
    name: "rtt_runner_run_requests_total",
    help: "Total /run executions.",
    registers: [this.registry],
  });
  readonly validateRequests = new Counter({
    name: "rtt_runner_validate_requests_total",
    help: "Total /validate executions.",
    registers: [this.registry],
  });
  readonly conformanceOk = new Gauge({
    name: "rtt_runner_conformance_ok",
    help: "1 if last conformance validation succeeded, else 0.",
    registers: [this.registry],
  });
  readonly lastRunDuration = new Histogram({
    name: "rtt_runner_last_run_duration_seconds",
    help: "Observed durations for engine run path.",
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0],
    registers: [this.registry],
  });
  readonly sessionsIngested = new Counter({
    name: "rtt_sessions_ingested_total",
    help: "Sessions accepted and stored.",
    labelNames: ["device_type", "scenario", "difficulty", "mode", "spec_version"],
    registers: [this.registry],
  });
  readonly sessionsRejected = new Counter({
    name: "rtt_sessions_rejected_total",
    help: "Sessions (or NDJSON lines) rejected, by reason.",
    labelNames: ["reason"],
    registers: [this.registry],
  });
  readonly requestsRefused = new Counter({
    name: "rtt_requests_refused_total",
    help: "Requests refused before their body was read: foreign Host or Origin, a media type no route takes, or a missing or insufficient token.",
    labelNames: ["reason"],
    registers: [this.registry],
  });
  readonly anomalies = new Counter({
    name: "rtt_session_anomalies_total",
    help: "Anomalies in accepted sessions.",
    labelNames: ["segment_label", "severity", "type"],
    registers: [this.registry],
  });
  readonly scoreFinal = new Histogram({
    name: "rtt_session_score_final",
    help: "score_final of accepted sessions.",
    labelNames: ["device_type", "difficulty"],
    buckets: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
    registers: [this.registry],
  });
  readonly anomalyCount = new Histogram({
    name: "rtt_session_anomaly_count",
    help: "Anomalies per accepted session, by the session's mastery level.",
    labelNames: ["mastery_level"],
    buckets: [0, 1, 2, 3, 5, 8, 13, 21],
    registers: [this.registry],
  });
  readonly sessionsByMastery = new Counter({
    name: "rtt_sessions_by_mastery_level_total",
    help: "Accepted sessions by the session's mastery level.",
    labelNames: ["mastery_level"],
    registers: [this.registry],
  });
  readonly operatorLevel = new Gauge({
    name: "rtt_operator_mastery_level",
    help: "Current mastery level per operator (bounded series; least recently active evicted).",
    labelNames: ["operator_id"],
    registers: [this.registry],
  });
  readonly operatorXp = new Gauge({
    name: "rtt_operator_mastery_xp",
    help: "Current mastery experience per operator (same series cap as rtt_operator_mastery_level).",
    labelNames: ["operator_id"],
    registers: [this.registry],
  });
  readonly ingestDuration = new Histogram({
    name: "rtt_ingest_duration_seconds",
    help: "Time from a parsed ingest body to its durable commit.",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /** Reads the Loki feed's drop count at scrape time (see `watchSessionLog`). */
  private readSessionLogDropped: () => number = () => 0;
  private sessionLogReported = 0;
  readonly sessionLogDrops = new Counter({
    name: "rtt_session_log_dropped_total",
    help: "Accepted sessions whose Loki NDJSON lines were dropped because the session log output fell behind.",
    registers: [this.registry],
    collect: () => {
      const now = this.readSessionLogDropped();
      if (now > this.sessionLogReported) this.sessionLogDrops.inc(now - this.sessionLogReported);
      this.sessionLogReported = now;
    },
  });

  /** Counts what the emitter drops; the counter reads it when scraped, so the hot path only bumps an integer. */
  watchSessionLog(dropped: () => number): void {
    this.readSessionLogDropped = dropped;
  }

  constructor(readonly maxOperatorSeries = 200) {
    collectDefaultMetrics({ register: this.registry });
    // prom-client's *_total gauges break Prometheus naming rules (promtool); the per-type gauges
    // nodejs_active_handles / nodejs_active_requests / nodejs_active_resources carry the same numbers.
    for (const name of NON_CONFORMING_DEFAULTS) this.registry.removeSingleMetric(name);
  }

  rejected(reason: RejectReason, n = 1): void {
    this.sessionsRejected.inc({ reason }, n);
  }

  session(o: SessionObservation): void {
    const l = (name: string, v: string | null | undefined) => this.labels.value(name, v);
    this.sessionsIngested.inc({
      device_type: l("device_type", o.device_type),
      scenario: l("scenario", o.scenario),
      difficulty: l("difficulty", o.difficulty),
      mode: l("mode", o.mode),
      spec_version: l("spec_version", o.spec_version),
    });
    if (Number.isFinite(o.score_final))
      this.scoreFinal.observe(
        { device_type: l("device_type", o.device_type), difficulty: l("difficulty", o.difficulty) },
        o.score_final,
      );
    const level = o.mastery_level == null ? "none" : String(o.mastery_level);
    this.anomalyCount.observe({ mastery_level: level }, o.anomaly_count);
    this.sessionsByMastery.inc({ mastery_level: level });
    for (const a of o.anomalies)
      this.anomalies.inc({
        segment_label: l("segment_label", a.segment_label),
        severity: a.severity == null ? "none" : String(a.severity),
        type: l("anomaly_type", a.type),
      });
  }

  /** Sets an operator's gauges; beyond the cap the least recently active operator's series are removed. */
  operator(operatorId: string, level: number, xp: number): void {
    this.operators.delete(operatorId);
    this.operators.set(operatorId, true);
    this.operatorLevel.set({ operator_id: operatorId }, level);
    this.operatorXp.set({ operator_id: operatorId }, xp);
    while (this.operators.size > this.maxOperatorSeries) {
      const oldest = this.operators.keys().next().value as string;
      this.operators.delete(oldest);
      this.operatorLevel.remove({ operator_id: oldest });
      this.operatorXp.remove({ operator_id: oldest });
    }
  }

  operatorSeriesCount(): number {
    return this.operators.size;
  }
}
