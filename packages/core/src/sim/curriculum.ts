import { segmentsOf } from "../session.js";
import type { Anomaly, Sample, SessionLog } from "../types.js";
import { getScenario, type Objective } from "./scenarios.js";
import { summarizeSession } from "./summary.js";
import { taxonomyEntry } from "./taxonomy.js";

/**
 * Curriculum mode (seed 000, "Screen 3: Curriculum mode"): a scenario's objectives evaluated against a session log,
 * each pass/fail with evidence (segment and t range), and drills recommended from the anomalies that occurred.
 * Objective kinds are documented in spec/scenarios/README.md ("Objectives").
 */

export interface Evidence {
  /** "*" = the whole session. */
  segment_id: string;
  t_from: number;
  t_to: number;
  note: string;
}

export interface ObjectiveResult {
  id: string;
  text: string;
  passed: boolean;
  evidence: Evidence[];
}

export interface DrillRecommendation {
  anomaly_type: string;
  drill: string;
  reason: string;
}

export interface CurriculumReport {
  session_id: string;
  scenario: string;
  difficulty: string;
  passed: boolean;
  objectives: ObjectiveResult[];
  drills: DrillRecommendation[];
}

/** The seed's three example objectives, used for logs of scenarios that are not built in. */
export const DEFAULT_OBJECTIVES: Objective[] = [
  { id: "hold-D", kind: "hold_D_above", threshold: 0.9, seconds: 20, text: "Maintain D above 0.9 for 20 s" },
  { id: "no-severe", kind: "max_severity", max: 3, text: "Avoid severity 4+ anomalies" },
  { id: "score", kind: "min_score", field: "final", min: 80, text: "Achieve score_final >= 80" },
];

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** The longest run of consecutive samples (within one segment) for which `ok` holds. */
function longestRun(log: SessionLog, ok: (s: Sample) => boolean): Evidence | undefined {
  let best: Evidence | undefined;
  for (const seg of segmentsOf(log)) {
    let from: number | undefined;
    let prev: Sample | undefined;
    const close = () => {
      if (from !== undefined && prev && (!best || prev.t - from > best.t_to - best.t_from))
        best = { segment_id: seg.segment_id, t_from: from, t_to: prev.t, note: "" };
      from = undefined;
    };
    for (const s of seg.samples) {
      if (ok(s)) {
        if (from === undefined) from = s.t;
        prev = s;
      } else close();
    }
    close();
  }
  return best;
}

function sessionSpan(log: SessionLog, note: string): Evidence {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const seg of segmentsOf(log))
    for (const s of seg.samples) {
      if (s.t < lo) lo = s.t;
      if (s.t > hi) hi = s.t;
    }
  return { segment_id: "*", t_from: Number.isFinite(lo) ? lo : 0, t_to: Number.isFinite(hi) ? hi : 0, note };
}

function anomalyEvidence(seg: string, a: Anomaly): Evidence {
  const end = typeof a.details?.t_end === "number" ? a.details.t_end : a.t;
  return { segment_id: seg, t_from: a.t, t_to: end, note: `${a.type} severity ${a.severity ?? "?"}` };
}

function holdObjective(log: SessionLog, seconds: number, what: string, ok: (s: Sample) => boolean) {
  const run = longestRun(log, ok);
  const held = run ? run.t_to - run.t_from : 0;
  const passed = held >= seconds - 1e-9;
  const note = `${what} held for ${r3(held)} s (needed ${seconds} s)`;
  return { passed, evidence: run ? [{ ...run, note }] : [sessionSpan(log, note)] };
}

export function evaluateObjective(log: SessionLog, o: Objective): ObjectiveResult {
  const base = { id: o.id, text: o.text };
  const def = getScenario(log.scenario);
  const segs = segmentsOf(log);
  switch (o.kind) {
    case "hold_D_above":
      return { ...base, ...holdObjective(log, o.seconds, `D ≥ ${o.threshold}`, (s) => s.D >= o.threshold) };
    case "hold_C_in_band": {
      const [lo, hi] = def?.corridor.C_band ?? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
      return { ...base, ...holdObjective(log, o.seconds, `C in [${lo}, ${hi}]`, (s) => s.C >= lo && s.C <= hi) };
    }
    case "max_severity": {
      const bad = segs.flatMap((seg) =>
        (seg.anomalies ?? []).filter((a) => (a.severity ?? 1) > o.max).map((a) => anomalyEvidence(seg.segment_id, a)),
      );
      const max = summarizeSession(log).max_severity;
      return bad.length
        ? { ...base, passed: false, evidence: bad }
        : { ...base, passed: true, evidence: [sessionSpan(log, `max severity ${max} ≤ ${o.max}`)] };
    }
    case "min_score": {
      const got = Number(log.scores[o.field]);
      const passed = got >= o.min;
      return {
        ...base,
        passed,
        evidence: [sessionSpan(log, `scores.${o.field} ${got} ${passed ? "≥" : "<"} ${o.min}`)],
      };
    }
    case "max_anomalies": {
      const hits = segs.flatMap((seg) =>
        (seg.anomalies ?? [])
          .filter((a) => !o.type || a.type === o.type)
          .map((a) => anomalyEvidence(seg.segment_id, a)),
      );
      const passed = hits.length <= o.max;
      const what = o.type ?? "anomalies";
      return {
        ...base,
        passed,
        evidence: passed ? [sessionSpan(log, `${hits.length} ${what} ≤ ${o.max}`)] : hits,
      };
    }
  }
}

/** Drills for every anomaly type that occurred: most severe type first, then the most frequent. */
export function recommendDrills(log: SessionLog): DrillRecommendation[] {
  const byType = new Map<string, { count: number; max: number; first: Anomaly; seg: string }>();
  for (const seg of segmentsOf(log))
    for (const a of seg.anomalies ?? []) {
      const e = byType.get(a.type);
      const sev = a.severity ?? 1;
      if (!e) byType.set(a.type, { count: 1, max: sev, first: a, seg: seg.segment_id });
      else {
        e.count++;
        e.max = Math.max(e.max, sev);
      }
    }
  const ordered = [...byType.entries()].sort(
    (a, b) => b[1].max - a[1].max || b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1),
  );
  const out: DrillRecommendation[] = [];
  for (const [type, e] of ordered) {
    const entry = taxonomyEntry(type);
    const urgency = e.max >= 4 ? "; remediation required before advancing" : "";
    const reason = `${e.count}× ${type} (max severity ${e.max}, first at t=${r3(e.first.t)} in ${e.seg})${urgency}`;
    const drills = entry?.drills ?? ["review the session with an instructor (type not in the taxonomy)"];
    for (const drill of drills) out.push({ anomaly_type: type, drill, reason });
  }
  return out;
}

export function evaluateCurriculum(log: SessionLog): CurriculumReport {
  const objectives = (getScenario(log.scenario)?.objectives ?? DEFAULT_OBJECTIVES).map((o) =>
    evaluateObjective(log, o),
  );
  return {
    session_id: log.session_id,
    scenario: log.scenario,
    difficulty: log.difficulty,
    passed: objectives.every((o) => o.passed),
    objectives,
    drills: recommendDrills(log),
  };
}
