// engine.cpp — the v1 reference engine; pure, no I/O.
#include "engine.hpp"

namespace rtt {

CorridorState make_initial_state() {
    return {0.0, 0.10, 1.0, 0.5, 0.0, "COMT", "COMT_LOCK_01", "Journeyman"};
}

CorridorState update(CorridorState s, double dt) {
    s.t += dt;
    s.C += 0.01 * dt;
    s.D *= (1 - 0.001 * dt);
    return s;
}

Sample sample_from_state(const CorridorState& s) { return {s.t, s.C, s.D, s.Q, s.R}; }

std::vector<Sample> run_simulation(std::size_t steps, double dt, CorridorState s) {
    std::vector<Sample> samples;
    samples.reserve(steps + 1);
    samples.push_back(sample_from_state(s));
    for (std::size_t i = 0; i < steps; ++i) {
        s = update(std::move(s), dt);
        samples.push_back(sample_from_state(s));
    }
    return samples;
}

}  // namespace rtt
