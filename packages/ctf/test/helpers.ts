import type { CorridorSpec } from "@rtt/ctf";

export const SPEC: CorridorSpec = {
  max_steps: 64,
  max_semantic_drift: 0.35,
  max_tool_entropy: 2.0,
  max_latency_drift: 1.0,
  max_branching_pressure: 8,
  max_retry_ratio: 0.25,
};

/** A clock that advances by `step` seconds per call, starting at `start`. */
export function fakeClock(start = 1736280000, step = 0.5): () => number {
  let t = start - step;
  return () => {
    t += step;
    return Math.round(t * 1000) / 1000;
  };
}

export const lines = (...events: object[]) => events.map((e) => `${JSON.stringify(e)}\n`).join("");
