"""RTTClient: the RTT-Inside API for Python services (seeds 001/002), standard library only.

Same failure policy as the JavaScript SDK: network errors, timeouts and 5xx are retried with
jittered exponential backoff (a random wait in [0, min(max_backoff, backoff * 2**attempt)]);
4xx is never retried. Every failure raises RTTError.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Optional

from .errors import RTTError

DEFAULT_BASE_URL = "http://127.0.0.1:8080"


class RTTClient:
    """Client for /api/rtt/*.

    base_url: default $RTT_URL, else http://127.0.0.1:8080
    token:    bearer token for writes, default $RTT_TOKEN
    timeout:  seconds per attempt (default 5)
    retries:  retries after the first attempt for network errors, timeouts and 5xx (default 2)
    logger:   where to print the seeds' lines (a logging.Logger, or anything with info/warning): "[RTT] heartbeat
              sent" (the beacon's event) after each accepted beacon, "[RTT] drift detected in <site>" when its answer
              reports drift. None by default: the SDK prints nothing.
    """

    def __init__(
        self,
        base_url: Optional[str] = None,
        token: Optional[str] = None,
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        logger: Any = None,
    ) -> None:
        self.logger = logger
        self.base_url = (base_url or os.environ.get("RTT_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.token = token if token is not None else (os.environ.get("RTT_TOKEN") or None)
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.max_backoff = max_backoff

    # --- the API -------------------------------------------------------------------------

    def beacon(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        """POST /api/rtt/beacon. Returns {status, site, event, fingerprint, drift_state, drift[]}."""
        res = self.request("POST", "/api/rtt/beacon", payload)
        if self.logger is not None:
            # The seeds' lines (seed 002 "[RTT] heartbeat sent", seed 001 "[RTT] cluster_heartbeat sent",
            # "[RTT] drift detected in service mesh").
            self.logger.info("[RTT] %s sent", payload.get("event"))
            if res.get("drift"):
                warn = getattr(self.logger, "warning", None) or self.logger.info
                warn("[RTT] drift detected in %s", res.get("site"))
        return res

    def set_profile(self, site: str, profile: Dict[str, Any]) -> Dict[str, Any]:
        """PUT /api/rtt/profile/{site}."""
        return self.request("PUT", "/api/rtt/profile/" + urllib.parse.quote(site, safe=""), profile)

    def get_profile(self, site: str) -> Optional[Dict[str, Any]]:
        """GET /api/rtt/profile/{site}; None when the site has no profile."""
        try:
            return self.request("GET", "/api/rtt/profile/" + urllib.parse.quote(site, safe=""))["profile"]
        except RTTError as err:
            if err.status == 404:
                return None
            raise

    def validate(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        """POST /api/rtt/validate: coherence of {system_map, flows, constraints}."""
        return self.request("POST", "/api/rtt/validate", payload)

    def corridor(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        """POST /api/rtt/corridor: corridor alignment of {flows: [{path, latency_ms}]}."""
        return self.request("POST", "/api/rtt/corridor", payload)

    def topology(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        """POST /api/rtt/topology: triadic decomposition of {graph}."""
        return self.request("POST", "/api/rtt/topology", payload)

    def sites(self) -> List[Dict[str, Any]]:
        """GET /api/rtt/sites."""
        return self.request("GET", "/api/rtt/sites")["sites"]

    def drift(self, site: Optional[str] = None, limit: Optional[int] = None) -> List[Dict[str, Any]]:
        """GET /api/rtt/drift?site=&limit=: most recent drift events, oldest first."""
        query = {k: v for k, v in (("site", site), ("limit", limit)) if v is not None}
        suffix = "?" + urllib.parse.urlencode(query) if query else ""
        return self.request("GET", "/api/rtt/drift" + suffix)["events"]

    # --- transport -----------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None) -> Any:
        last: Optional[RTTError] = None
        for attempt in range(self.retries + 1):
            if attempt > 0:
                time.sleep(random.uniform(0, min(self.max_backoff, self.backoff * 2 ** (attempt - 1))))
            try:
                return self._once(method, path, body, attempt + 1)
            except RTTError as err:
                if not err.retryable:
                    raise
                last = err
        assert last is not None
        raise last

    def _once(self, method: str, path: str, body: Any, attempt: int) -> Any:
        headers = {"accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["content-type"] = "application/json"
        if self.token:
            headers["authorization"] = "Bearer " + self.token
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                text = res.read().decode("utf-8")
                return json.loads(text) if text else None
        except urllib.error.HTTPError as err:
            raw = err.read().decode("utf-8", "replace")
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = {}
            parsed = parsed if isinstance(parsed, dict) else {}
            details = parsed.get("details") if isinstance(parsed.get("details"), list) else []
            where = "; ".join(f"{d.get('path') or 'body'}: {d.get('message')}" for d in details)
            message = f"RTT {method} {path}: {err.code} {parsed.get('error') or raw[:200] or err.reason}"
            raise RTTError(message + (f" ({where})" if where else ""), "http", err.code, details, attempt) from None
        except (socket.timeout, TimeoutError) as err:
            raise RTTError(f"RTT {method} {path}: no answer within {self.timeout} s", "timeout", None, [], attempt) from err
        except urllib.error.URLError as err:
            timed_out = isinstance(err.reason, (socket.timeout, TimeoutError))
            kind = "timeout" if timed_out else "network"
            raise RTTError(f"RTT {method} {path}: {err.reason}", kind, None, [], attempt) from err
        except (http.client.HTTPException, ConnectionError, OSError) as err:
            raise RTTError(f"RTT {method} {path}: {err}", "network", None, [], attempt) from err
