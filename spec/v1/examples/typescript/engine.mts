// engine.mts — RTT-Inside corridor state and the v1 reference update rule (seed §2, §8.1).

export interface CorridorState {
  t: number;
  C: number;
  D: number;
  Q: number;
  R: number;
  meta?: { device: string; scenario: string; difficulty: string };
}

export type Sample = Pick<CorridorState, "t" | "C" | "D" | "Q" | "R">;

export function makeInitialState(): CorridorState {
  return {
    t: 0.0,
    C: 0.1,
    D: 1.0,
    Q: 0.5,
    R: 0.0,
    meta: { device: "COMT", scenario: "COMT_LOCK_01", difficulty: "Journeyman" },
  };
}

/** One step in resonance-time: C += 0.01·dt, D *= 1 − 0.001·dt, Q and R unchanged, t += dt. */
export function update(state: CorridorState, dt: number, _input?: unknown): CorridorState {
  return {
    ...state,
    t: state.t + dt,
    C: state.C + 0.01 * dt,
    D: state.D * (1 - 0.001 * dt),
    Q: state.Q,
    R: state.R,
  };
}

export function sampleFromState(s: CorridorState): Sample {
  return { t: s.t, C: s.C, D: s.D, Q: s.Q, R: s.R };
}

/** The initial sample plus one sample per step. */
export function runSimulation(steps: number, dt: number, initial: CorridorState = makeInitialState()): Sample[] {
  let s = initial;
  const samples: Sample[] = [sampleFromState(s)];
  for (let i = 0; i < steps; i++) {
    s = update(s, dt);
    samples.push(sampleFromState(s));
  }
  return samples;
}
