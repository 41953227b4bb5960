"""A minimal WebSocket client (RFC 6455), standard library only: enough for RTT's live CTF socket.

    from rtt_sdk import websocket
    ws = websocket.create_connection("ws://127.0.0.1:8080/ctf/run-42/live?from=end",
                                     header=[f"Authorization: Bearer {token}"])
    ws.send(json.dumps(event))   # a text frame
    ws.recv()                    # the next message: str (text) or bytes (binary)
    ws.close()

The calls are those of the ``websocket-client`` package (``create_connection``, ``send``, ``recv``, ``close``), so
code written for it (docs/api/ctf.md) runs unchanged. What it does: the opening handshake (``Sec-WebSocket-Key``
/ ``Accept`` checked; a refused handshake raises HandshakeError with the HTTP status and body), masked client
frames, text and binary messages (fragmented ones reassembled, text checked to be UTF-8), ping answered with pong,
and the closing handshake. No extensions, no subprotocols. ``wss://`` goes through ``ssl``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import ssl
import struct
import threading
import urllib.parse
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

__all__ = [
    "HandshakeError",
    "WebSocket",
    "WebSocketClosed",
    "WebSocketError",
    "WebSocketTimeoutException",
    "create_connection",
]

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

#: Largest message accepted from the server (bytes); a bigger one closes the connection with 1009.
DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024


class WebSocketError(Exception):
    """A WebSocket failure: the connection could not be opened, or the peer broke the protocol."""


class WebSocketTimeoutException(WebSocketError, TimeoutError):
    """Nothing arrived within the socket's timeout (the connection stays usable)."""


class HandshakeError(WebSocketError):
    """The server refused the upgrade: ``status`` (401, 403, 404…), ``headers`` and ``body`` of its HTTP answer."""

    def __init__(self, message: str, status: int, headers: Dict[str, str], body: bytes) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers
        self.body = body


class WebSocketClosed(WebSocketError):
    """The connection is closed: ``code`` and ``reason`` of the close frame (1006 and "" when there was none)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"websocket closed ({code}{': ' + reason if reason else ''})")
        self.code = code
        self.reason = reason


def _mask(data: bytes, key: bytes) -> bytes:
    n = len(data)
    if n == 0:
        return b""
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


def encode_frame(opcode: int, payload: bytes, fin: bool = True, mask_key: Optional[bytes] = None) -> bytes:
    """One client frame: FIN + opcode, the MASK bit and 7/16/64-bit length, the masking key, the masked payload."""
    key = os.urandom(4) if mask_key is None else mask_key
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    return head + key + _mask(payload, key)


def _headers_of(header: Union[None, Mapping[str, str], Iterable[str]]) -> List[Tuple[str, str]]:
    if header is None:
        return []
    if isinstance(header, Mapping):
        items = list(header.items())
    else:
        items = []
        for line in header:
            name, sep, value = line.partition(":")
            if not sep:
                raise ValueError(f"header {line!r}: expected 'Name: value'")
            items.append((name.strip(), value.strip()))
    for name, value in items:
        if any(c in name + value for c in "\r\n"):
            raise ValueError(f"header {name!r}: line breaks are not allowed")
    return items


class WebSocket:
    """An open client connection. ``send``/``recv`` may be called from two threads (one each); sends are locked."""

    def __init__(self, sock: socket.socket, buffered: bytes = b"", max_message: int = DEFAULT_MAX_MESSAGE) -> None:
        self.sock = sock
        self._buf = bytearray(buffered)
        self._send_lock = threading.Lock()
        self._max = max_message
        self.connected = True
        self._close_sent = False
        self._op: Optional[int] = None
        self._parts: List[bytes] = []
        self._size = 0
        self.close_code: Optional[int] = None
        self.close_reason = ""
        #: Response headers of the handshake (lower-cased names).
        self.headers: Dict[str, str] = {}
        self.status = 101

    # --- sending ---

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        frame = encode_frame(opcode, payload)
        with self._send_lock:
            if self._close_sent:
                raise WebSocketClosed(self.close_code or 1006, self.close_reason)
            if opcode == OP_CLOSE:
                self._close_sent = True
            try:
                self.sock.sendall(frame)
            except OSError as err:
                self.connected = False
                raise WebSocketClosed(1006, str(err)) from err

    def send(self, data: Union[str, bytes], opcode: Optional[int] = None) -> int:
        """Sends one message: a str as a text frame, bytes as a binary frame. Returns the payload's length."""
        if isinstance(data, str):
            payload = data.encode("utf-8")
            op = OP_TEXT if opcode is None else opcode
        else:
            payload = bytes(data)
            op = OP_BINARY if opcode is None else opcode
        self._send_frame(op, payload)
        return len(payload)

    def send_binary(self, data: bytes) -> int:
        return self.send(bytes(data), OP_BINARY)

    def ping(self, payload: Union[str, bytes] = b"") -> None:
        data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        if len(data) > 125:
            raise ValueError("a ping carries at most 125 bytes")
        self._send_frame(OP_PING, data)

    # --- receiving ---

    def settimeout(self, timeout: Optional[float]) -> None:
        self.sock.settimeout(timeout)

    def gettimeout(self) -> Optional[float]:
        return self.sock.gettimeout()

    def _fill(self, n: int) -> None:
        """Waits until ``n`` bytes are buffered; nothing is consumed, so a timeout loses nothing."""
        while len(self._buf) < n:
            try:
                chunk = self.sock.recv(max(65536, n - len(self._buf)))
            except socket.timeout as err:
                raise WebSocketTimeoutException("no message within the timeout") from err
            except OSError as err:
                self._lost(str(err))
                raise WebSocketClosed(1006, str(err)) from err
            if not chunk:
                self._lost("")
                raise WebSocketClosed(1006, "connection closed without a close frame")
            self._buf += chunk

    def _lost(self, why: str) -> None:
        self.connected = False
        if self.close_code is None:
            self.close_code, self.close_reason = 1006, why
        try:
            self.sock.close()
        except OSError:
            pass

    def _fail(self, code: int, why: str) -> WebSocketError:
        """Protocol error by the server: close with ``code`` and drop the connection."""
        try:
            if not self._close_sent:
                self._send_frame(OP_CLOSE, struct.pack("!H", code) + why.encode("utf-8")[:120])
        except WebSocketError:
            pass
        self.close_code, self.close_reason = code, why
        self._lost(why)
        return WebSocketError(f"websocket protocol error: {why}")

    def _frame(self) -> Tuple[bool, int, bytes]:
        """The next whole frame, consumed only once all of it has arrived."""
        self._fill(2)
        b0, b1 = self._buf[0], self._buf[1]
        fin, opcode = bool(b0 & 0x80), b0 & 0x0F
        if b0 & 0x70:
            raise self._fail(1002, "reserved bits set (no extension was negotiated)")
        if b1 & 0x80:
            raise self._fail(1002, "a server frame is masked")
        n, at = b1 & 0x7F, 2
        if n == 126:
            self._fill(4)
            (n,) = struct.unpack_from("!H", self._buf, 2)
            at = 4
        elif n == 127:
            self._fill(10)
            (n,) = struct.unpack_from("!Q", self._buf, 2)
            at = 10
        if opcode >= 0x8:
            if not fin or n > 125:
                raise self._fail(1002, "a control frame is fragmented or longer than 125 bytes")
        elif opcode not in (OP_CONT, OP_TEXT, OP_BINARY):
            raise self._fail(1002, f"unknown opcode {opcode}")
        if n > self._max:
            raise self._fail(1009, f"message over {self._max} bytes")
        self._fill(at + n)
        payload = bytes(self._buf[at : at + n])
        del self._buf[: at + n]
        return fin, opcode, payload

    def recv_data(self) -> Tuple[int, bytes]:
        """The next data message as ``(opcode, payload)``; answers pings, skips pongs. Raises WebSocketClosed after
        the server's close frame (answered), WebSocketTimeoutException when the timeout passes first."""
        if not self.connected:
            raise WebSocketClosed(self.close_code or 1006, self.close_reason)
        while True:
            fin, opcode, payload = self._frame()
            if opcode == OP_PING:
                if not self._close_sent:
                    self._send_frame(OP_PONG, payload)
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                code, reason = 1005, ""
                if len(payload) == 1:
                    raise self._fail(1002, "a close frame with a 1-byte body")
                if len(payload) >= 2:
                    (code,) = struct.unpack("!H", payload[:2])
                    reason = payload[2:].decode("utf-8", "replace")
                self.close_code, self.close_reason = code, reason
                if not self._close_sent:
                    try:
                        self._send_frame(OP_CLOSE, payload[:2])
                    except WebSocketError:
                        pass
                self._lost(reason)
                raise WebSocketClosed(code, reason)
            # A fragmented message is kept on the connection, so a timeout between its frames loses nothing.
            if opcode == OP_CONT:
                if self._op is None:
                    raise self._fail(1002, "a continuation frame without a message")
            else:
                if self._op is not None:
                    raise self._fail(1002, "a new message inside a fragmented one")
                self._op = opcode
            self._size += len(payload)
            if self._size > self._max:
                raise self._fail(1009, f"message over {self._max} bytes")
            self._parts.append(payload)
            if fin:
                op, data = self._op, b"".join(self._parts)
                self._op, self._parts, self._size = None, [], 0
                return op, data

    def recv(self) -> Union[str, bytes]:
        """The next message: str for a text message, bytes for a binary one (see recv_data)."""
        op, data = self.recv_data()
        if op == OP_TEXT:
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                raise self._fail(1007, "a text message that is not UTF-8") from None
        return data

    # --- closing ---

    def close(self, status: int = 1000, reason: str = "", timeout: float = 3.0) -> None:
        """The closing handshake: sends a close frame, waits (up to ``timeout`` s) for the server's, closes."""
        if not self.connected:
            return
        try:
            payload = struct.pack("!H", status) + reason.encode("utf-8")[:120]
            self._send_frame(OP_CLOSE, payload)
            self.sock.settimeout(timeout)
            while True:
                self.recv_data()  # data still in flight is dropped
        except (WebSocketError, OSError):
            pass
        finally:
            self._lost(reason)

    def abort(self) -> None:
        """Drops the connection without a closing handshake."""
        self._lost("aborted")

    def __enter__(self) -> "WebSocket":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def create_connection(
    url: str,
    timeout: Optional[float] = None,
    header: Union[None, Mapping[str, str], Iterable[str]] = None,
    origin: Optional[str] = None,
    max_message: int = DEFAULT_MAX_MESSAGE,
    ssl_context: Optional[ssl.SSLContext] = None,
    **_ignored: Any,
) -> WebSocket:
    """Opens ``ws://`` / ``wss://`` (``http(s)://`` also accepted) and completes the opening handshake.

    header:  extra request headers, as ``["Name: value"]`` (websocket-client's form) or a dict
    timeout: seconds for connecting and for each later ``recv`` (None: block)
    origin:  an ``Origin`` header (browsers send one; RTT checks it like a write's)
    """
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("ws", "wss", "http", "https"):
        raise ValueError(f"{url}: not a ws:// or wss:// URL")
    secure = scheme in ("wss", "https")
    host = parts.hostname
    if not host:
        raise ValueError(f"{url}: no host")
    port = parts.port or (443 if secure else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = f"[{host}]" if ":" in host else host
    if parts.port and parts.port != (443 if secure else 80):
        host_header += f":{parts.port}"

    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        if secure:
            ctx = ssl_context or ssl.create_default_context()
            sock = ctx.wrap_socket(sock, server_hostname=host)
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        extra = _headers_of(header)
        names = {n.lower() for n, _ in extra}
        lines = [f"GET {path} HTTP/1.1"]
        if "host" not in names:
            lines.append(f"Host: {host_header}")
        lines += [
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if origin is not None and "origin" not in names:
            lines.append(f"Origin: {origin}")
        lines += [f"{n}: {v}" for n, v in extra]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(4096)
            if not chunk:
                raise WebSocketError(f"{url}: the server closed the connection during the handshake")
            buf += chunk
            if len(buf) > 65536:
                raise WebSocketError(f"{url}: handshake response headers over 64 KiB")
        head, _, rest = buf.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        try:
            status = int(status_line.split(" ", 2)[1])
        except (IndexError, ValueError):
            raise WebSocketError(f"{url}: not an HTTP response: {status_line[:100]!r}") from None
        headers: Dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if status != 101:
            body = rest
            length = int(headers.get("content-length", "0") or 0)
            try:
                while len(body) < length:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    body += chunk
            except OSError:
                pass
            text = body[:300].decode("utf-8", "replace")
            raise HandshakeError(f"{url}: handshake refused: HTTP {status} {text}".rstrip(), status, headers, body)
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode("ascii")
        if headers.get("upgrade", "").lower() != "websocket":
            raise WebSocketError(f"{url}: 101 without 'Upgrade: websocket'")
        if "upgrade" not in [t.strip().lower() for t in headers.get("connection", "").split(",")]:
            raise WebSocketError(f"{url}: 101 without 'Connection: Upgrade'")
        if headers.get("sec-websocket-accept") != accept:
            raise WebSocketError(f"{url}: wrong Sec-WebSocket-Accept")
        if headers.get("sec-websocket-extensions"):
            raise WebSocketError(f"{url}: the server chose an extension that was not offered")
        sock.settimeout(timeout)
        ws = WebSocket(sock, rest, max_message)
        ws.headers = headers
        return ws
    except BaseException:
        sock.close()
        raise
