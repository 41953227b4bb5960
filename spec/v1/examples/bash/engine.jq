# engine.jq — RTT-Inside corridor state and the v1 reference update rule (seed §2, §8.1), in jq.
# jq computes in IEEE-754 binary64, so these are the reference engine's operations, in its order.

# The reference initial state and its session metadata.
def initial_state: {t: 0, C: 0.10, D: 1.0, Q: 0.5, R: 0};
def initial_meta: {device: "COMT", scenario: "COMT_LOCK_01", difficulty: "Journeyman"};

# One step in resonance-time: t += dt, C += 0.01·dt, D *= 1 − 0.001·dt, Q and R unchanged.
def update($dt): .t = .t + $dt | .C = .C + 0.01 * $dt | .D = .D * (1 - 0.001 * $dt);

def sample: {t, C, D, Q, R};

# The initial sample plus one per step, from the state on input.
def run_simulation($steps; $dt): [limit($steps + 1; recurse(update($dt))) | sample];
