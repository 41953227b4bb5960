/** Wire types of RTT-Inside session logs (spec/v1, spec/v2). The JSON Schemas are the authority; these mirror them. */

export const SAMPLE_FIELDS = ["t", "C", "D", "Q", "R"] as const;
export type SampleField = (typeof SAMPLE_FIELDS)[number];

export interface SET {
  S: number;
  E: number;
  T: number;
}

export interface Sample {
  t: number;
  C: number;
  D: number;
  Q: number;
  R: number;
  SET?: SET;
  triadic?: { set?: SET; dimcore?: DimCore };
  [extra: string]: unknown;
}

export interface Anomaly {
  t: number;
  type: string;
  severity?: number;
  details?: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface Scores {
  stability: number;
  response: number;
  quality: number;
  final: number;
  [extra: string]: unknown;
}

export interface SnrNode {
  id: string;
  role?: string;
  neighbors?: string[];
  local_corridor?: Partial<Record<"t" | "C" | "D" | "Q" | "R", number>>;
  coupling?: number;
  [extra: string]: unknown;
}

export interface DimCore {
  model?: string;
  dims: Record<string, number>;
}

export interface Segment {
  segment_id: string;
  label: string;
  samples: Sample[];
  anomalies?: Anomaly[];
  meta?: Record<string, unknown>;
  [extra: string]: unknown;
}

export type Mode = "TRAINING" | "LIVE" | "REPLAY";
export type DeviceType = "COMT" | "CTE" | "CLFC" | "PR" | "CUSTOM";

export interface SessionLogV1 {
  session_id: string;
  timestamp: string;
  device: string;
  scenario: string;
  difficulty: string;
  samples: Sample[];
  anomalies?: Anomaly[];
  scores: Scores;
  nodes?: SnrNode[];
  dimensional_core?: Partial<DimCore>;
  [extra: string]: unknown;
}

export interface SessionLogV2 {
  spec_version: "v2";
  engine_version?: string;
  mode?: Mode;
  session_id: string;
  timestamp: string;
  device: string;
  device_type?: DeviceType;
  scenario: string;
  difficulty: string;
  operator_id?: string;
  operator_display?: string;
  operator_team?: string;
  mastery_level?: number;
  sample_count?: number;
  segment_count?: number;
  anomaly_count?: number;
  score_final?: number;
  extensions?: Array<"SET" | "SNR" | "DIMCORE">;
  samples?: Sample[];
  segments?: Segment[];
  anomalies?: Anomaly[];
  triadic?: { set?: SET; snr?: { nodes: SnrNode[] }; dimcore?: DimCore };
  scores: Scores;
  [extra: string]: unknown;
}

export type SessionLog = SessionLogV1 | SessionLogV2;
export type SpecVersion = "v1" | "v2";

/** One finding of the validator. `path` is a JSON Pointer (RFC 6901) into the log, "" for the root. */
export interface ValidationIssue {
  code: string;
  path: string;
  message: string;
  /** The taxonomy anomaly this finding is flagged as, when it is one (a time slip: RESONANCE_TIME_SLIP, 5). */
  anomaly?: { type: string; severity: number };
}

export interface ValidationResult {
  /** No errors. Warnings (the project's rules beyond the seed's) do not make a log invalid unless `strict`. */
  ok: boolean;
  specVersion: SpecVersion | null;
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
}
