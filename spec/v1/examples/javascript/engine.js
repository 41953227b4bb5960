// engine.js — RTT-Inside corridor state and the v1 reference update rule (seed §2, §8.1).

/** The reference initial state of the test vector. */
export function makeInitialState() {
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
export function update(state, dt, _input) {
  return {
    ...state,
    t: state.t + dt,
    C: state.C + 0.01 * dt,
    D: state.D * (1 - 0.001 * dt),
    Q: state.Q,
    R: state.R,
  };
}

export function sampleFromState(s) {
  return { t: s.t, C: s.C, D: s.D, Q: s.Q, R: s.R };
}

/** The initial sample plus one sample per step. */
export function runSimulation(steps, dt, initial = makeInitialState()) {
  let s = initial;
  const samples = [sampleFromState(s)];
  for (let i = 0; i < steps; i++) {
    s = update(s, dt);
    samples.push(sampleFromState(s));
  }
  return samples;
}
