import { initialMastery, promote, type SessionSummary } from "@rtt/core";
import type { MasteryRule } from "./store/types.js";

/**
 * The server's mastery rule: core's `promote` of the operator's current state (or `initialMastery` for a
 * new operator) by the session's `summarizeSession` summary. Stores apply it inside the ingest transaction.
 */
export const coreMasteryRule: MasteryRule = (prev, operatorId, summary) => {
  const p = promote(prev ?? initialMastery(operatorId), summary as SessionSummary);
  return { state: p.state, delta: p.delta, reason: p.reason };
};
