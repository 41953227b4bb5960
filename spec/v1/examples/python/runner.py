#!/usr/bin/env python3
"""runner.py — file mode: run the reference vector and write a session log;
protocol mode (--protocol): answer conformance cases on stdin/stdout (spec/v1/conformance_protocol.md)."""
import argparse
import json
import sys
from datetime import datetime, timezone

from engine import CorridorState, make_initial_state, run_simulation
from logger import build_segmented_log, build_session_log, emit_line, write_session_log


def _state(d: dict) -> CorridorState:
    return CorridorState(t=d["t"], C=d["C"], D=d["D"], Q=d["Q"], R=d["R"])


def answer(case: dict) -> dict:
    version = case.get("spec_version")
    if version == "v1":
        samples = run_simulation(case["steps"], case["dt"], _state(case["initial_state"]))
        return build_session_log(case["session"], samples)
    if version == "v2":
        segments = [
            {
                "segment_id": g["segment_id"],
                "label": g["label"],
                "samples": run_simulation(g["steps"], g["dt"], _state(g["initial_state"])),
            }
            for g in case["segments"]
        ]
        return build_segmented_log(case["session"], segments)
    return {"id": case.get("id"), "skipped": f"spec_version {version!r} not supported"}


def protocol_mode() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        case = {}
        try:
            case = json.loads(line)
            emit_line(answer(case))
        except Exception as err:  # reported to the harness, never a crash
            emit_line({"id": case.get("id") if isinstance(case, dict) else None, "errored": f"{type(err).__name__}: {err}"})


def file_mode(out: str) -> None:
    s0 = make_initial_state()
    session = {
        "session_id": "RTT-PY-TEST",
        "timestamp": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        **s0.meta,
    }
    write_session_log(out, build_session_log(session, run_simulation(3, 0.1, s0)))
    print(f"wrote {out}")


def main() -> None:
    p = argparse.ArgumentParser(description="RTT-Inside Python example")
    p.add_argument("--protocol", action="store_true", help="speak the conformance protocol on stdin/stdout")
    p.add_argument("--out", default="rtt_py_session.json", help="file mode: where to write the session log")
    args = p.parse_args()
    if args.protocol:
        protocol_mode()
    else:
        file_mode(args.out)


if __name__ == "__main__":
    main()
