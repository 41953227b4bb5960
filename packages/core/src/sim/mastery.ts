import { difficultyRank } from "./scenarios.js";
import type { SessionSummary } from "./summary.js";

/**
 * The 30-level mastery ladder (spec/mastery/README.md). Per operator: an integer level 0–30 that never decreases and
 * a hidden XP pool. One session moves it through `promote`, a pure function:
 *
 *  1. The seed's promotion formula, exactly:
 *       base_gain         = score_final / 100
 *       anomaly_penalty   = anomaly_count * 0.05 + max_severity * 0.10
 *       complexity_bonus  = log2(segment_count + 1) * 0.05
 *       difficulty_scaler = 1 / (1 + mastery_level / 10)          (mastery_level = the operator's level now)
 *       delta             = (base_gain + complexity_bonus - anomaly_penalty) * difficulty_scaler
 *  2. Freeze: a session with any anomaly of severity >= 4 adds nothing (delta 0).
 *  3. The band's allowed anomaly profile (curriculum mapping table, MASTERY_BANDS): outside it the session adds
 *     nothing; in band 7–10 a severity-3 anomaly ("severity <= 2 preferred") halves the delta.
 *  4. xp = max(0, xp + delta). While xp >= 1 and level < 30: if the promotion gate of the current level is met,
 *     level + 1 and xp - 1 (carry-over); otherwise xp is held at 1.0 until a session meets the gate.
 *     At level 30 xp is capped at 1.0.
 */

export interface MasteryState {
  operator_id: string;
  level: number;
  xp: number;
}

export interface Promotion {
  state: MasteryState;
  /** XP actually added to the pool by this session (after freeze and band rules). */
  delta: number;
  /** The formula's delta before freeze and band rules. */
  raw_delta: number;
  reason: string;
}

export const MAX_LEVEL = 30;
export const FREEZE_SEVERITY = 4;

export interface MasteryBand {
  from: number;
  to: number;
  /** The mapping table's words. */
  allowed_profile: string;
  promotion_gate: string;
  /** Why a session is outside the allowed profile (undefined = inside). */
  outsideProfile(s: SessionSummary): string | undefined;
  /** Factor on delta for a session inside the profile (1 unless a "preferred" rule is missed). */
  factor(s: SessionSummary): number;
  /** Why the session does not meet the gate to leave level `level` (undefined = met). */
  gateUnmet(s: SessionSummary, level: number): string | undefined;
}

const sev3 = (s: SessionSummary) => s.severity_counts[2];
const maxSev = (limit: number) => (s: SessionSummary) =>
  s.max_severity > limit ? `max severity ${s.max_severity} > ${limit}` : undefined;
const _always = () => undefined;
const one = () => 1;

/** Seed 000 "Curriculum mapping table", made checkable. The gate of a band applies to leaving its top level. */
export const MASTERY_BANDS: readonly MasteryBand[] = [
  {
    from: 0,
    to: 3,
    allowed_profile: "severity ≤ 3 allowed",
    promotion_gate: "show understanding of what happened",
    outsideProfile: maxSev(3),
    factor: one,
    gateUnmet: (s, l) => (l === 3 && s.score_final < 60 ? `score_final ${s.score_final} < 60` : undefined),
  },
  {
    from: 4,
    to: 6,
    allowed_profile: "severity ≤ 3, count limited",
    promotion_gate: "demonstrate stable recovery",
    outsideProfile: (s) => maxSev(3)(s) ?? (s.anomaly_count > 5 ? `anomaly_count ${s.anomaly_count} > 5` : undefined),
    factor: one,
    gateUnmet: (s, l) =>
      l === 6 && (s.scores.response ?? 0) < 70 ? `scores.response ${s.scores.response} < 70` : undefined,
  },
  {
    from: 7,
    to: 10,
    allowed_profile: "severity ≤ 2 preferred",
    promotion_gate: "repeatable stability under variation",
    outsideProfile: maxSev(3),
    factor: (s) => (s.max_severity >= 3 ? 0.5 : 1),
    gateUnmet: (s, l) => {
      if (l !== 10) return undefined;
      if (!s.disturbed) return "the scenario has no disturbances or input schedule (no variation)";
      return (s.scores.stability ?? 0) < 80 ? `scores.stability ${s.scores.stability} < 80` : undefined;
    },
  },
  {
    from: 11,
    to: 15,
    allowed_profile: "severity ≤ 2, rare 3",
    promotion_gate: "multi-segment handoffs clean",
    outsideProfile: (s) => maxSev(3)(s) ?? (sev3(s) > 1 ? `${sev3(s)} severity-3 anomalies > 1` : undefined),
    factor: one,
    gateUnmet: (s, l) => {
      if (l !== 15) return undefined;
      if (s.segment_count < 3) return `segment_count ${s.segment_count} < 3`;
      return s.anomaly_types.SEGMENT_BOUNDARY_GLITCH ? "a SEGMENT_BOUNDARY_GLITCH occurred" : undefined;
    },
  },
  {
    from: 16,
    to: 20,
    allowed_profile: "severity 1–2 only",
    promotion_gate: "network/dimensional overlays competent",
    outsideProfile: maxSev(2),
    factor: one,
    gateUnmet: (s, l) => {
      if (l !== 20) return undefined;
      if (!s.extensions.includes("SNR") && !s.extensions.includes("DIMCORE")) return "no SNR or DIMCORE overlay";
      if (s.anomaly_types.SNR_NODE_DESYNC || s.anomaly_types.DIMCORE_IMBALANCE) return "overlay anomalies occurred";
      return s.score_final < 80 ? `score_final ${s.score_final} < 80` : undefined;
    },
  },
  {
    from: 21,
    to: 30,
    allowed_profile: "severity 1 only",
    promotion_gate: "mastery demonstration scenarios",
    outsideProfile: maxSev(1),
    factor: one,
    gateUnmet: (s) => {
      if (difficultyRank(s.difficulty) < difficultyRank("Expert")) return `difficulty ${s.difficulty} below Expert`;
      return s.score_final < 90 ? `score_final ${s.score_final} < 90` : undefined;
    },
  },
];

export function bandOf(level: number): MasteryBand {
  // The table is a non-empty constant: its last band exists.
  return MASTERY_BANDS.find((b) => level >= b.from && level <= b.to) ?? MASTERY_BANDS[MASTERY_BANDS.length - 1]!;
}

/**
 * An operator's state before their first tracked session: the level that session's log states (`mastery_level`,
 * an integer 0–30), else 0 — an operator with no history starts where the log says they are (issue 19: 4).
 */
export function initialMastery(operator_id: string, stated?: unknown): MasteryState {
  const level =
    typeof stated === "number" && Number.isInteger(stated) && stated >= 0 && stated <= MAX_LEVEL ? stated : 0;
  return { operator_id, level, xp: 0 };
}

/** The seed's formula, nothing else. */
export function promotionDelta(
  s: Pick<SessionSummary, "score_final" | "anomaly_count" | "max_severity" | "segment_count">,
  masteryLevel: number,
): number {
  const base_gain = s.score_final / 100;
  const anomaly_penalty = s.anomaly_count * 0.05 + s.max_severity * 0.1;
  const complexity_bonus = Math.log2(s.segment_count + 1) * 0.05;
  const difficulty_scaler = 1 / (1 + masteryLevel / 10);
  return (base_gain + complexity_bonus - anomaly_penalty) * difficulty_scaler;
}

const fmt = (x: number) => (Math.round(x * 1e4) / 1e4).toString();

export function promote(state: MasteryState, s: SessionSummary): Promotion {
  const level = Math.max(0, Math.min(MAX_LEVEL, Math.trunc(state.level)));
  const raw = promotionDelta(s, level);
  const band = bandOf(level);
  let delta = raw;
  let why: string;
  if (s.max_severity >= FREEZE_SEVERITY) {
    delta = 0;
    why = `frozen: severity ${s.max_severity} ≥ ${FREEZE_SEVERITY}, no progression this session`;
  } else {
    const outside = band.outsideProfile(s);
    if (outside) {
      delta = 0;
      why = `outside band ${band.from}–${band.to} profile "${band.allowed_profile}": ${outside}`;
    } else {
      const f = band.factor(s);
      delta = raw * f;
      why =
        f === 1
          ? `delta ${fmt(raw)}`
          : `delta ${fmt(raw)} × ${f} (band ${band.from}–${band.to}: ${band.allowed_profile})`;
    }
  }
  let xp = Math.max(0, state.xp + delta);
  let newLevel = level;
  while (xp >= 1 && newLevel < MAX_LEVEL) {
    const unmet = bandOf(newLevel).gateUnmet(s, newLevel);
    if (unmet) {
      xp = 1;
      why += `; level-up held at ${newLevel}: gate "${bandOf(newLevel).promotion_gate}" not met (${unmet})`;
      break;
    }
    newLevel++;
    xp -= 1;
  }
  if (newLevel === MAX_LEVEL) xp = Math.min(xp, 1);
  if (newLevel > level) why += `; level ${level} → ${newLevel}`;
  return { state: { operator_id: state.operator_id, level: newLevel, xp }, delta, raw_delta: raw, reason: why };
}

/** Replays `promote` over sessions in order, one state per operator (the `rtt mastery` ladder). */
export function masteryLadder(
  summaries: SessionSummary[],
): Array<{ summary: SessionSummary; before: MasteryState; promotion: Promotion }> {
  const states = new Map<string, MasteryState>();
  return summaries.map((summary) => {
    const id = summary.operator_id ?? "urn:operator:unknown";
    const before = states.get(id) ?? initialMastery(id, summary.mastery_level);
    const promotion = promote(before, summary);
    states.set(id, promotion.state);
    return { summary, before, promotion };
  });
}
