"""Runs the seeds' Python snippets (tests/seeds/*.py, verbatim) against the server at RTT_URL."""

import os
import subprocess
import sys
import unittest

import _support
from _support import requires_server
from rtt_sdk import RTTClient

SEEDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")


def run_seed(name: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=_support.SDK_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, os.path.join(SEEDS, name)], env=env, capture_output=True, text=True, timeout=60)


@requires_server
class SeedSnippetTests(unittest.TestCase):
    def test_seed_001_datacenters(self):
        r = run_seed("seed_001_datacenters.py")
        self.assertEqual(r.returncode, 0, r.stderr)
        client = RTTClient()
        self.assertEqual(client.get_profile("datacenter-east")["supports"], ["coherence", "drift", "corridor"])
        site = [s for s in client.sites() if s["site"] == "datacenter-east"][0]
        self.assertEqual(site["labels"], {"cluster": "datacenter-east"})  # it sends cluster_heartbeat
        self.assertEqual(site["last_event"], "cluster_heartbeat")

    def test_seed_002_backend(self):
        r = run_seed("seed_002_backend.py")
        self.assertEqual(r.returncode, 0, r.stderr)
        client = RTTClient()
        self.assertEqual(client.get_profile("auth-service")["contact"], "infra@example.com")
        self.assertTrue(any(s["site"] == "auth-service" for s in client.sites()))


if __name__ == "__main__":
    unittest.main()
