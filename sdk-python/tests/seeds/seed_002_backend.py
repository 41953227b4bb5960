# The Python snippets of seed 002_fc4b45789f3eefec.txt (RTT-Inside for Backend Services), copied
# verbatim in order. The base URL comes from RTT_URL.

# --- 1. Install or Vendor the RTT SDK ---
from rtt_sdk import RTTClient
client = RTTClient()

# --- 2. Send Structural Heartbeats ---
payload = {
"site": "auth-service",
"session": "srv-12345",
"event": "heartbeat",
"ts": "2026-01-19T15:00:00Z",
"structure": {
"url": "internal://auth",
"title": "Auth Service",
"nav_count": 0,
"main_count": 0,
"form_count": 0,
"button_count": 0,
"dom_nodes": 0
}
}
client.beacon(payload)

# --- 3. Register a Service Profile ---
from rtt_sdk import create_profile
profile = create_profile(
version="1.0",
supports=["coherence", "drift"],
contact="infra@example.com"
)
client.set_profile("auth-service", profile)

# --- 5. Prepare for vST-Beta Diagnostics ---
from rtt_sdk import build_validate_payload
payload = build_validate_payload(
system_map={"services": ["auth", "api", "db"]},
flows=[],
constraints=[]
)
client.validate(payload)
