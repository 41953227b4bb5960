import type { Anomaly, Sample, Scores } from "../types.js";
import { columnsOf, type SampleColumns } from "./columns.js";

/**
 * Scores in 0–100 (spec/scenarios/README.md, "Scores"), computed from recorded samples and anomalies only:
 *  stability = 100 * share of samples with C inside the band and D >= D_min;
 *  response  = 100 * mean over excursions (maximal runs of samples outside that safe set) of
 *              max(0, 1 - recovery_time / max_recovery_s); an excursion still open at segment end counts 0;
 *              100 when there is no excursion;
 *  quality   = max(0, 100 - sum of per-anomaly penalties), penalty by severity 1..5 = 2, 5, 10, 20, 40;
 *  final     = 0.4 * stability + 0.3 * response + 0.3 * quality.
 * Each is rounded to one decimal; final is computed from the unrounded parts.
 */
export const SEVERITY_PENALTY = [0, 2, 5, 10, 20, 40] as const;
export const SCORE_WEIGHTS = { stability: 0.4, response: 0.3, quality: 0.3 } as const;
export const DEFAULT_MAX_RECOVERY_S = 10;

export interface ScoringContext {
  C_band: [number, number];
  D_min: number;
  max_recovery_s: number;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * The quality penalty of one anomaly. A severity off the 1..5 integers (possible in a log that was not validated)
 * is rounded and clamped to 0..5 first, as the session summary counts it — indexing the table with 2.5 read
 * undefined and made the session's quality and final score NaN. Absent (or NaN) counts as severity 1.
 */
function penaltyOf(severity: number | undefined): number {
  const s = severity === undefined || Number.isNaN(severity) ? 1 : Math.max(0, Math.min(5, Math.round(severity)));
  return SEVERITY_PENALTY[s]!; // an integer in 0..5
}

export function inSafeSet(s: Sample, c: ScoringContext): boolean {
  return s.C >= c.C_band[0] && s.C <= c.C_band[1] && s.D >= c.D_min;
}

export function scoreSession(segments: Array<{ samples: Sample[] }>, anomalies: Anomaly[], c: ScoringContext): Scores {
  return scoreColumns(
    segments.map((seg) => columnsOf(seg.samples)),
    anomalies,
    c,
  );
}

/** `scoreSession` over recorded columns (the simulator's form: no sample objects needed). */
export function scoreColumns(segments: SampleColumns[], anomalies: Anomaly[], c: ScoringContext): Scores {
  let total = 0;
  let inside = 0;
  const recoveries: number[] = [];
  const lo = c.C_band[0];
  const hi = c.C_band[1];
  for (const cols of segments) {
    const { t, C, D } = cols;
    let exitT: number | undefined;
    for (let i = 0; i < cols.length; i++) {
      total++;
      const ci = C[i]!; // i < cols.length: in range of every column
      if (ci >= lo && ci <= hi && D[i]! >= c.D_min) {
        inside++;
        if (exitT !== undefined) {
          recoveries.push(Math.max(0, 1 - (t[i]! - exitT) / c.max_recovery_s));
          exitT = undefined;
        }
      } else if (exitT === undefined) exitT = t[i]!;
    }
    if (exitT !== undefined) recoveries.push(0);
  }
  const stability = total ? (100 * inside) / total : 0;
  const response = recoveries.length ? (100 * recoveries.reduce((a, b) => a + b, 0)) / recoveries.length : 100;
  let penalty = 0;
  for (const a of anomalies) penalty += penaltyOf(a.severity);
  const quality = Math.max(0, 100 - penalty);
  const final =
    SCORE_WEIGHTS.stability * stability + SCORE_WEIGHTS.response * response + SCORE_WEIGHTS.quality * quality;
  return { stability: round1(stability), response: round1(response), quality: round1(quality), final: round1(final) };
}
