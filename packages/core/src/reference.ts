import { runSimulation } from "./engine.js";
import { buildSessionV1, buildSessionV2, type SessionHeader } from "./session.js";
import { referenceVector } from "./spec.js";
import type { SessionLog, SessionLogV2 } from "./types.js";

export interface ReferenceRunOptions {
  session_id: string;
  timestamp: string;
  steps?: number;
  dt?: number;
}

function header(opts: ReferenceRunOptions): SessionHeader {
  const { meta } = referenceVector();
  return { session_id: opts.session_id, timestamp: opts.timestamp, ...meta };
}

/** The seed's `/run`: the reference vector as a v1 log (steps/dt overridable). */
export function referenceRunV1(opts: ReferenceRunOptions): SessionLog {
  const ref = referenceVector();
  const samples = runSimulation(opts.steps ?? ref.steps, opts.dt ?? ref.dt, ref.initial_state);
  return buildSessionV1(header(opts), samples);
}

/** The seed's `/run/v2`: a one-step `warmup` segment, then the reference vector as the `main` segment. */
export function referenceRunV2(opts: ReferenceRunOptions): SessionLogV2 {
  const ref = referenceVector();
  const dt = opts.dt ?? ref.dt;
  return buildSessionV2(
    header(opts),
    [
      { segment_id: "seg-warmup", label: "warmup", samples: runSimulation(1, dt, ref.initial_state), anomalies: [] },
      {
        segment_id: "seg-main",
        label: "main",
        samples: runSimulation(opts.steps ?? ref.steps, dt, ref.initial_state),
        anomalies: [],
      },
    ],
    { device_type: "COMT", mode: "TRAINING" },
  );
}
