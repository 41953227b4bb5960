// engine.hpp — RTT-Inside corridor state and the v1 reference update rule (seed §2, §3.2.5, §8.1).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace rtt {

struct CorridorState {
    double t = 0.0, C = 0.0, D = 0.0, Q = 0.0, R = 0.0;
    std::string device, scenario, difficulty;
};

// One observation of the state, as written to session logs.
struct Sample {
    double t, C, D, Q, R;
    friend bool operator==(const Sample&, const Sample&) = default;
};

CorridorState make_initial_state();

// One step in resonance-time: C += 0.01·dt, D *= 1 − 0.001·dt, Q and R unchanged, t += dt.
// Built with -ffp-contract=off, so no a·b + c is fused into one rounding.
CorridorState update(CorridorState s, double dt);

Sample sample_from_state(const CorridorState& s);

// The initial sample plus one sample per step (steps + 1 in all).
std::vector<Sample> run_simulation(std::size_t steps, double dt, CorridorState initial);

}  // namespace rtt
