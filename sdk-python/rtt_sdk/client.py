"""RTTClient: the RTT-Inside API for Python services (seeds 001/002), standard library only.

Same failure policy as the JavaScript SDK: network errors, timeouts and 5xx are retried with
jittered exponential backoff (a random wait in [0, min(max_backoff, backoff * 2**attempt)]);
4xx is never retried. Every failure raises RTTError.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any, Dict, List, Optional

from .errors import RTTError
from .transport import DEFAULT_BASE_URL, HttpTransport

__all__ = ["DEFAULT_BASE_URL", "RTTClient"]


class RTTClient(HttpTransport):
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
        super().__init__(base_url, token, timeout, retries, backoff, max_backoff)
        self.logger = logger

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
        """One call of the API: ``body`` sent as JSON; retried as the class says."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        return self._send(method, path, data, "application/json", _api_error)


def _api_error(method: str, path: str, status: int, raw: str, attempt: int) -> RTTError:
    """The API's error answer ``{error, details: [{path, message}]}`` as an RTTError naming the fields."""
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = {}
    parsed = parsed if isinstance(parsed, dict) else {}
    details = parsed.get("details") if isinstance(parsed.get("details"), list) else []
    where = "; ".join(f"{d.get('path') or 'body'}: {d.get('message')}" for d in details)
    message = f"RTT {method} {path}: {status} {parsed.get('error') or raw[:200]}"
    return RTTError(message + (f" ({where})" if where else ""), "http", status, details, attempt)
