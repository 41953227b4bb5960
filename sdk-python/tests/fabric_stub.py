"""Driven by sdk-python/test/fabric.test.ts against a running `rtt fabric up`: reads {socket, tcp, tokens} as JSON on
stdin, calls routes through rtt_sdk.fabric over UDS and TCP, prints what happened as one JSON object."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from rtt_sdk.fabric import FabricClient, FabricError, crc32c, encode_frame  # noqa: E402


def err(f):
    try:
        f()
    except FabricError as e:
        return e.code + ": " + e.message
    return None


cfg = json.load(sys.stdin)
tok = cfg["tokens"]
out = {"crc_check": hex(crc32c(b"123456789")), "frame_len": len(encode_frame(0, 1, 1, b"abc"))}

with FabricClient.uds(cfg["socket"]) as c:
    out["hello"] = c.hello()
    out["resolve"] = c.resolve("rtt://app/echo")
    out["unopened"] = err(lambda: c.call(1, b"x"))
    out["no_token"] = err(lambda: c.grant("tx", "rtt://app/echo"))
    r = c.grant("open", "rtt://app/echo", tok["uds_open"])
    out["uds"] = [c.call_json(r["route_id"], {"i": i}) for i in range(3)]
    out["uds_raw"] = c.call(r["route_id"], bytes(range(256)) * 300).hex()[:32]
    out["replayed"] = err(lambda: c.grant("open", "rtt://app/echo", tok["uds_open"]))
    out["no_route"] = err(lambda: c.resolve("rtt://nowhere"))

host, port = cfg["tcp"]
with FabricClient.tcp(host, port) as t:
    out["tcp"] = json.loads(t.call_symbol("rtt://app/echo", b'{"over":"tcp"}', tok["tcp_tx"]).decode())
    out["tcp_spent"] = err(lambda: t.call(1, b"{}"))
    out["tcp_2pc"] = err(lambda: t.control("prepare", transition={"kind": "apply", "plan_id": None, "from": None, "routes": []}))

print(json.dumps(out))
