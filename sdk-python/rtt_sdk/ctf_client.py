"""Sending Corridor Trace Files to ``rtt serve`` (docs/api/ctf.md): upload, live append, the live WebSocket.

    from rtt_sdk.ctf_client import CTFClient, LiveSink
    client = CTFClient()                              # RTT_URL, RTT_TOKEN (the write token)
    client.upload_file("run.ctf")                     # POST /ctf        -> {id, created, steps, final_status, ...}
    client.append("run-42", [header, step])           # POST /ctf/{id}/events -> {accepted, events, complete}
    with client.live("run-42") as live:               # the live socket, as a producer
        live.emit(header)                             # sends one frame, waits for its ack
        live.emit({"step": 0, "q": q, "status": "stable"})   # the seed's update: stored as q + status

A corridor streams as it runs with ``Corridor(..., writer=LiveSink(client.live(id)))``; ``updates=True`` sends each
step's q and status as the seed's ``{step, q, status}`` update. Standard library only (the WebSocket is
``rtt_sdk.websocket``).
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections import deque
from typing import Any, Deque, Dict, Iterable, Iterator, List, Mapping, Optional, Union

from . import websocket
from .ctf import Q_METRICS, dumps
from .errors import RTTError
from .transport import HttpTransport

__all__ = ["CTFClient", "CTFError", "HTTPSink", "LiveSink", "LiveStream"]


class CTFError(RTTError):
    """A CTF request or live frame the server refused.

    code:      the server's error code (RTT_ERR_INVALID_INPUT, RTT_ERR_CONFLICT, RTT_ERR_FORBIDDEN, ...)
    body:      the whole error answer (HTTP body or the live socket's error frame)
    accepted:  events stored before the refused line (appends)
    complete:  whether the trace has its footer now (appends: the stored lines may have held it; resending is a 409)
    body_line: the refused line in the request body or frame
    issues:    [{line, field, code, message, severity}]: what was wrong, ``field`` a JSON pointer
    msg:       the live socket's frame number the error answers (None for HTTP)
    """

    def __init__(self, message: str, status: Optional[int], body: Mapping[str, Any], attempts: int = 1, msg: Any = None):
        super().__init__(message, "http" if status is not None else "live", status, [], attempts)
        self.body = dict(body)
        self.code = body.get("code")
        self.accepted = body.get("accepted")
        self.complete = body.get("complete")
        self.body_line = body.get("body_line")
        self.issues: List[Dict[str, Any]] = list(body.get("issues") or [])
        self.msg = msg

    @property
    def retryable(self) -> bool:
        return self.status is not None and self.status >= 500

    @staticmethod
    def describe(body: Mapping[str, Any]) -> str:
        issues = body.get("issues") or []
        first = "; ".join(
            f"line {i.get('line')} {i.get('field') or ''} {i.get('code')}: {i.get('message')}".replace("  ", " ")
            for i in issues[:3]
        )
        return f"{body.get('code') or 'error'}: {body.get('error') or ''}" + (f" ({first})" if first else "")


Events = Union[str, bytes, Mapping[str, Any], Iterable[Mapping[str, Any]]]


def _ndjson(events: Events) -> bytes:
    """Events as the NDJSON body: text as is (a newline added if missing), dicts one line each."""
    if isinstance(events, bytes):
        text = events.decode("utf-8")
    elif isinstance(events, str):
        text = events
    elif isinstance(events, Mapping):
        text = dumps(events) + "\n"
    else:
        text = "".join(dumps(e) + "\n" for e in events)
    if text and not text.endswith("\n"):
        text += "\n"
    return text.encode("utf-8")


def _ctf_error(method: str, path: str, status: int, text: str, attempt: int) -> CTFError:
    """The CTF routes' error answer ``{code, error, issues, accepted, complete, body_line}`` as a CTFError."""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    parsed = parsed if isinstance(parsed, dict) else {"error": text[:200]}
    return CTFError(f"RTT {method} {path}: {status} {CTFError.describe(parsed)}", status, parsed, attempt)


def _quote_id(trace_id: str) -> str:
    return urllib.parse.quote(trace_id, safe="")


class CTFClient(HttpTransport):
    """The CTF routes of ``rtt serve``.

    base_url: default $RTT_URL, else http://127.0.0.1:8080
    token:    bearer token (the write token to upload or append), default $RTT_TOKEN
    timeout:  seconds per HTTP attempt (default 10); also the live socket's default receive timeout
    retries:  retries of idempotent requests (GET, POST /ctf) after network errors, timeouts and 5xx (default 2).
              Appends are sent once: a retry after a lost answer would append the events twice.
    """

    def __init__(
        self,
        base_url: Optional[str] = None,
        token: Optional[str] = None,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
    ) -> None:
        super().__init__(base_url, token, timeout, retries, backoff, max_backoff)

    # --- HTTP -----------------------------------------------------------------------------------------------------

    def upload(self, trace: Events, trace_id: Optional[str] = None) -> Dict[str, Any]:
        """POST /ctf: a complete trace (text, bytes, or events), validated by the server. Returns ``{id, created:
        true, task_id, steps, final_status, warnings}`` (201), or ``{id, created: false}`` when the same id already
        holds the same bytes (a retry). A trace with errors raises CTFError (400, ``issues``); another trace
        under the id, CTFError 409."""
        suffix = "?" + urllib.parse.urlencode({"id": trace_id}) if trace_id is not None else ""
        return self._request("POST", "/ctf" + suffix, _ndjson(trace), retry=True)

    def upload_file(self, path: Union[str, "os.PathLike[str]"], trace_id: Optional[str] = None) -> Dict[str, Any]:
        """POST /ctf with the bytes of a .ctf file."""
        with open(path, "rb") as f:
            return self.upload(f.read(), trace_id)

    def append(self, trace_id: str, events: Events) -> Dict[str, Any]:
        """POST /ctf/{id}/events: appends events (or seed updates) to a live trace; the first append to a new id
        starts with its header. Returns ``{accepted, events, complete}``. A refused line raises CTFError with
        ``accepted`` (stored before it), ``complete``, ``body_line`` and ``issues``: resend from that line once fixed."""
        return self._request("POST", f"/ctf/{_quote_id(trace_id)}/events", _ndjson(events), retry=False)

    def traces(self) -> List[Dict[str, Any]]:
        """GET /ctf: the stored traces."""
        return self._request("GET", "/ctf")["traces"]

    def corridor(self, trace_id: str) -> Dict[str, Any]:
        """GET /api/corridor/{id}: the parsed trace (steps with q and status, lineage, rewinds, status timeline)."""
        return self._request("GET", f"/api/corridor/{_quote_id(trace_id)}")

    def raw(self, trace_id: str) -> str:
        """GET /ctf/{id}/raw: the stored file."""
        return self._request("GET", f"/ctf/{_quote_id(trace_id)}/raw", raw=True)

    def _request(self, method: str, path: str, body: Optional[bytes] = None, retry: bool = True, raw: bool = False) -> Any:
        return self._send(method, path, body, "application/x-ndjson", _ctf_error, retry=retry, raw=raw)

    # --- the live socket ------------------------------------------------------------------------------------------

    def live_url(self, trace_id: str, from_: str = "end") -> str:
        """ws(s)://…/ctf/{id}/live?from=…"""
        parts = urllib.parse.urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        base = parts.path.rstrip("/")
        return f"{scheme}://{parts.netloc}{base}/ctf/{_quote_id(trace_id)}/live?from={urllib.parse.quote(from_)}"

    def connect(self, trace_id: str, from_: str = "end", timeout: Optional[float] = None) -> websocket.WebSocket:
        """The live socket as a plain WebSocket (``send``/``recv``), with the bearer token: what the seed's
        ``stream_trace_update(state, websocket)`` is given."""
        header = [f"Authorization: Bearer {self.token}"] if self.token else []
        return websocket.create_connection(
            self.live_url(trace_id, from_), timeout=self.timeout if timeout is None else timeout, header=header
        )

    def live(self, trace_id: str, from_: str = "end", timeout: Optional[float] = None) -> "LiveStream":
        """The live socket for producing (and viewing): ``from_="end"`` skips the replay of stored events,
        ``"start"`` replays them first. A refused handshake raises websocket.HandshakeError (401/403)."""
        return LiveStream(self.connect(trace_id, from_, timeout))


class LiveStream:
    """A producer (and viewer) on ``/ctf/{id}/live``. Every frame sent is answered in order by an ack or an error;
    the event frames of the trace (the producer's own appends included) are kept in ``events`` (the latest
    ``max_events``), gap notices in ``gaps``."""

    def __init__(self, ws: websocket.WebSocket, max_events: int = 10000) -> None:
        self.ws = ws
        self.sent = 0
        self.replies: Dict[int, Dict[str, Any]] = {}
        self.events: Deque[Dict[str, Any]] = deque(maxlen=max_events)
        self.gaps: List[Dict[str, Any]] = []
        self.complete = False
        self._unchecked: List[int] = []  # frames sent whose reply nobody has waited for yet

    def send(self, item: Union[str, Mapping[str, Any]]) -> int:
        """Sends one frame (an event, a seed update, or NDJSON text) without waiting; returns its msg number."""
        self.ws.send(item if isinstance(item, str) else dumps(item))
        self.sent += 1
        self._unchecked.append(self.sent)
        return self.sent

    def recv_frame(self) -> Dict[str, Any]:
        """The next frame from the server, parsed; event and gap frames are also recorded, replies by msg."""
        data = self.ws.recv()
        frame = json.loads(data)
        kind = frame.get("type")
        if kind == "event":
            self.events.append(frame)
            if frame.get("event", {}).get("type") == "footer":
                self.complete = True
        elif kind == "gap":
            self.gaps.append(frame)
            self.complete = self.complete or bool(frame.get("complete"))
        elif kind in ("ack", "error") and isinstance(frame.get("msg"), int):
            self.replies[frame["msg"]] = frame
        return frame

    def wait(self, msg: Optional[int] = None) -> Dict[str, Any]:
        """The ack of frame ``msg`` (default: the last sent), reading frames until it arrives; an error frame for
        it raises CTFError. Raises websocket.WebSocketTimeoutException after the socket's timeout."""
        m = self.sent if msg is None else msg
        if m < 1 or m > self.sent:
            raise ValueError(f"no frame {m} was sent (sent: {self.sent})")
        if m not in self._unchecked:
            raise ValueError(f"the reply to frame {m} was already taken")
        while m not in self.replies:
            self.recv_frame()
        reply = self.replies.pop(m)
        if m in self._unchecked:
            self._unchecked.remove(m)
        if reply["type"] == "error":
            raise CTFError(f"live frame {m} refused: {CTFError.describe(reply)}", None, reply, msg=m)
        return reply

    def flush(self) -> List[Dict[str, Any]]:
        """Waits for the replies to every frame sent so far; raises CTFError for the first refused one."""
        acks = []
        while self._unchecked:
            acks.append(self.wait(self._unchecked[0]))
        return acks

    def emit(self, item: Union[str, Mapping[str, Any]]) -> Dict[str, Any]:
        """Sends one frame and waits for its ack (CTFError if refused)."""
        return self.wait(self.send(item))

    def update(self, corridor_or_update: Any) -> Dict[str, Any]:
        """Sends the seed's ``{step, q, status}`` (a Corridor's ``live_update()``, or the dict) and waits for its ack."""
        u = corridor_or_update.live_update() if hasattr(corridor_or_update, "live_update") else corridor_or_update
        return self.emit(dict(u))

    def watch(self) -> Iterator[Dict[str, Any]]:
        """Event frames as they arrive (the viewer's side), until the trace is complete."""
        while not self.complete:
            frame = self.recv_frame()
            if frame.get("type") == "event":
                yield frame

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> "LiveStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class LiveSink:
    """A corridor writer that streams every event over a LiveStream as it is written.

    updates: send each step's q and status as one seed update ``{step, q, status, violations}`` instead of the two
             events (the server stores the same two events)
    sync:    wait for each frame's ack before returning (default); ``False`` sends without waiting and checks the
             acks at ``flush()`` / ``close()``
    close_stream: close the socket at ``close()`` (default)
    """

    def __init__(self, stream: LiveStream, updates: bool = False, sync: bool = True, close_stream: bool = True) -> None:
        self.stream = stream
        self.updates = updates
        self.sync = sync
        self.close_stream = close_stream
        self._q: Optional[Dict[str, Any]] = None

    def _send(self, item: Mapping[str, Any]) -> None:
        if self.sync:
            self.stream.emit(item)
        else:
            self.stream.send(item)

    def write(self, event: Mapping[str, Any]) -> None:
        kind = event.get("type")
        if self.updates and kind == "q":
            self._hold_q(event)
            return
        if self.updates and kind == "status" and self._q is not None and self._q["step_id"] == event["step_id"]:
            q = {m: self._q[m] for m in Q_METRICS}
            self._q = None
            update = {"step": event["step_id"], "q": q, "status": event["corridor_status"]}
            update["violations"] = event.get("violations", [])
            self._send(update)
            return
        self._flush_q()
        self._send(event)

    def _hold_q(self, event: Mapping[str, Any]) -> None:
        self._flush_q()
        self._q = dict(event)

    def _flush_q(self) -> None:
        if self._q is not None:
            q, self._q = self._q, None
            self._send(q)

    def flush(self) -> None:
        self._flush_q()
        self.stream.flush()

    def close(self, final_status: Optional[str] = None) -> None:
        try:
            self.flush()
        finally:
            if self.close_stream:
                self.stream.close()


class HTTPSink:
    """A corridor writer that appends events with ``POST /ctf/{id}/events``, ``batch`` events per request (and
    whatever is left at ``flush()`` / ``close()``)."""

    def __init__(self, client: CTFClient, trace_id: str, batch: int = 64) -> None:
        self.client = client
        self.trace_id = trace_id
        self.batch = max(1, int(batch))
        self._pending: List[Mapping[str, Any]] = []
        self.accepted = 0

    def write(self, event: Mapping[str, Any]) -> None:
        self._pending.append(dict(event))
        if len(self._pending) >= self.batch or event.get("type") == "footer":
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        self.accepted += self.client.append(self.trace_id, pending)["accepted"]

    def close(self, final_status: Optional[str] = None) -> None:
        self.flush()
