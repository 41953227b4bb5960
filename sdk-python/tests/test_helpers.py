"""create_profile, build_validate_payload and span attributes: no server needed."""

import unittest

import _support  # noqa: F401  (puts the SDK on sys.path)
from rtt_sdk import RTTError, build_validate_payload, create_profile, rtt_span_attributes


class HelperTests(unittest.TestCase):
    def test_create_profile_matches_the_seed(self):
        profile = create_profile(version="1.0", supports=["coherence", "drift"], contact="infra@example.com")
        self.assertEqual(profile, {"version": "1.0", "supports": ["coherence", "drift"], "contact": "infra@example.com"})

    def test_create_profile_rejects_mistakes(self):
        with self.assertRaisesRegex(ValueError, "telepathy"):
            create_profile(version="1", supports=["telepathy"])
        with self.assertRaisesRegex(ValueError, "version"):
            create_profile(version="", supports=[])
        with self.assertRaisesRegex(ValueError, "scope"):
            create_profile(version="1", supports=[], scope="galaxy")

    def test_create_profile_scope_and_budget(self):
        p = create_profile(version="1", supports=["drift", "drift"], scope="cluster", name="east", latency_budget_ms=20)
        self.assertEqual(p, {"version": "1", "supports": ["drift"], "scope": "cluster", "name": "east", "latency_budget_ms": 20})

    def test_build_validate_payload(self):
        self.assertEqual(
            build_validate_payload(system_map={"services": ["a"]}),
            {"system_map": {"services": ["a"]}, "flows": [], "constraints": []},
        )
        with self.assertRaises(ValueError):
            build_validate_payload(system_map=["a"])

    def test_span_attributes(self):
        attrs = rtt_span_attributes(
            "auth-service",
            event="heartbeat",
            beacon={"fingerprint": "abc", "drift_state": "drifted", "drift": [{"kind": "structure_change"}]},
        )
        self.assertEqual(
            attrs,
            {
                "rtt.site": "auth-service",
                "rtt.event": "heartbeat",
                "rtt.structure.fingerprint": "abc",
                "rtt.drift.state": "drifted",
                "rtt.drift.kinds": ["structure_change"],
            },
        )

    def test_retryable(self):
        self.assertTrue(RTTError("x", "network").retryable)
        self.assertTrue(RTTError("x", "http", 503).retryable)
        self.assertFalse(RTTError("x", "http", 400).retryable)


if __name__ == "__main__":
    unittest.main()
