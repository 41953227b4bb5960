"""Runs the seeds' Python snippets (tests/seeds/*.py, verbatim) against the server at RTT_URL."""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import _support
from _support import requires_server
from rtt_sdk import CTFClient, RTTClient, read_events

SEEDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")


def run_seed(name: str, base_env=None) -> subprocess.CompletedProcess:
    base = os.environ if base_env is None else base_env
    env = dict(base, PYTHONPATH=_support.SDK_ROOT + os.pathsep + base.get("PYTHONPATH", ""))
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

    def test_seed_003_live(self):
        # The seed's stream_trace_update streams a corridor into the live socket; every frame is acknowledged.
        trace = f"seed-003-live-{os.getpid()}-{int(time.time() * 1000) % 10**8}"
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        out = os.path.join(tmp.name, "seed-003.ctf")
        env = dict(os.environ, RTT_CTF_TRACE=os.environ.get("RTT_CTF_SEED_TRACE") or trace, RTT_CTF_OUT=out)
        r = run_seed("seed_003_live.py", env)
        self.assertEqual(r.returncode, 0, r.stderr)
        result = json.loads(r.stdout)
        self.assertEqual((result["acks"], result["steps"]), (10, 4))  # header, 4 steps, 4 updates, footer
        view = CTFClient().corridor(result["trace"])
        self.assertEqual((view["complete"], view["q_computed"], view["final_status"]), (True, 0, result["final_status"]))
        local = {e["step_id"]: e for e in read_events(out) if e["type"] == "q"}
        for step in view["steps"]:  # each step carries the q its update sent
            self.assertEqual(step["q"], {k: v for k, v in local[step["step_id"]].items() if k not in ("type", "step_id")})


if __name__ == "__main__":
    unittest.main()
