"""logger.py — builds and writes RTT-Inside session logs (v1; v2 with segments)."""
import json
import sys
from typing import Dict, List


def _zero_scores() -> dict:
    return {"stability": 0, "response": 0, "quality": 0, "final": 0}


def build_session_log(session: Dict[str, str], samples: List[dict], anomalies: List[dict] = ()) -> dict:
    return {**session, "samples": samples, "anomalies": list(anomalies), "scores": _zero_scores()}


def build_segmented_log(session: Dict[str, str], segments: List[dict]) -> dict:
    return {"spec_version": "v2", **session, "segments": segments, "anomalies": [], "scores": _zero_scores()}


def write_session_log(path: str, log: dict) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(log, f, indent=2)
        f.write("\n")


def emit_line(obj: dict) -> None:
    """One object as one line on stdout (protocol mode); allow_nan=False keeps it strict JSON."""
    sys.stdout.write(json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n")
    sys.stdout.flush()
