"""start_heartbeat against a real server: startup, periodic, shutdown; never raises."""

import time
import unittest
import uuid

import _support  # noqa: F401
from _support import STRUCTURE, closed_port_url, requires_server
from rtt_sdk import RTTClient, start_heartbeat


def until(cond, timeout=5.0):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


class HeartbeatTests(unittest.TestCase):
    @requires_server
    def test_startup_periodic_shutdown(self):
        site = f"py-hb-{uuid.uuid4().hex[:8]}"
        sent = []
        hb = start_heartbeat(site, STRUCTURE, interval=0.05, on_beacon=lambda res, event: sent.append(event))
        self.assertTrue(hb.ready.wait(5))
        until(lambda: sent.count("heartbeat") >= 3)
        hb.stop()
        hb.stop()  # idempotent
        self.assertEqual(sent[0], "startup")
        self.assertEqual(sent[-1], "shutdown")
        self.assertEqual(sent.count("shutdown"), 1)
        site_row = [s for s in RTTClient().sites() if s["site"] == site][0]
        self.assertEqual(site_row["beacons"], len(sent))
        self.assertEqual(site_row["last_event"], "shutdown")
        self.assertFalse(hb._thread.is_alive())

    def test_never_raises_when_server_is_down(self):
        errors = []

        def bad_handler(err):
            errors.append(err)
            raise RuntimeError("host handler bug")

        hb = start_heartbeat(
            "py-hb-down",
            STRUCTURE,
            interval=0.02,
            client=RTTClient(base_url=closed_port_url(), retries=0),
            on_error=bad_handler,
        )
        until(lambda: len(errors) >= 3)
        hb.stop()
        self.assertEqual(hb.sent, 0)
        self.assertEqual(type(errors[0]).__name__, "RTTError")


if __name__ == "__main__":
    unittest.main()
