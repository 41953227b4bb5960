"""Corridor Trace Files (spec/ctf/v0.1, seed 003): events as JSON lines, written as the TypeScript writer writes them.

    from rtt_sdk.ctf import CTFWriter
    w = CTFWriter("run.ctf")
    w.write({"type": "header", ...})   # one line per event, flushed to the OS at once
    w.close()                          # writes the footer (final_status: the last status written) unless one was

Lines are encoded exactly as JavaScript's ``JSON.stringify`` encodes them (see ``dumps``): no spaces, numbers in
ECMAScript's shortest round-trip form (``1736280000``, not ``1736280000.0``; ``1e-7``, not ``1e-07``), non-ASCII
text as is, lone surrogates escaped. So a trace written here is byte-for-byte the trace ``@rtt/ctf`` writes for the
same events, and ``POST /ctf`` / the live socket store what was sent.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Union

__all__ = [
    "CORRIDOR_STATUSES",
    "CTFWriter",
    "MemorySink",
    "Q_METRICS",
    "TeeSink",
    "dumps",
    "js_number",
    "parse_events",
    "read_events",
]

#: The five Q-metrics, in q_metrics.md order (also the order of ``violations``).
Q_METRICS = ("semantic_drift", "tool_entropy", "latency_drift", "branching_pressure", "retry_ratio")
CORRIDOR_STATUSES = ("stable", "warning", "critical", "halted")

Event = Dict[str, Any]

# --- JSON as JSON.stringify writes it ------------------------------------------------------------------------------

_MAX_SAFE = 2**53


def js_number(x: Union[int, float]) -> str:
    """A number as ECMAScript's Number::toString writes it (what JSON.stringify puts in a line).

    Integers print as integers (``1736280000.0`` -> ``1736280000``), the digits are the shortest that round-trip
    (Python's ``repr`` and JavaScript choose the same ones), and the exponent form is used only below 1e-6 and
    from 1e21 on, written ``1e-7`` / ``1.5e+21``. NaN and infinities raise ValueError: JSON has no such numbers
    (JSON.stringify would write ``null``, which no CTF field accepts).
    """
    if isinstance(x, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(x, int):
        if -_MAX_SAFE < x < _MAX_SAFE:
            return str(x)
        x = float(x)  # JavaScript only has doubles: print what it would hold
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"{x!r} is not a JSON number (CTF numbers are finite)")
    if x == 0:
        return "0"  # also -0, as JSON.stringify(-0)
    r = repr(abs(x))
    mant, _, exp = r.partition("e")
    whole, _, frac = mant.partition(".")
    digits = whole + frac
    n = len(whole) + (int(exp) if exp else 0)  # value = 0.digits * 10**n
    stripped = digits.lstrip("0")
    n -= len(digits) - len(stripped)
    digits = stripped.rstrip("0") or "0"
    k = len(digits)
    sign = "-" if x < 0 else ""
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    es = ("+" if e >= 0 else "-") + str(abs(e))
    return sign + (digits if k == 1 else digits[0] + "." + digits[1:]) + "e" + es


_SURROGATE = re.compile("[\ud800-\udfff]")
_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


def _js_string(s: str) -> str:
    if _SURROGATE.search(s) is None:
        return json.dumps(s, ensure_ascii=False)
    # A high + low surrogate written as two code points is one character to JavaScript; any other is escaped.
    s = _PAIR.sub(lambda m: (m.group().encode("utf-16-le", "surrogatepass").decode("utf-16-le")), s)
    out = json.dumps(s, ensure_ascii=False)
    return _SURROGATE.sub(lambda m: "\\u%04x" % ord(m.group()), out)


def dumps(value: Any) -> str:
    """``JSON.stringify(value)``: compact, keys in insertion order, numbers and strings as JavaScript writes them.

    Accepts dicts (string keys), lists/tuples, str, int, float, bool and None; anything else raises TypeError.
    """
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _js_string(value)
    if isinstance(value, (int, float)):
        return js_number(value)
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"JSON object keys are strings, got {type(k).__name__} {k!r}")
            parts.append(_js_string(k) + ":" + dumps(v))
        return "{" + ",".join(parts) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# --- writing -----------------------------------------------------------------------------------------------------


class CTFWriter:
    """Writes one event per line, as the seed's CTFWriter does (``write(event)``, ``close()``), with @rtt/ctf's rules.

    Each event is one ``os.write`` of the whole line (the seed's flush per event): a crash can only cut the line
    being written, which readers report as truncated. ``fsync=True`` also survives power loss (a disk flush per
    event). ``mode="a"`` appends to an open trace. ``close()`` writes the footer unless one was written, with
    ``final_status`` (default: the last status written) and the time from ``now`` (Unix seconds).
    """

    def __init__(
        self,
        file_path: Union[str, "os.PathLike[str]"],
        fsync: bool = False,
        mode: str = "w",
        now: Optional[Callable[[], float]] = None,
    ) -> None:
        if mode not in ("w", "a"):
            raise ValueError('mode is "w" (truncate) or "a" (append)')
        self.path = os.fspath(file_path)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if mode == "w" else os.O_APPEND)
        self._fd: Optional[int] = os.open(self.path, flags | getattr(os, "O_CLOEXEC", 0), 0o644)
        self._fsync = fsync
        self._now = now or time.time
        self.last_status = "stable"
        self.footer_written = False

    def write(self, event: Event) -> None:
        if self._fd is None:
            raise ValueError(f"CTFWriter({self.path}): write after close")
        if self.footer_written:
            raise ValueError(f"CTFWriter({self.path}): the footer was already written")
        data = (dumps(event) + "\n").encode("utf-8")
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        if self._fsync:
            os.fsync(self._fd)
        if event.get("type") == "status":
            self.last_status = event["corridor_status"]
        elif event.get("type") == "footer":
            self.footer_written = True

    def close(self, final_status: Optional[str] = None) -> None:
        if self._fd is None:
            return
        try:
            if not self.footer_written:
                self.write({"type": "footer", "timestamp": self._now(), "final_status": final_status or self.last_status})
            if self._fsync:
                os.fsync(self._fd)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "CTFWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class MemorySink:
    """Keeps events in memory (tests, a producer that uploads at the end); ``text()`` is the trace as a file."""

    def __init__(self) -> None:
        self.events: List[Event] = []
        self.closed = False

    def write(self, event: Event) -> None:
        self.events.append(dict(event))

    def close(self, final_status: Optional[str] = None) -> None:
        self.closed = True

    def text(self) -> str:
        return "".join(dumps(e) + "\n" for e in self.events)


class TeeSink:
    """Writes every event to several sinks in turn (a local file and a live stream, say)."""

    def __init__(self, *sinks: Any) -> None:
        self.sinks = sinks

    def write(self, event: Event) -> None:
        for s in self.sinks:
            s.write(event)

    def close(self, final_status: Optional[str] = None) -> None:
        for s in self.sinks:
            _close_sink(s, final_status)


def _close_sink(sink: Any, final_status: Optional[str]) -> None:
    """Closes a sink, passing the final status to those whose ``close`` takes one (the seed's writer's does not)."""
    close = getattr(sink, "close", None)
    if close is None:
        return
    import inspect

    try:
        params = inspect.signature(close).parameters.values()
        takes = any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in params)
    except (TypeError, ValueError):
        takes = False
    if takes:
        close(final_status)
    else:
        close()


# --- reading -----------------------------------------------------------------------------------------------------


def parse_events(text: str, strict: bool = True) -> List[Event]:
    """The events of CTF text: one JSON object per line; empty lines, a BOM and ``\\r\\n`` endings are tolerated.

    A last line without its newline that does not parse is a truncated write and is dropped. Any other line that
    is not a JSON object raises ValueError naming its line (``strict=False`` skips it instead). This reads; it
    does not check the rules (``rtt ctf validate`` does).
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    out: List[Event] = []
    for i, line in enumerate(lines):
        if line.endswith("\r"):
            line = line[:-1]
        if not line.strip():
            continue
        try:
            value = json.loads(line)
            if not isinstance(value, dict):
                raise ValueError("not a JSON object")
        except ValueError as err:
            last = i == len(lines) - 1  # no newline after it
            if last or not strict:
                continue
            raise ValueError(f"line {i + 1}: {err}") from None
        out.append(value)
    return out


def read_events(path: Union[str, "os.PathLike[str]"], strict: bool = True) -> List[Event]:
    """The events of a .ctf file (see parse_events)."""
    with open(path, encoding="utf-8", newline="") as f:
        return parse_events(f.read(), strict)


def iter_lines(events: Iterable[Event]) -> Iterator[str]:
    """Each event as its CTF line (with the newline)."""
    for e in events:
        yield dumps(e) + "\n"
