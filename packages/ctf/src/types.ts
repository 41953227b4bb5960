/** Wire types of CTF v0.1 events. The JSON Schemas in spec/ctf/v0.1 are the authority; these mirror them. */

export const Q_METRICS = [
  "semantic_drift",
  "tool_entropy",
  "latency_drift",
  "branching_pressure",
  "retry_ratio",
] as const;
export type QMetricName = (typeof Q_METRICS)[number];
export type QMetrics = Record<QMetricName, number>;

export type CorridorStatus = "stable" | "warning" | "critical" | "halted";
export type Violation = QMetricName | "max_steps";

export interface CorridorSpec {
  max_steps: number;
  max_semantic_drift: number;
  max_tool_entropy: number;
  max_latency_drift: number;
  max_branching_pressure: number;
  max_retry_ratio: number;
}

export interface HeaderEvent {
  type: "header";
  task_id: string;
  timestamp: number;
  corridor_spec: CorridorSpec;
  task?: string;
  embedder?: string;
  ctf_version?: "0.1";
}

export interface StepEvent {
  type: "step";
  step_id: number;
  parent_step_id: number | null;
  timestamp: number;
  action: string;
  observation: string;
  tool?: string | null;
  latency_ms: number;
}

export interface QEvent extends QMetrics {
  type: "q";
  step_id: number;
}

export interface StatusEvent {
  type: "status";
  step_id: number;
  corridor_status: CorridorStatus;
  violations: Violation[];
}

export interface RewindEvent {
  type: "rewind";
  from_step: number;
  to_step: number;
  timestamp: number;
}

export interface FooterEvent {
  type: "footer";
  timestamp: number;
  final_status: CorridorStatus;
}

export type CTFEvent = HeaderEvent | StepEvent | QEvent | StatusEvent | RewindEvent | FooterEvent;
export type CTFEventType = CTFEvent["type"];
export const EVENT_TYPES: readonly CTFEventType[] = ["header", "step", "q", "status", "rewind", "footer"];

/** A problem found in a trace. `line` is 1-based; `field` is a JSON pointer into that line's event ("" = whole line). */
export interface CTFIssue {
  line: number;
  field: string;
  code: string;
  message: string;
  severity: "error" | "warning";
}

export function formatIssue(i: CTFIssue): string {
  const where = i.field ? `line ${i.line} ${i.field}` : `line ${i.line}`;
  return `${where}: ${i.severity} ${i.code}: ${i.message}`;
}
