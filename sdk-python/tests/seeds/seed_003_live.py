# Seed 003_50d1d1902fd3ee7f.txt, "6. Optional: Stream JSON traces live": the seed's stream_trace_update, copied
# verbatim, streaming a corridor run into `rtt serve`'s live socket (/ctf/{id}/live, docs/api/ctf.md).
# The corridor (rtt_sdk.corridor) plays the seed's `state`: .steps, .q_history, .corridor_status. Its header and
# steps go over the same socket as CTF events (the server needs a step before an update describes it) and to a
# local .ctf with the seed's CTFWriter; each step's q and status go as the seed's update. Every frame is answered
# by an ack, checked at the end.
# Env: RTT_URL, RTT_TOKEN (the write token), RTT_CTF_TRACE (trace id, default seed-003-live), RTT_CTF_OUT (local copy).
import json
import os
import sys
import tempfile

from rtt_sdk import Corridor, CTFClient


# --- the seed's minimal CTF writer (section 5), verbatim ---
class CTFWriter:
    def __init__(self, file_path):
        self.f = open(file_path, "w")

    def write(self, event: dict):
        self.f.write(json.dumps(event) + "\n")
        self.f.flush()

    def close(self):
        self.f.close()


# --- the seed's live snippet (section 6), verbatim ---
def stream_trace_update(state, websocket):
    update = {
        "step": len(state.steps) - 1,
        "q": state.q_history[-1],
        "status": state.corridor_status
    }
    websocket.send(json.dumps(update))


class SocketEvents:
    """Sends the corridor's header, steps and footer over the socket; q and status go as the seed's update."""

    def __init__(self, websocket, local):
        self.websocket = websocket
        self.local = local
        self.sent = 0

    def write(self, event):
        self.local.write(event)
        if event["type"] not in ("q", "status"):
            self.websocket.send(json.dumps(event))
            self.sent += 1

    def close(self):
        self.local.close()


trace_id = os.environ.get("RTT_CTF_TRACE", "seed-003-live")
out = os.environ.get("RTT_CTF_OUT") or os.path.join(tempfile.mkdtemp(), "seed-003-live.ctf")
websocket = CTFClient().connect(trace_id)  # ws://…/ctf/{id}/live?from=end with the bearer token
writer = SocketEvents(websocket, CTFWriter(out))
spec = {
    "max_steps": 64,
    "max_semantic_drift": 0.35,
    "max_tool_entropy": 2.0,
    "max_latency_drift": 1.0,
    "max_branching_pressure": 8,
    "max_retry_ratio": 0.25,
}
state = Corridor("task-9af3", spec, writer=writer, task="find quantum turbulence papers")
updates = 0
for action, observation, tool, latency in [
    ("search('quantum turbulence')", "Executed search: 3 papers on quantum turbulence", "search", 412),
    ("search('quantum turbulence')", "Executed search: 3 papers", "search", 380),
    ("open('paper 1')", "Quantum turbulence in superfluid helium", "browser", 655.5),
    ("summarize('paper 1')", "vortex tangles decay by reconnection", "llm", 1210),
]:
    state.step(action, observation, tool=tool, latency_ms=latency)
    stream_trace_update(state, websocket)
    updates += 1
final = state.end()

# Every frame gets an ack or an error, in order; the socket also carries the event frames of our own appends.
acks, errors = 0, []
expected = writer.sent + updates
while acks + len(errors) < expected:
    frame = json.loads(websocket.recv())
    if frame["type"] == "ack":
        acks += 1
    elif frame["type"] == "error":
        errors.append(frame)
websocket.close()
if errors:
    sys.exit(f"refused: {errors}")
print(json.dumps({"trace": trace_id, "acks": acks, "steps": len(state.steps), "final_status": final, "local": out}))
