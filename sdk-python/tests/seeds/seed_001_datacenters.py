# The Python snippets of seed 001_3bea745ff449c310.txt (RTT-Inside for Datacenters & Research Labs),
# copied verbatim in order. The base URL comes from RTT_URL. Only addition: the seed uses `time`
# without importing it.
import time

# --- 2. Install the RTT SDK ---
from rtt_sdk import RTTClient
client = RTTClient()

# --- 3. Send System-Level Beacon Events ---
payload = {
    "site": "datacenter-east",
    "session": "dc-" + str(int(time.time())),
    "event": "cluster_heartbeat",
    "ts": "2026-01-19T15:30:00Z",
    "structure": {
        "url": "internal://cluster",
        "title": "Cluster State",
        "nav_count": 0,
        "main_count": 0,
        "form_count": 0,
        "button_count": 0,
        "dom_nodes": 0
    }
}
 
client.beacon(payload)

# --- 4. Register Datacenter Profiles ---
from rtt_sdk import create_profile
 
profile = create_profile(
    version="1.0",
    supports=["coherence", "drift", "corridor"],
    contact="infra@datacenter.example"
)
 
client.set_profile("datacenter-east", profile)

# --- 6A. Coherence Validation ---
from rtt_sdk import build_validate_payload
 
payload = build_validate_payload(
    system_map={"nodes": 128, "services": ["auth", "api", "db"]},
    flows=[{"from": "api", "to": "db"}],
    constraints=[]
)
 
client.validate(payload)

# --- 6B. Corridor Alignment ---
client.corridor({
    "flows": [
        {"path": ["ingress", "api", "db"], "latency_ms": 12}
    ]
})

# --- 6C. Topology Decomposition ---
client.topology({
    "graph": {
        "auth": ["api"],
        "api": ["db"],
        "db": []
    }
})
