"""The Python half of the cross-language CTF test (sdk-python/test/ctf.test.ts): reads a job as JSON on stdin, prints
what the Python SDK makes of it as JSON on stdout.

    {"scenarios": [{"name", "task_id", "spec", "task"?, "clock": [t, ...], "ops": [...]}],
     "traces": {"name": "<ctf text>"},
     "numbers": [x, ...], "strings": ["...", ...]}

-> {"scenarios": {name: {"text", "results": [{step_id, q, corridor_status, violations} | {"error"}]}},
    "computed": {name: [{step_id, q, corridor_status, violations, after}]},
    "numbers": ["js text", ...], "strings": ["json text", ...]}

An op is {"op": "step", "action", "observation", "tool", "latency_ms", "parent"?} or {"op": "rewind", "to"}.
The clock gives the runtime's timestamps in the order it asks for them (header, each step and rewind, footer).
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from rtt_sdk.corridor import Corridor, CorridorError, compute_q  # noqa: E402
from rtt_sdk.ctf import MemorySink, dumps, js_number, parse_events  # noqa: E402


def run_scenario(s):
    clock = iter(s["clock"])
    sink = MemorySink()
    c = Corridor(s["task_id"], s["spec"], writer=sink, task=s.get("task"), now=lambda: next(clock))
    results = []
    for op in s["ops"]:
        try:
            if op["op"] == "step":
                r = c.step(op["action"], op["observation"], op.get("tool"), op["latency_ms"], op.get("parent"))
            else:
                r = c.rewind(op["to"])
            results.append(
                {"step_id": r.step_id, "q": r.q, "corridor_status": r.corridor_status, "violations": r.violations}
            )
        except CorridorError as err:
            results.append({"error": str(err)})
    c.end()
    return {"text": sink.text(), "results": results, "lineage": c.lineage()}


def main():
    job = json.load(sys.stdin)
    out = {
        "scenarios": {s["name"]: run_scenario(s) for s in job.get("scenarios", [])},
        "computed": {name: compute_q(parse_events(text)) for name, text in job.get("traces", {}).items()},
        "numbers": [js_number(x) for x in job.get("numbers", [])],
        "strings": [dumps(x) for x in job.get("strings", [])],
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
