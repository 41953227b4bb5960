"""rtt_sdk — RTT-Inside for Python services (seeds 001/002). Standard library only.

    from rtt_sdk import RTTClient, create_profile, build_validate_payload
    client = RTTClient()   # RTT_URL (default http://127.0.0.1:8080), RTT_TOKEN
"""

from .client import DEFAULT_BASE_URL, RTTClient
from .errors import RTTError
from .heartbeat import Heartbeat, start_heartbeat
from .profile import CAPABILITIES, build_validate_payload, create_profile, rtt_span_attributes

__all__ = [
    "CAPABILITIES",
    "DEFAULT_BASE_URL",
    "Heartbeat",
    "RTTClient",
    "RTTError",
    "build_validate_payload",
    "create_profile",
    "rtt_span_attributes",
    "start_heartbeat",
]
__version__ = "0.1.0"
