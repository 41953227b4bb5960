import { initialMastery, promote, type SessionSummary } from "@rtt/core";
import type { MasteryRule } from "./store/types.js";

/**
 * The server's mastery rule: core's `promote` of the operator's current state (or `initialMastery` for a
 * new operator) by the session's `summarizeSession` summary. Stores apply it inside the ingest transaction.
 */
export const coreMasteryRule: MasteryRule = (prev, operatorId, summary) => {
  const s = summary as SessionSummary;
  const p = promote(prev ?? initialMastery(operatorId, s.mastery_level), s);
  return { state: p.state, delta: p.delta, reason: p.reason };
};
