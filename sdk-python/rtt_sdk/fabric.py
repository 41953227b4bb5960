"""A client stub for the RTT fabric daemon (seed 004): the universal stub protocol (spec/fabric/frame.md) over UDS
or TCP, standard library only.

    from rtt_sdk.fabric import FabricClient
    with FabricClient.uds(".rtt/fabric.sock") as c:
        route = c.grant("tx", "rtt://core/api/metrics", token)   # token: `rtt token issue … --verb tx` (a dict)
        answer = c.call(route["route_id"], b'{"q": 1}')

Frames: a 24-byte little-endian header — magic ``RTT1``, flags u16, reserved u16, route_id u32, frame_id u32,
len u32, crc32c u32 (CRC-32C of header bytes 4..20, continued over the payload) — then the payload. Control
requests are CONTROL frames with a JSON ``{"op": …}`` payload on route 0; calls are data frames on a route_id.
Capability tokens are Ed25519-signed JSON made by a trusted key (``rtt token issue``): Python's standard library
cannot sign Ed25519, so this stub presents tokens, it does not issue them.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any, Dict, Optional

MAGIC = b"RTT1"
HEADER = struct.Struct("<4sHHIIII")  # magic, flags, reserved, route_id, frame_id, len, crc32c
FLAG_RESPONSE = 0x0001
FLAG_ERROR = 0x0002
FLAG_CONTROL = 0x0004
KNOWN_FLAGS = FLAG_RESPONSE | FLAG_ERROR | FLAG_CONTROL
MAX_PAYLOAD = 16 * 1024 * 1024

__all__ = [
    "FLAG_CONTROL",
    "FLAG_ERROR",
    "FLAG_RESPONSE",
    "FabricClient",
    "FabricError",
    "Frame",
    "crc32c",
    "decode_header",
    "encode_frame",
]


def _table() -> list:
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_T = _table()


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC-32C (Castagnoli), reflected, init and final xor 0xFFFFFFFF; ``crc`` continues an earlier value."""
    c = crc ^ 0xFFFFFFFF
    t = _T
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def encode_frame(flags: int, route_id: int, frame_id: int, payload: bytes = b"") -> bytes:
    """One frame: header (CRC over header bytes 4..20, then the payload) + payload."""
    head = HEADER.pack(MAGIC, flags, 0, route_id, frame_id, len(payload), 0)
    crc = crc32c(payload, crc32c(head[4:20]))
    return head[:20] + struct.pack("<I", crc) + payload


class FabricError(Exception):
    """An error answer (``{code, message}``), or a broken connection (``RTT_FABRIC_DAEMON``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Frame:
    __slots__ = ("flags", "route_id", "frame_id", "payload")

    def __init__(self, flags: int, route_id: int, frame_id: int, payload: bytes) -> None:
        self.flags = flags
        self.route_id = route_id
        self.frame_id = frame_id
        self.payload = payload


def decode_header(head: bytes):
    """(flags, route_id, frame_id, len, crc) of a 24-byte header; FabricError for a bad magic or length."""
    magic, flags, reserved, route_id, frame_id, length, crc = HEADER.unpack(head)
    if magic != MAGIC:
        raise FabricError("RTT_FABRIC_CORRUPT", "bad magic: the stream lost its framing")
    if length > MAX_PAYLOAD:
        raise FabricError("RTT_FABRIC_CORRUPT", f"frame of {length} bytes is over the limit")
    return flags, reserved, route_id, frame_id, length, crc


class FabricClient:
    """One connection to the daemon (UDS or TCP). Synchronous: one request at a time, answers matched by frame_id
    (a late answer to a request that timed out is skipped). Grants (``open``/``tx``) belong to the connection."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._next = 1
        self.dropped = 0  # frames skipped: bad CRC, reserved bits, unknown flags, unmatched answers

    @classmethod
    def uds(cls, path: str, timeout: Optional[float] = 30.0) -> "FabricClient":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(path)
        except OSError as e:
            s.close()
            raise FabricError("RTT_FABRIC_DAEMON", f"no fabric daemon answers on {path} ({e})") from e
        return cls(s)

    @classmethod
    def tcp(cls, host: str, port: int, timeout: Optional[float] = 30.0) -> "FabricClient":
        try:
            s = socket.create_connection((host, port), timeout=timeout)
        except OSError as e:
            raise FabricError("RTT_FABRIC_DAEMON", f"no fabric daemon answers on {host}:{port} ({e})") from e
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(s)

    def __enter__(self) -> "FabricClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._sock.close()
        except OSError:
            pass

    # ---- frames ---------------------------------------------------------------------------------------------

    def _recv_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self._sock.recv(n - len(buf))
            if not chunk:
                raise FabricError("RTT_FABRIC_DAEMON", "connection closed by the daemon")
            buf += chunk
        return bytes(buf)

    def read_frame(self) -> Frame:
        """The next good frame (frames with a bad CRC, reserved bits or unknown flags are skipped and counted)."""
        while True:
            head = self._recv_exact(24)
            flags, reserved, route_id, frame_id, length, crc = decode_header(head)
            payload = self._recv_exact(length) if length else b""
            if crc32c(payload, crc32c(head[4:20])) != crc or reserved != 0 or flags & ~KNOWN_FLAGS:
                self.dropped += 1
                continue
            return Frame(flags, route_id, frame_id, payload)

    def request(self, flags: int, route_id: int, payload: bytes, timeout: Optional[float] = None) -> Frame:
        """Sends one frame and returns its answer (FabricError for an error answer)."""
        fid = self._next
        self._next = self._next % 0xFFFFFFFE + 1
        if timeout is not None:
            self._sock.settimeout(timeout)
        try:
            self._sock.sendall(encode_frame(flags, route_id, fid, payload))
            while True:
                f = self.read_frame()
                if f.frame_id != fid or not f.flags & FLAG_RESPONSE:
                    self.dropped += 1
                    continue
                if f.flags & FLAG_ERROR:
                    try:
                        err = json.loads(f.payload.decode("utf-8"))
                        raise FabricError(str(err.get("code")), str(err.get("message")))
                    except (ValueError, AttributeError):
                        raise FabricError("RTT_FABRIC_DRIVER", "an error frame whose payload is not {code, message}")
                return f
        except socket.timeout as e:
            raise FabricError("RTT_FABRIC_TIMEOUT", "no answer in time") from e
        except OSError as e:
            raise FabricError("RTT_FABRIC_DAEMON", f"connection broken ({e})") from e

    # ---- the control plane and calls ------------------------------------------------------------------------

    def control(self, op: str, **body: Any) -> Any:
        """A control request (spec/fabric/daemon.md, "Control protocol"): the daemon's JSON answer."""
        msg = json.dumps({"op": op, **body}, separators=(",", ":")).encode("utf-8")
        return json.loads(self.request(FLAG_CONTROL, 0, msg).payload.decode("utf-8"))

    def hello(self) -> Dict[str, Any]:
        return self.control("hello")

    def resolve(self, symbol: str) -> Dict[str, Any]:
        return self.control("resolve", symbol=symbol)

    def grant(self, verb: str, symbol: str, token: Optional[Any] = None) -> Dict[str, Any]:
        """``open`` (the route for this connection's life) or ``tx`` (one call) with a capability token (a dict or its
        JSON text); without one only a ``--no-auth`` daemon agrees. Returns the route: ``{route_id, from, to, …}``."""
        body: Dict[str, Any] = {"symbol": symbol}
        if token is not None:
            body["token"] = json.loads(token) if isinstance(token, (str, bytes)) else token
        return self.control(verb, **body)

    def call(self, route_id: int, payload: bytes = b"", timeout: Optional[float] = None) -> bytes:
        """One call on a route this connection holds a grant for: the answer bytes."""
        return self.request(0, route_id, payload, timeout).payload

    def call_json(self, route_id: int, value: Any = None, timeout: Optional[float] = None) -> Any:
        return json.loads(self.call(route_id, json.dumps(value).encode("utf-8"), timeout).decode("utf-8"))

    def call_symbol(self, symbol: str, payload: bytes = b"", token: Optional[Any] = None, verb: str = "tx") -> bytes:
        """Grant (``tx`` by default: the token allows this one call) and call in one go."""
        route = self.grant(verb, symbol, token)
        return self.call(int(route["route_id"]), payload)
