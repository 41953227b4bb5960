"""start_heartbeat: startup beacon, periodic heartbeats, shutdown beacon — on a daemon thread.

Never raises into the host: failures go to on_error (default: one line on stderr), and an
on_error that raises is swallowed. The thread is a daemon, so it never keeps the interpreter
alive; the shutdown beacon is sent by stop() or, failing that, at interpreter exit (atexit).
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Optional, Union

from .client import RTTClient

Structure = Dict[str, Any]


class Heartbeat:
    def __init__(
        self,
        site: str,
        structure: Union[Structure, Callable[[], Structure]],
        interval: float = 30.0,
        event: str = "heartbeat",
        session: Optional[str] = None,
        client: Optional[RTTClient] = None,
        startup: bool = True,
        on_error: Optional[Callable[[BaseException], None]] = None,
        on_beacon: Optional[Callable[[Dict[str, Any], str], None]] = None,
    ) -> None:
        self.site = site
        self.interval = interval
        self.event = event
        self.session = session or f"srv-{int(time.time())}"
        self.client = client or RTTClient()
        self.sent = 0
        self.ready = threading.Event()
        self._structure = structure
        self._on_error = on_error
        self._on_beacon = on_beacon
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one beacon at a time: ticks never pile up
        self._stopped = False
        self._state_lock = threading.Lock()
        self._startup = startup
        self._thread = threading.Thread(target=self._run, name=f"rtt-heartbeat-{site}", daemon=True)
        atexit.register(self.stop)
        self._thread.start()

    def _send(self, event: str) -> None:
        with self._lock:
            try:
                structure = self._structure() if callable(self._structure) else self._structure
                ts = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
                res = self.client.beacon(
                    {"site": self.site, "session": self.session, "event": event, "ts": ts, "structure": structure}
                )
                self.sent += 1
                if self._on_beacon:
                    self._on_beacon(res, event)
            except BaseException as err:  # noqa: BLE001 - the host must never see our failures
                self._report(err)

    def _report(self, err: BaseException) -> None:
        try:
            if self._on_error:
                self._on_error(err)
            else:
                print(f"[RTT] beacon failed: {err}", file=sys.stderr)
        except BaseException:  # noqa: BLE001 - the host's handler failed; nobody left to tell
            pass

    def _run(self) -> None:
        if self._startup:
            self._send("startup")
        self.ready.set()
        while not self._stop.wait(self.interval):
            self._send(self.event)

    def stop(self, timeout: Optional[float] = None) -> None:
        """Stop the loop and send the shutdown beacon (once). Never raises."""
        with self._state_lock:
            if self._stopped:
                return
            self._stopped = True
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout if timeout is not None else self.client.timeout * (self.client.retries + 2))
        self._send("shutdown")
        try:
            atexit.unregister(self.stop)
        except Exception:  # noqa: BLE001
            pass


def start_heartbeat(
    site: str,
    structure: Union[Structure, Callable[[], Structure]],
    interval: float = 30.0,
    **kwargs: Any,
) -> Heartbeat:
    """Start beating now: a startup beacon, then `event` ("heartbeat" or "cluster_heartbeat") every `interval` s."""
    return Heartbeat(site, structure, interval=interval, **kwargs)
