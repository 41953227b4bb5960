import { readSpecJson } from "../spec.js";

/** The eleven anomaly types of spec/taxonomy/anomalies.json (seed 000 taxonomy + CORRELATION_COLLAPSE of §4). */
export const ANOMALY_TYPES = [
  "DECOHERENCE_SPIKE",
  "CORRIDOR_C_DRIFT",
  "OVERSHOOT_EVENT",
  "HUNTING_OSCILLATION",
  "SENSOR_INTEGRITY_DROP",
  "LOG_SCHEMA_VIOLATION",
  "SEGMENT_BOUNDARY_GLITCH",
  "RESONANCE_TIME_SLIP",
  "SNR_NODE_DESYNC",
  "DIMCORE_IMBALANCE",
  "CORRELATION_COLLAPSE",
] as const;
export type AnomalyType = (typeof ANOMALY_TYPES)[number];

export type Severity = 1 | 2 | 3 | 4 | 5;
/** Five increasing measure values; reaching thresholds[i] means severity i + 1. */
export type SeverityThresholds = [number, number, number, number, number];

export interface TaxonomyType {
  type: AnomalyType;
  domain: string;
  meaning: string;
  causes: string[];
  drills: string[];
  detector: { scope: "step" | "segment" | "session" | "emit"; measure: string; params: Record<string, number> };
  severity: { thresholds: SeverityThresholds; guidance: Record<string, string> };
}

export interface Taxonomy {
  description: string;
  version: string;
  domains: string[];
  severity_rubric: Record<string, string>;
  types: TaxonomyType[];
}

/** spec/taxonomy/anomalies.json, read once. */
export function anomalyTaxonomy(): Taxonomy {
  return readSpecJson<Taxonomy>("taxonomy/anomalies.json");
}

export function taxonomyEntry(type: string): TaxonomyType | undefined {
  return anomalyTaxonomy().types.find((t) => t.type === type);
}

/**
 * The unified severity mapping: the number of thresholds the measure reaches, 0 when it reaches none (no finding).
 * Every detector uses this one rule with its own thresholds from the taxonomy (or a scenario override).
 */
export function severityOf(measure: number, thresholds: readonly number[]): 0 | Severity {
  let s = 0;
  const n = Math.min(5, thresholds.length); // a short list (malformed override) caps the severity, as it always did
  while (s < n && measure >= thresholds[s]!) s++;
  return s as 0 | Severity;
}

/** Per-type detector parameters and thresholds after applying a scenario's overrides. */
export interface DetectorConfig {
  params: Record<string, number>;
  thresholds: SeverityThresholds;
}
export type DetectorConfigs = Record<AnomalyType, DetectorConfig>;

/**
 * A detector's parameter, read once before its pass. A name the taxonomy (or a scenario's override) does not define
 * is an error: left undefined, every comparison with it is false and the detector would silently find nothing.
 */
export function detectorParam(cfg: DetectorConfig, type: AnomalyType, name: string): number {
  const v = cfg.params[name];
  if (typeof v !== "number")
    throw new Error(
      `${type}: detector parameter '${name}' is not set (spec/taxonomy/anomalies.json or the scenario's thresholds)`,
    );
  return v;
}

export type ThresholdOverrides = Partial<
  Record<AnomalyType, { params?: Record<string, number>; thresholds?: SeverityThresholds }>
>;

export function detectorConfigs(overrides: ThresholdOverrides = {}): DetectorConfigs {
  const out = {} as DetectorConfigs;
  for (const entry of anomalyTaxonomy().types) {
    const o = overrides[entry.type];
    out[entry.type] = {
      params: { ...entry.detector.params, ...(o?.params ?? {}) },
      thresholds: o?.thresholds ?? entry.severity.thresholds,
    };
  }
  return out;
}
