"""engine.py — RTT-Inside corridor state and the v1 reference update rule (seed §2, §8.1)."""
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional


@dataclass(frozen=True)
class CorridorState:
    t: float
    C: float
    D: float
    Q: float
    R: float
    meta: Dict[str, str] = field(default_factory=dict)


def make_initial_state() -> CorridorState:
    return CorridorState(
        t=0.0, C=0.10, D=1.0, Q=0.5, R=0.0,
        meta={"device": "COMT", "scenario": "COMT_LOCK_01", "difficulty": "Journeyman"},
    )


def update(state: CorridorState, dt: float, u: object = None) -> CorridorState:
    """One step in resonance-time: C += 0.01·dt, D *= 1 − 0.001·dt, Q and R unchanged, t += dt."""
    return replace(
        state,
        t=state.t + dt,
        C=state.C + 0.01 * dt,
        D=state.D * (1 - 0.001 * dt),
    )


def sample_from_state(s: CorridorState) -> dict:
    return {"t": s.t, "C": s.C, "D": s.D, "Q": s.Q, "R": s.R}


def run_simulation(steps: int, dt: float, initial: Optional[CorridorState] = None) -> List[dict]:
    """The initial sample plus one sample per step."""
    s = initial if initial is not None else make_initial_state()
    samples = [sample_from_state(s)]
    for _ in range(steps):
        s = update(s, dt)
        samples.append(sample_from_state(s))
    return samples
