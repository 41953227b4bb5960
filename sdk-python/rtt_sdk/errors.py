"""RTTError: raised by every RTTClient call that does not succeed."""

from __future__ import annotations

from typing import Any, Dict, List, Optional


class RTTError(Exception):
    """A failed RTT call.

    kind:     "http" (the server answered non-2xx), "network" or "timeout" (it did not answer)
    status:   HTTP status, None for network errors and timeouts
    details:  the server's [{"path", "message"}]: which field was wrong and why
    attempts: attempts made, including retries
    """

    def __init__(
        self,
        message: str,
        kind: str,
        status: Optional[int] = None,
        details: Optional[List[Dict[str, Any]]] = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.details = details or []
        self.attempts = attempts

    @property
    def retryable(self) -> bool:
        """Network errors, timeouts and 5xx are worth retrying; 4xx never."""
        return self.kind != "http" or (self.status is not None and self.status >= 500)
