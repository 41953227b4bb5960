"""The HTTP transport every RTT client shares: settings from the environment, one attempt, retries with backoff.

Network errors, timeouts and retryable HTTP errors are retried with jittered exponential backoff (a random wait in
[0, min(max_backoff, backoff * 2**(attempt - 1))]); what counts as retryable is the raised error's ``retryable``.
How an HTTP error answer becomes an exception is the client's own (the session API and the CTF routes answer
errors in different shapes), so each client passes its ``http_error``.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, Optional

from .errors import RTTError

DEFAULT_BASE_URL = "http://127.0.0.1:8080"

# (method, path, HTTP status, the answer's text, attempt) -> the exception to raise
HttpErrorFactory = Callable[[str, str, int, str, int], RTTError]


class HttpTransport:
    """base_url: default $RTT_URL, else http://127.0.0.1:8080; token: default $RTT_TOKEN; timeout: seconds per
    attempt; retries: retries after the first attempt."""

    def __init__(
        self,
        base_url: Optional[str],
        token: Optional[str],
        timeout: float,
        retries: int,
        backoff: float,
        max_backoff: float,
    ) -> None:
        self.base_url = (base_url or os.environ.get("RTT_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.token = token if token is not None else (os.environ.get("RTT_TOKEN") or None)
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.max_backoff = max_backoff

    def _send(
        self,
        method: str,
        path: str,
        data: Optional[bytes],
        content_type: str,
        http_error: HttpErrorFactory,
        retry: bool = True,
        raw: bool = False,
    ) -> Any:
        """Sends until an answer, a non-retryable error, or the retries are spent. Returns the parsed JSON answer
        (None when empty), or its text when ``raw``."""
        attempts = self.retries + 1 if retry else 1
        last: Optional[RTTError] = None
        for attempt in range(attempts):
            if attempt > 0:
                time.sleep(random.uniform(0, min(self.max_backoff, self.backoff * 2 ** (attempt - 1))))
            try:
                return self._once(method, path, data, content_type, http_error, attempt + 1, raw)
            except RTTError as err:
                if not err.retryable:
                    raise
                last = err
        assert last is not None
        raise last

    def _once(
        self,
        method: str,
        path: str,
        data: Optional[bytes],
        content_type: str,
        http_error: HttpErrorFactory,
        attempt: int,
        raw: bool,
    ) -> Any:
        headers: Dict[str, str] = {"accept": "application/json"}
        if data is not None:
            headers["content-type"] = content_type
        if self.token:
            headers["authorization"] = "Bearer " + self.token
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                text = res.read().decode("utf-8")
                if raw:
                    return text
                return json.loads(text) if text else None
        except urllib.error.HTTPError as err:
            raise http_error(method, path, err.code, err.read().decode("utf-8", "replace") or str(err.reason), attempt) from None
        except (socket.timeout, TimeoutError) as err:
            raise RTTError(f"RTT {method} {path}: no answer within {self.timeout} s", "timeout", None, [], attempt) from err
        except urllib.error.URLError as err:
            kind = "timeout" if isinstance(err.reason, (socket.timeout, TimeoutError)) else "network"
            raise RTTError(f"RTT {method} {path}: {err.reason}", kind, None, [], attempt) from err
        except (http.client.HTTPException, ConnectionError, OSError) as err:
            raise RTTError(f"RTT {method} {path}: {err}", "network", None, [], attempt) from err
