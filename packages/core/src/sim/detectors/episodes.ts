import type { Anomaly } from "../../types.js";
import { ANOMALY_TYPES, type AnomalyType, type Severity, severityOf } from "../taxonomy.js";

/** Numbers in anomaly details are rounded to 1e-6 so logs stay readable (and stay deterministic). */
export const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

export function anomalyOf(
  type: AnomalyType,
  t: number,
  severity: Severity,
  details: Record<string, number | string | boolean>,
): Anomaly {
  const d: Record<string, number | string | boolean> = {};
  for (const [k, v] of Object.entries(details)) d[k] = typeof v === "number" ? round6(v) : v;
  return { t, type, severity, details: d };
}

interface Open {
  onset: number;
  last: number;
  lastStep: number;
  peak: number;
  tPeak: number;
  severity: Severity;
  steps: number;
}

/** Slot of each anomaly type in the tracker's arrays (a property load on a constant object, not a Map lookup). */
const TYPE_SLOT = Object.fromEntries(ANOMALY_TYPES.map((type, i) => [type, i])) as Record<AnomalyType, number>;

/**
 * Merges per-step findings into episodes: findings of one type on consecutive steps are one anomaly whose t is the
 * onset, whose severity is the episode's peak, and whose details carry the peak measure, its time and the end.
 * Call `step()` once per engine step, `find()` for each finding of that step, `flush()` at the end of a segment.
 * `find` runs on every step of a long episode, so it allocates only when an episode opens; open episodes are flushed
 * in the order their types were first seen (the order the anomalies have always had before sorting).
 */
export class EpisodeTracker {
  private readonly open: Array<Open | undefined> = new Array(ANOMALY_TYPES.length).fill(undefined);
  private readonly firstSeen: AnomalyType[] = [];
  private stepNo = 0;
  readonly anomalies: Anomaly[] = [];

  step(): void {
    this.stepNo++;
  }

  find(type: AnomalyType, t: number, measure: number, severity: Severity): void {
    const slot = TYPE_SLOT[type];
    const o = this.open[slot];
    if (o && o.lastStep >= this.stepNo - 1) {
      o.last = t;
      o.lastStep = this.stepNo;
      o.steps++;
      if (measure > o.peak) {
        o.peak = measure;
        o.tPeak = t;
      }
      if (severity > o.severity) o.severity = severity;
      return;
    }
    if (o) this.close(type, o);
    else this.firstSeen.push(type);
    this.open[slot] = { onset: t, last: t, lastStep: this.stepNo, peak: measure, tPeak: t, severity, steps: 1 };
  }

  flush(): Anomaly[] {
    for (const type of this.firstSeen) {
      const o = this.open[TYPE_SLOT[type]];
      if (o) this.close(type, o);
    }
    this.open.fill(undefined);
    this.firstSeen.length = 0;
    return this.anomalies;
  }

  private close(type: AnomalyType, o: Open) {
    this.anomalies.push(
      anomalyOf(type, o.onset, o.severity, { peak: o.peak, t_peak: o.tPeak, t_end: o.last, steps: o.steps }),
    );
  }
}

/** A point finding of a segment-level detector: at time t, this much of the measure. */
export interface PointFinding {
  t: number;
  amount: number;
  /** Forces the episode to severity 5 (e.g. time running backwards). */
  critical?: boolean;
  kind?: string;
}

/**
 * Groups point findings less than maxGap apart into episodes; an episode's measure is the sum of its amounts
 * (or their count when `count` is set). Episodes whose measure reaches thresholds[0] become anomalies at their first t.
 */
export function clusterFindings(
  type: AnomalyType,
  findings: PointFinding[],
  maxGap: number,
  thresholds: readonly number[],
  count = false,
): Anomaly[] {
  const out: Anomaly[] = [];
  let i = 0;
  while (i < findings.length) {
    let j = i;
    while (j + 1 < findings.length && findings[j + 1]!.t - findings[j]!.t <= maxGap) j++;
    const group = findings.slice(i, j + 1);
    const first = group[0]!; // i <= j: never empty
    const last = group[group.length - 1]!;
    const measure = count ? group.length : group.reduce((a, f) => a + f.amount, 0);
    const critical = group.some((f) => f.critical);
    const sev = critical ? 5 : severityOf(measure, thresholds);
    if (sev > 0) {
      const kinds = [...new Set(group.map((f) => f.kind).filter(Boolean))].join(",");
      const details: Record<string, number | string | boolean> = {
        measure,
        t_end: last.t,
        findings: group.length,
      };
      if (kinds) details.kinds = kinds;
      out.push(anomalyOf(type, first.t, sev as Severity, details));
    }
    i = j + 1;
  }
  return out;
}
