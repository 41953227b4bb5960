/* engine.c — the v1 reference engine. Built with -std=c11 (no FMA contraction), so it rounds like every other language. */
#include "engine.h"

CorridorState make_initial_state(void) {
    CorridorState s = {0.0, 0.10, 1.0, 0.5, 0.0, "COMT", "COMT_LOCK_01", "Journeyman"};
    return s;
}

CorridorState update(CorridorState s, double dt) {
    s.t += dt;
    s.C += 0.01 * dt;
    s.D *= (1 - 0.001 * dt);
    return s;
}

Sample sample_from_state(CorridorState s) {
    Sample x = {s.t, s.C, s.D, s.Q, s.R};
    return x;
}

void run_simulation(size_t steps, double dt, CorridorState s, Sample *out) {
    out[0] = sample_from_state(s);
    for (size_t i = 1; i <= steps; i++) {
        s = update(s, dt);
        out[i] = sample_from_state(s);
    }
}
