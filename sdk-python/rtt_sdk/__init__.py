"""rtt_sdk — RTT-Inside for Python services (seeds 001/002) and Corridor Trace Files (seed 003). Standard library only.

    from rtt_sdk import RTTClient, create_profile, build_validate_payload
    client = RTTClient()   # RTT_URL (default http://127.0.0.1:8080), RTT_TOKEN

    from rtt_sdk import Corridor, CTFWriter, CTFClient, LiveSink
    corridor = Corridor("task-9af3", spec, writer=CTFWriter("run.ctf"), task="...")
"""

from . import websocket

from .client import DEFAULT_BASE_URL, RTTClient
from .corridor import Corridor, CorridorError, StepResult, compute_q
from .ctf import CTFWriter, MemorySink, TeeSink, parse_events, read_events
from .ctf_client import CTFClient, CTFError, HTTPSink, LiveSink, LiveStream
from .errors import RTTError
from .heartbeat import Heartbeat, start_heartbeat
from .profile import CAPABILITIES, build_validate_payload, create_profile, rtt_span_attributes

__all__ = [
    "CAPABILITIES",
    "CTFClient",
    "CTFError",
    "CTFWriter",
    "Corridor",
    "CorridorError",
    "DEFAULT_BASE_URL",
    "HTTPSink",
    "LiveSink",
    "LiveStream",
    "MemorySink",
    "StepResult",
    "TeeSink",
    "Heartbeat",
    "RTTClient",
    "RTTError",
    "build_validate_payload",
    "compute_q",
    "create_profile",
    "rtt_span_attributes",
    "parse_events",
    "read_events",
    "start_heartbeat",
    "websocket",
]
__version__ = "0.1.0"
