# rtt_inside_example.py
import json
from dataclasses import dataclass, asdict
from datetime import datetime
from typing import Dict, List


@dataclass
class CorridorState:
    t: float
    C: float
    D: float
    Q: float
    R: float
    meta: Dict[str, str]


def make_initial_state() -> CorridorState:
    return CorridorState(
        t=0.0,
        C=0.10,
        D=1.0,
        Q=0.5,
        R=0.0,
        meta={
            "device": "COMT",
            "scenario": "COMT_LOCK_01",
            "difficulty": "Journeyman",
        },
    )


def update(state: CorridorState, dt: float) -> CorridorState:
    return CorridorState(
        t=state.t + dt,
        C=state.C + 0.01 * dt,
        D=state.D * (1 - 0.001 * dt),
        Q=state.Q,
        R=state.R,
        meta=state.meta,
    )


def run_simulation(steps: int, dt: float) -> List[dict]:
    samples = []
    s = make_initial_state()
    samples.append(sample_from_state(s))
    for _ in range(steps):
        s = update(s, dt)
        samples.append(sample_from_state(s))
    return samples


def sample_from_state(s: CorridorState) -> dict:
    return {"t": s.t, "C": s.C, "D": s.D, "Q": s.Q, "R": s.R}


def main():
    dt = 0.1
    steps = 3
    samples = run_simulation(steps, dt)
    log = {
        "session_id": "RTT-PY-TEST",
        "timestamp": datetime.utcnow().isoformat() + "Z",
        "device": "COMT",
        "scenario": "COMT_LOCK_01",
        "difficulty": "Journeyman",
        "samples": samples,
        "anomalies": [],
        "scores": {"stability": 0, "response": 0, "quality": 0, "final": 0},
    }
    with open("rtt_py_session.json", "w") as f:
        json.dump(log, f, indent=2)


if __name__ == "__main__":
    main()
