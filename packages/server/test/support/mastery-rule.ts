import type { MasteryRule, MasteryState } from "../../src/store/types.js";

/** A transparent mastery rule for the storage contract: xp accumulates score_final, one level per 100 xp. */
export const masteryRule: MasteryRule = (prev: MasteryState | undefined, operatorId, summary) => {
  const base = prev ?? { operator_id: operatorId, level: 0, xp: 0 };
  const xp = base.xp + (summary as { score: number }).score;
  return {
    state: { ...base, xp, level: Math.min(30, Math.floor(xp / 100)) },
    delta: xp - base.xp,
    reason: "test rule",
  };
};
