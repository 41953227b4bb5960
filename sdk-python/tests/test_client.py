"""RTTClient against a real server (RTT_URL): every call, error and retry path."""

import os
import time
import unittest
import uuid

import _support
from _support import STRUCTURE, Front, closed_port_url, requires_server
from rtt_sdk import RTTClient, RTTError, build_validate_payload, create_profile

FAST = {"backoff": 0.005, "max_backoff": 0.02}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@requires_server
class CallTests(unittest.TestCase):
    def setUp(self):
        self.client = RTTClient(**FAST)

    def test_beacon_and_sites(self):
        site = unique("py-auth")
        res = self.client.beacon(
            {"site": site, "session": "srv-1", "event": "heartbeat", "ts": "2026-01-19T15:00:00Z", "structure": STRUCTURE}
        )
        self.assertEqual(res["status"], "ok")
        self.assertRegex(res["fingerprint"], r"^[0-9a-f]{16}$")
        mine = [s for s in self.client.sites() if s["site"] == site]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["beacons"], 1)
        self.assertEqual(mine[0]["labels"], {"service": site})

    def test_logger_prints_the_seeds_lines(self):
        # seed 002: "[RTT] heartbeat sent"; seed 001: "[RTT] cluster_heartbeat sent", "[RTT] drift detected in service mesh"
        import logging

        logger = logging.getLogger("rtt-sdk-test")
        client = RTTClient(logger=logger, **FAST)
        site = unique("service-mesh")
        base = {"site": site, "session": "s", "event": "cluster_heartbeat", "ts": "2026-01-19T15:30:00Z"}
        with self.assertLogs(logger, level="INFO") as seen:
            client.beacon({**base, "event": "heartbeat", "structure": STRUCTURE})
            client.beacon({**base, "structure": STRUCTURE})
            client.beacon({**base, "structure": {**STRUCTURE, "dom_nodes": 7}})
        self.assertEqual(
            [f"{r.levelname} {r.getMessage()}" for r in seen.records],
            [
                "INFO [RTT] heartbeat sent",
                "INFO [RTT] cluster_heartbeat sent",
                "INFO [RTT] cluster_heartbeat sent",
                f"WARNING [RTT] drift detected in {site}",
            ],
        )

    def test_profile_roundtrip_and_missing(self):
        site = unique("py-profile")
        profile = create_profile(version="1.0", supports=["coherence", "drift"], contact="infra@example.com")
        self.assertEqual(self.client.set_profile(site, profile), {"status": "ok", "site": site, "profile": profile})
        self.assertEqual(self.client.get_profile(site), profile)
        self.assertIsNone(self.client.get_profile(unique("nobody")))

    def test_diagnostics(self):
        v = self.client.validate(
            build_validate_payload(
                system_map={"nodes": 128, "services": ["auth", "api", "db"]}, flows=[{"from": "api", "to": "db"}], constraints=[]
            )
        )
        self.assertEqual((v["status"], v["coherent"], v["score"]), ("ok", True, 0.833))
        c = self.client.corridor({"flows": [{"path": ["ingress", "api", "db"], "latency_ms": 12, "budget_ms": 10}]})
        self.assertEqual(c["flows"][0]["slack_ms"], -2)
        t = self.client.topology({"graph": {"auth": ["api"], "api": ["db"], "db": []}})
        self.assertEqual(t["triad"], {"sources": ["auth"], "transit": ["api"], "sinks": ["db"], "isolated": []})

    def test_drift(self):
        site = unique("py-drift")
        base = {"site": site, "session": "s", "event": "heartbeat", "ts": "2026-01-19T15:00:00Z"}
        self.client.beacon({**base, "structure": STRUCTURE})
        res = self.client.beacon({**base, "structure": {**STRUCTURE, "dom_nodes": 4}})
        self.assertEqual([d["kind"] for d in res["drift"]], ["structure_change"])
        events = self.client.drift(site=site, limit=5)
        self.assertEqual([e["kind"] for e in events], ["structure_change"])
        self.assertEqual(events[0]["details"]["changes"], [{"key": "dom_nodes", "from": 0, "to": 4}])


@requires_server
class ErrorTests(unittest.TestCase):
    def front(self, script):
        f = Front(script)
        self.addCleanup(f.close)
        return f

    def test_400_names_fields_and_is_not_retried(self):
        f = self.front([])
        with self.assertRaises(RTTError) as ctx:
            RTTClient(base_url=f.url, retries=3, **FAST).beacon({"site": "x", "event": "heartbeet", "structure": STRUCTURE})
        err = ctx.exception
        self.assertEqual((err.kind, err.status, err.attempts, err.retryable), ("http", 400, 1, False))
        self.assertEqual(sorted(d["path"] for d in err.details), ["/event", "/session", "/ts"])
        self.assertEqual(f.requests, 1)

    @unittest.skipUnless(os.environ.get("RTT_TOKEN"), "server runs without a token")
    def test_401_without_token_is_not_retried(self):
        f = self.front([])
        with self.assertRaises(RTTError) as ctx:
            RTTClient(base_url=f.url, token="", retries=3, **FAST).set_profile("x", create_profile(version="1", supports=[]))
        self.assertEqual((ctx.exception.status, f.requests), (401, 1))

    def test_retries_5xx_and_resets_then_succeeds(self):
        f = self.front(["503", "reset", "503"])
        t = RTTClient(base_url=f.url, retries=3, **FAST).topology({"graph": {"a": ["b"]}})
        self.assertEqual(t["edges"], 1)
        self.assertEqual(f.requests, 4)

    def test_gives_up_with_the_last_5xx(self):
        f = self.front(["503", "503", "503"])
        with self.assertRaises(RTTError) as ctx:
            RTTClient(base_url=f.url, retries=1, **FAST).topology({"graph": {}})
        self.assertEqual((ctx.exception.status, ctx.exception.attempts, f.requests), (503, 2, 2))

    def test_refused_connection_is_a_network_error(self):
        with self.assertRaises(RTTError) as ctx:
            RTTClient(base_url=closed_port_url(), retries=2, **FAST).sites()
        self.assertEqual((ctx.exception.kind, ctx.exception.status, ctx.exception.attempts), ("network", None, 3))

    def test_timeout(self):
        f = self.front(["hang", "hang"])
        started = time.monotonic()
        with self.assertRaises(RTTError) as ctx:
            RTTClient(base_url=f.url, timeout=0.2, retries=1, **FAST).sites()
        self.assertEqual((ctx.exception.kind, ctx.exception.attempts), ("timeout", 2))
        self.assertLess(time.monotonic() - started, 3)


class DefaultsTests(unittest.TestCase):
    def test_base_url_from_environment(self):
        saved = os.environ.get("RTT_URL")
        try:
            os.environ["RTT_URL"] = "http://example.invalid:9/"
            self.assertEqual(RTTClient().base_url, "http://example.invalid:9")
            del os.environ["RTT_URL"]
            self.assertEqual(RTTClient().base_url, "http://127.0.0.1:8080")
        finally:
            if saved is not None:
                os.environ["RTT_URL"] = saved


if __name__ == "__main__":
    unittest.main()
