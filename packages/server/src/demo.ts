import { listScenarios, referenceRunV1, type SessionLog, sessionLogBuffer, simulateSession } from "@rtt/core";
import type { AppContext } from "./context.js";
import { prepareSession } from "./ingest/prepare.js";

export interface DemoResult {
  sessions: number;
  /** Why nothing (or less) was filled. */
  note?: string;
}

const OPERATORS = [
  { id: "urn:operator:triadic:alice.smith", display: "Alice Smith", team: "QEB-Ops-Alpha", skill: 1.0 },
  { id: "urn:operator:triadic:bob.jones", display: "Bob Jones", team: "QEB-Ops-Alpha", skill: 0.6 },
  { id: "urn:operator:triadic:carol.nguyen", display: "Carol Nguyen", team: "QEB-Ops-Beta", skill: 0.85 },
  { id: "urn:operator:triadic:dev.patel", display: "Dev Patel", team: "QEB-Ops-Beta", skill: 0.4 },
  { id: "urn:operator:triadic:erin.okafor", display: "Erin Okafor", team: "QEB-Instructors", skill: 0.95 },
];

const DAYS = 14;
const SESSIONS_PER_DAY = 2;

/** Deterministic per-run choice (no Math.random: the same day gives the same demo); `list` is not empty. */
function pick<T>(list: readonly T[], n: number): T {
  const item = list[((n % list.length) + list.length) % list.length];
  if (item === undefined) throw new Error("pick: empty list");
  return item;
}

/**
 * Fills an empty store with simulated sessions: several operators over the last DAYS days, scenarios from
 * the built-in set, policies that improve with each operator's mastery, plus a few v1 reference runs.
 * Sessions go through the normal ingest path (validation, mastery, metrics, Loki lines).
 */
export async function fillDemo(ctx: AppContext, now = new Date()): Promise<DemoResult> {
  if ((await ctx.store.countSessions()) > 0) return { sessions: 0, note: "store not empty; demo data not added" };
  let count = 0;
  const dayStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - DAYS * 86_400_000;

  const add = async (log: SessionLog) => {
    const prepared = prepareSession(sessionLogBuffer(log));
    if (!prepared.ok) throw new Error(`demo produced an invalid session: ${prepared.error}`);
    const r = await ctx.ingest.ingest(prepared.session);
    if (r.status === "created") count++;
    return r;
  };

  for (let i = 0; i < 3; i++)
    await add(
      referenceRunV1({
        session_id: `DEMO-V1-REFERENCE-${i + 1}`,
        timestamp: new Date(dayStart + (i * 4 + 1) * 86_400_000 + 7 * 3_600_000).toISOString(),
      }),
    );
  const scenarios = listScenarios().map((s) => s.id);
  if (scenarios.length === 0) return { sessions: count, note: "no scenarios found in spec/scenarios" };
  const levels = new Map<string, number>();
  for (let day = 0; day < DAYS; day++) {
    for (const [o, op] of OPERATORS.entries()) {
      for (let s = 0; s < SESSIONS_PER_DAY; s++) {
        const level = levels.get(op.id) ?? 0;
        const practice = level / 30 + op.skill * 0.5;
        const policy = practice > 0.8 ? "expert" : practice > 0.45 ? "competent" : "novice";
        const seed = day * 1000 + o * 10 + s;
        const at = dayStart + day * 86_400_000 + (8 + o + s * 4) * 3_600_000;
        const r = await add(
          simulateSession({
            scenario: pick(scenarios, day + o + s),
            policy,
            seed,
            operator_id: op.id,
            operator_display: op.display,
            operator_team: op.team,
            mastery_level: level,
            mode: "TRAINING",
            session_id: `DEMO-${op.id.split(":").pop()}-${day + 1}-${s + 1}`,
            timestamp: new Date(at).toISOString(),
          }),
        );
        if (r.status === "created" && r.mastery) levels.set(op.id, r.mastery.state.level);
      }
    }
  }
  return { sessions: count };
}
