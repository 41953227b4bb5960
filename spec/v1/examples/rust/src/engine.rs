//! engine.rs — RTT-Inside corridor state and the v1 reference update rule (seed §2, §8.1).

#[derive(Clone, Debug, PartialEq)]
pub struct CorridorState {
    pub t: f64,
    pub c: f64,
    pub d: f64,
    pub q: f64,
    pub r: f64,
    pub device: String,
    pub scenario: String,
    pub difficulty: String,
}

/// One observation of the state, as written to session logs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub t: f64,
    pub c: f64,
    pub d: f64,
    pub q: f64,
    pub r: f64,
}

pub fn make_initial_state() -> CorridorState {
    CorridorState {
        t: 0.0,
        c: 0.10,
        d: 1.0,
        q: 0.5,
        r: 0.0,
        device: "COMT".into(),
        scenario: "COMT_LOCK_01".into(),
        difficulty: "Journeyman".into(),
    }
}

/// One step in resonance-time: C += 0.01·dt, D *= 1 − 0.001·dt, Q and R unchanged, t += dt.
pub fn update(s: &CorridorState, dt: f64) -> CorridorState {
    CorridorState {
        t: s.t + dt,
        c: s.c + 0.01 * dt,
        d: s.d * (1.0 - 0.001 * dt),
        ..s.clone()
    }
}

pub fn sample_from_state(s: &CorridorState) -> Sample {
    Sample {
        t: s.t,
        c: s.c,
        d: s.d,
        q: s.q,
        r: s.r,
    }
}

/// The initial sample plus one sample per step.
pub fn run_simulation(steps: usize, dt: f64, initial: CorridorState) -> Vec<Sample> {
    let mut samples = Vec::with_capacity(steps + 1);
    let mut s = initial;
    samples.push(sample_from_state(&s));
    for _ in 0..steps {
        s = update(&s, dt);
        samples.push(sample_from_state(&s));
    }
    samples
}
