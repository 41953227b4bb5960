"""The corridor runtime (seed 003): every step is written as ``step``, then its ``q`` and ``status``, computed on the
current lineage exactly as ``@rtt/ctf``'s TypeScript runtime computes them (spec/ctf/v0.1/q_metrics.md,
encoding_rules.md §6). A cross-language test (sdk-python/test/ctf.test.ts) runs both on the same steps and compares
every metric to 1e-9, every status, and the written traces byte for byte.

    from rtt_sdk.corridor import Corridor
    from rtt_sdk.ctf import CTFWriter
    c = Corridor("task-9af3", spec, writer=CTFWriter("run.ctf"), task="find quantum turbulence papers")
    r = c.step("search('quantum turbulence')", "3 results", tool="search", latency_ms=412)
    r.q, r.corridor_status, r.violations
    c.rewind(c.ancestor(2)); c.end()

Seed names: ``c.steps`` (step events written), ``c.q_history`` (the q of every step and rewind, in order),
``c.corridor_status``: what the seed's ``stream_trace_update(state, websocket)`` reads.
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence

from .ctf import Q_METRICS, Event, MemorySink, _close_sink

__all__ = [
    "CRITICAL_STREAK",
    "Corridor",
    "CorridorError",
    "Embedder",
    "StepResult",
    "StepTree",
    "compute_q",
    "cosine",
    "round6",
    "tokens",
]

#: Consecutive over-threshold steps after which a single violation escalates to ``critical``.
CRITICAL_STREAK = 3

_THRESHOLDS = (
    ("semantic_drift", "max_semantic_drift"),
    ("tool_entropy", "max_tool_entropy"),
    ("latency_drift", "max_latency_drift"),
    ("branching_pressure", "max_branching_pressure"),
    ("retry_ratio", "max_retry_ratio"),
)


class CorridorError(RuntimeError):
    """A call the corridor refuses: a step after ``halted``, a bad latency, a rewind to a step that is no ancestor."""


def round6(x: float) -> float:
    """``Math.round(x * 1e6) / 1e6``: to 6 decimals, halves up, the same double as JavaScript gives."""
    y = x * 1e6
    r = math.floor(y)
    if y - r >= 0.5:
        r += 1
    return r / 1e6


# --- text (text.ts) ----------------------------------------------------------------------------------------------

STOP_WORDS = frozenset("a an and are as at be by for from in is it of on or that the this to was with".split())
_ASCII_TOKEN = re.compile(r"[a-z0-9]+")


def _word(c: str) -> bool:
    return unicodedata.category(c)[0] in "LN"  # \p{L} or \p{N}


def _utf16_len(s: str) -> int:
    return len(s) + sum(1 for c in s if ord(c) > 0xFFFF)


def tokens(text: str) -> List[str]:
    """The tokens of a text (q_metrics.md): lower-cased, split on everything that is not a Unicode letter or digit,
    tokens of one character and stop words dropped. As in @rtt/ctf, a token's length is counted in UTF-16 code
    units, so one astral letter (two units) is kept as a token."""
    low = text.lower()
    if low.isascii():
        found: Iterable[str] = _ASCII_TOKEN.findall(low)
    else:
        found = []
        start = -1
        for i, c in enumerate(low):
            if _word(c):
                if start < 0:
                    start = i
            elif start >= 0:
                found.append(low[start:i])
                start = -1
        if start >= 0:
            found.append(low[start:])
    return [t for t in found if (len(t) >= 2 or _utf16_len(t) >= 2) and t not in STOP_WORDS]


def _terms(*texts: str) -> Dict[str, int]:
    """Term counts of the texts as if joined by spaces, in first-occurrence order."""
    out: Dict[str, int] = {}
    for text in texts:
        for t in tokens(text):
            out[t] = out.get(t, 0) + 1
    return out


class _Corpus:
    """Document frequencies over the reference text and the current lineage (TfIdfCorpus)."""

    def __init__(self) -> None:
        self.df: Dict[str, int] = {}
        self.size = 0

    def add(self, v: Mapping[str, int]) -> None:
        self.size += 1
        for t in v:
            self.df[t] = self.df.get(t, 0) + 1

    def remove(self, v: Mapping[str, int]) -> None:
        self.size -= 1
        for t in v:
            self.df[t] -= 1

    def cosine(self, a: Mapping[str, int], b: Mapping[str, int]) -> float:
        """Cosine of the TF-IDF vectors (idf = ln((1 + N) / (1 + df)) + 1); 0 when either is empty. Same order of
        operations as the TypeScript corpus, so the same double."""
        if not a or not b:
            return 0.0
        df = self.df
        ln_n = math.log(1 + self.size)
        dot = 0.0
        na = 0.0
        nb = 0.0
        for t, c in a.items():
            idf = ln_n - math.log(1 + df.get(t, 0)) + 1
            w = c * idf
            na += w * w
            bc = b.get(t)
            if bc is not None:
                dot += w * bc * idf
        for t, c in b.items():
            w = c * (ln_n - math.log(1 + df.get(t, 0)) + 1)
            nb += w * w
        return dot / math.sqrt(na * nb)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine of two vectors (the common length); 0 when either is all zeros."""
    dot = na = nb = 0.0
    for x, y in zip(a, b):
        dot += x * y
        na += x * x
        nb += y * y
    return 0.0 if na == 0 or nb == 0 else dot / math.sqrt(na * nb)


class Embedder:
    """A pluggable text model for semantic_drift: ``name`` goes into the header, ``embed(text)`` gives a vector.
    Any object with these two works (duck-typed); this class only documents them."""

    name = "custom"

    def embed(self, text: str) -> Sequence[float]:  # pragma: no cover - interface
        raise NotImplementedError


# --- the step tree (step-tree.ts) --------------------------------------------------------------------------------

# JavaScript's \s (WhiteSpace + LineTerminator), for the retry key's whitespace rule.
_WS = "[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
_ODD_SPACE = re.compile(f"^{_WS}|{_WS}\\Z|{_WS}{_WS}|[\t\n\r\f\v]")
_WS_RUN = re.compile(f"{_WS}+")
_WS_EDGE = re.compile(f"^{_WS}+|{_WS}+\\Z")


def _normal_action(a: str) -> str:
    """Action text with whitespace trimmed and collapsed (what makes two steps the same attempt)."""
    if _ODD_SPACE.search(a) is None:
        return a
    return _WS_RUN.sub(" ", _WS_EDGE.sub("", a))


def _step_text(e: Mapping[str, Any]) -> str:
    return f"{e['action']} {e['observation']}"


class StepNode:
    """A step in the replayed tree: its event, lineage links, validity and its last q / status."""

    __slots__ = (
        "ord",
        "id",
        "line",
        "event",
        "parent",
        "children",
        "depth",
        "on_lineage",
        "valid",
        "retry",
        "q",
        "status",
        "violations",
        "streak",
        "terms",
        "latency",
    )

    def __init__(self, ord_: int, event: Mapping[str, Any], line: int, parent: Optional["StepNode"], retry: bool):
        self.ord = ord_
        self.id: int = event["step_id"]
        self.line = line
        self.event = event
        self.parent = parent
        self.children: List[StepNode] = []
        self.depth = parent.depth + 1 if parent else 0
        self.on_lineage = False
        self.valid = True
        self.retry = retry
        self.q: Optional[Dict[str, float]] = None
        self.status: Optional[str] = None
        self.violations: Optional[List[str]] = None
        self.streak = 0
        self.terms: Optional[Dict[str, int]] = None
        self.latency = float(event["latency_ms"])


class StepTree:
    """Replays a corridor: the step tree, the current lineage and running aggregates over it, from which the five
    Q-metrics of the head are read (the TypeScript StepTree, operation for operation). Trusts its caller to follow
    the rules (the Corridor and ``compute_q`` do)."""

    def __init__(self, spec: Mapping[str, Any], task: Optional[str] = None, embedder: Any = None) -> None:
        self.spec = spec
        self.task = task
        self.embedder = embedder
        self.nodes: List[StepNode] = []
        self.by_id: Dict[int, StepNode] = {}
        self.head: Optional[StepNode] = None
        self.root: Optional[StepNode] = None
        self.steps_written = 0
        self._len = 0
        self._latency_sum = 0.0
        self._retries = 0
        self._child_sum = 0
        self._tools: Dict[str, int] = {}
        self._tool_steps = 0
        self._corpus = _Corpus()
        self._seen: Dict[str, set] = {}
        self._ref_terms = _terms(task if task is not None else "")
        self._ref_vector: Optional[Sequence[float]] = None
        if task is not None:
            self._corpus.add(self._ref_terms)

    def lineage(self) -> List[StepNode]:
        """Root to head."""
        out = []
        n = self.head
        while n:
            out.append(n)
            n = n.parent
        out.reverse()
        return out

    def add_step(self, event: Mapping[str, Any], line: int = 0, parent: Optional[StepNode] = None) -> StepNode:
        """Adds a step as a child of ``parent`` (None = the root) and makes it the head."""
        if parent is not None and parent is not self.head:
            self._move_head(parent)
        tool = event.get("tool")
        seen = self._seen.setdefault("" if tool is None else tool, set())
        action = _normal_action(event["action"])
        retry = action in seen
        seen.add(action)
        node = StepNode(len(self.nodes), event, line, parent, retry)
        self.nodes.append(node)
        self.by_id[node.id] = node
        self.steps_written += 1
        if parent is not None:
            parent.children.append(node)
            if parent.on_lineage:
                self._child_sum += 1
        else:
            self.root = node
            if self.task is None:  # without a task text the root's text is the reference
                self._ref_terms = _terms(event["action"], event["observation"])
                self._corpus.add(self._ref_terms)
        self._enter(node)
        self.head = node
        return node

    def rewind(self, to: StepNode) -> None:
        """Rewinds the head to ``to`` (an ancestor of the head): the abandoned path and its branches become invalid."""
        n = self.head
        while n is not None and n is not to:
            self._leave(n)
            self._invalidate(n)
            n = n.parent
        self.head = to

    @staticmethod
    def is_ancestor(anc: StepNode, node: StepNode) -> bool:
        """True when ``anc`` is a strict ancestor of ``node``."""
        if anc.depth >= node.depth:
            return False
        n: Optional[StepNode] = node
        while n is not None and n.depth > anc.depth:
            n = n.parent
        return n is anc

    def metrics(self) -> Dict[str, float]:
        """The five Q-metrics of the head, on the current lineage."""
        h = self.head
        if h is None:
            return {m: 0 for m in Q_METRICS}
        entropy = 0.0
        for c in self._tools.values():
            p = c / self._tool_steps
            entropy -= p * math.log2(p)
        lat = h.latency
        baseline = (self._latency_sum - lat) / (self._len - 1) if self._len > 1 else 0.0
        return {
            "semantic_drift": round6(self._drift(h)),
            "tool_entropy": round6(entropy),
            "latency_drift": round6(abs(lat - baseline) / baseline if baseline > 0 else 0.0),
            "branching_pressure": self._child_sum - (self._len - 1),
            "retry_ratio": round6(self._retries / self._len),
        }

    def status(self, q: Mapping[str, float]) -> Dict[str, Any]:
        """The escalation ladder (encoding_rules.md §6) for the head; records its violation streak."""
        h = self.head
        spec = self.spec
        violations = [m for m, limit in _THRESHOLDS if q[m] > spec[limit]]
        streak = ((h.parent.streak if h and h.parent else 0) + 1) if violations else 0
        if h is not None:
            h.streak = streak
        halted = self.steps_written >= spec["max_steps"]
        if halted:
            status = "halted"
        elif len(violations) >= 2 or streak >= CRITICAL_STREAK:
            status = "critical"
        elif len(violations) == 1:
            status = "warning"
        else:
            status = "stable"
        if halted:
            violations.append("max_steps")
        return {"corridor_status": status, "violations": violations}

    def describe_head(self, keep: bool = True) -> Dict[str, Any]:
        """The head's Q-metrics, then its status: ``{q, corridor_status, violations}`` (kept on the node)."""
        q = self.metrics()
        s = self.status(q)
        h = self.head
        if keep and h is not None:
            h.q = q
            h.status = s["corridor_status"]
            h.violations = s["violations"]
        return {"q": q, **s}

    # internals

    def _node_terms(self, n: StepNode) -> Dict[str, int]:
        if n.terms is None:
            n.terms = _terms(n.event["action"], n.event["observation"])
        return n.terms

    def _drift(self, h: StepNode) -> float:
        if self.embedder is not None:
            if self._ref_vector is None:
                ref = self.task if self.task is not None else (_step_text(self.root.event) if self.root else "")
                self._ref_vector = self.embedder.embed(ref)
            cos = cosine(self._ref_vector, self.embedder.embed(_step_text(h.event)))
            return 1 - max(0.0, min(1.0, cos))
        cos = self._corpus.cosine(self._ref_terms, self._node_terms(h))
        return max(0.0, min(1.0, 1 - cos))

    def _move_head(self, target: StepNode) -> None:
        path = []
        t: Optional[StepNode] = target
        while t is not None and not t.on_lineage:
            path.append(t)
            t = t.parent
        n = self.head
        while n is not None and n is not t:
            self._leave(n)
            n = n.parent
        for n in reversed(path):
            self._enter(n)
        self.head = target

    def _enter(self, n: StepNode) -> None:
        n.on_lineage = True
        self._len += 1
        self._latency_sum += n.latency
        if n.retry:
            self._retries += 1
        self._child_sum += len(n.children)
        tool = n.event.get("tool")
        if tool:
            self._tools[tool] = self._tools.get(tool, 0) + 1
            self._tool_steps += 1
        self._corpus.add(self._node_terms(n))

    def _leave(self, n: StepNode) -> None:
        n.on_lineage = False
        self._len -= 1
        self._latency_sum -= n.latency
        if n.retry:
            self._retries -= 1
        self._child_sum -= len(n.children)
        tool = n.event.get("tool")
        if tool:
            c = self._tools.get(tool, 0) - 1
            if c <= 0:
                self._tools.pop(tool, None)
            else:
                self._tools[tool] = c
            self._tool_steps -= 1
        self._corpus.remove(self._node_terms(n))

    @staticmethod
    def _invalidate(n: StepNode) -> None:
        stack = [n]
        while stack:
            x = stack.pop()
            if not x.valid:
                continue
            x.valid = False
            stack.extend(x.children)


# --- the runtime (runtime.ts) ------------------------------------------------------------------------------------


@dataclass
class StepResult:
    """What ``step`` and ``rewind`` return: the head's id, its Q-metrics and its status."""

    step_id: int
    q: Dict[str, float]
    corridor_status: str
    violations: List[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.corridor_status


def _spec_dict(spec: Any) -> Dict[str, Any]:
    if isinstance(spec, Mapping):
        return dict(spec)
    for name in ("model_dump", "dict", "to_dict", "_asdict"):  # pydantic v2 / v1, dataclass helpers, namedtuple
        f = getattr(spec, name, None)
        if callable(f):
            return dict(f())
    if hasattr(spec, "__dict__"):
        return dict(vars(spec))
    raise TypeError("spec: a mapping of the corridor_spec thresholds (max_steps, max_semantic_drift, ...)")


_REQUIRED_SPEC = ("max_steps",) + tuple(limit for _, limit in _THRESHOLDS)


class Corridor:
    """The corridor runtime: writes the header now, then ``step`` / ``q`` / ``status`` per step, ``rewind`` (+ the
    kept step's recomputed q and status) per rewind, and the footer at ``end()``. Step ids count from 0 and are
    never reused, even after a rewind.

    writer:   any object with ``write(event)`` and ``close()`` (CTFWriter, MemorySink, TeeSink, a LiveSink, the
              seed's own CTFWriter); default a MemorySink (``corridor.writer.text()``)
    task:     the task text, the reference for semantic_drift (without it, the first step's text)
    embedder: replaces TF-IDF (an object with ``name`` and ``embed(text) -> vector``)
    now:      clock in Unix seconds (inject one for reproducible traces)
    """

    def __init__(
        self,
        task_id: str,
        spec: Any,
        writer: Any = None,
        task: Optional[str] = None,
        embedder: Any = None,
        now: Optional[Callable[[], float]] = None,
    ) -> None:
        self.task_id = task_id
        self.spec = _spec_dict(spec)
        missing = [k for k in _REQUIRED_SPEC if k not in self.spec]
        if missing:
            raise ValueError(f"corridor {task_id}: spec is missing {', '.join(missing)}")
        self.writer = writer if writer is not None else MemorySink()
        self.task = task
        self.embedder = embedder
        self._now = now or time.time
        self._tree = StepTree(self.spec, task, embedder)
        self._next_id = 0
        self._status = "stable"
        self._last_q: Optional[Dict[str, float]] = None
        self.ended = False
        #: Every step event written, in order (rewound ones included): the seed's ``state.steps``.
        self.steps: List[Event] = []
        #: The q written after every step and every rewind, in order: the seed's ``state.q_history``.
        self.q_history: List[Dict[str, float]] = []
        header: Event = {"type": "header", "task_id": task_id, "timestamp": self._now(), "corridor_spec": self.spec}
        if task is not None:
            header["task"] = task
        if embedder is not None:
            header["embedder"] = embedder.name
        header["ctf_version"] = "0.1"
        self._emit(header)

    # the seed's state names
    @property
    def corridor_status(self) -> str:
        return self._status

    @property
    def status(self) -> str:
        return self._status

    @property
    def head_step_id(self) -> Optional[int]:
        return self._tree.head.id if self._tree.head else None

    def _emit(self, event: Event) -> None:
        self.writer.write(event)

    def _live(self) -> None:
        if self.ended:
            raise CorridorError(f"corridor {self.task_id}: already ended")

    def _describe_head(self) -> StepResult:
        head = self._tree.head
        assert head is not None
        d = self._tree.describe_head()
        q = d["q"]
        self._emit({"type": "q", "step_id": head.id, **q})
        self._emit(
            {"type": "status", "step_id": head.id, "corridor_status": d["corridor_status"], "violations": d["violations"]}
        )
        self._status = d["corridor_status"]
        self._last_q = q
        self.q_history.append(q)
        return StepResult(head.id, q, d["corridor_status"], list(d["violations"]))

    def step(
        self,
        action: str,
        observation: str = "",
        tool: Optional[str] = None,
        latency_ms: float = 0,
        parent_step_id: Optional[int] = None,
    ) -> StepResult:
        """Writes one step (action + observation) and its q and status. ``parent_step_id`` forks from that valid
        step instead of continuing from the head."""
        self._live()
        if self._status == "halted":
            raise CorridorError(f"corridor {self.task_id}: halted after max_steps={self.spec['max_steps']} steps")
        if isinstance(latency_ms, bool) or not isinstance(latency_ms, (int, float)) or not math.isfinite(latency_ms):
            raise CorridorError(f"corridor {self.task_id}: latency_ms must be a finite number >= 0, got {latency_ms!r}")
        if latency_ms < 0:
            raise CorridorError(f"corridor {self.task_id}: latency_ms must be a finite number >= 0, got {latency_ms!r}")
        if not isinstance(action, str) or not isinstance(observation, str):
            raise CorridorError(f"corridor {self.task_id}: action and observation are strings")
        parent = self._tree.head
        if parent_step_id is not None:
            p = self._tree.by_id.get(parent_step_id)
            if p is None or not p.valid:
                raise CorridorError(f"corridor {self.task_id}: parent_step_id {parent_step_id} is not a valid step")
            parent = p
        event: Event = {
            "type": "step",
            "step_id": self._next_id,
            "parent_step_id": parent.id if parent else None,
            "timestamp": self._now(),
            "action": action,
            "observation": observation,
            "tool": tool,
            "latency_ms": latency_ms,
        }
        self._next_id += 1
        self._emit(event)
        self.steps.append(event)
        self._tree.add_step(event, 0, parent)
        return self._describe_head()

    def rewind(self, to_step: int) -> StepResult:
        """Rolls back to a strict ancestor of the head; returns the kept step's recomputed metrics and status."""
        self._live()
        head = self._tree.head
        to = self._tree.by_id.get(to_step)
        if head is None or to is None or not to.valid or not StepTree.is_ancestor(to, head):
            where = head.id if head else "none"
            raise CorridorError(f"corridor {self.task_id}: cannot rewind to {to_step}: not an ancestor of the head ({where})")
        self._emit({"type": "rewind", "from_step": head.id, "to_step": to_step, "timestamp": self._now()})
        self._tree.rewind(to)
        return self._describe_head()

    def end(self) -> str:
        """Writes the footer, closes the writer and returns the final status."""
        if self.ended:
            return self._status
        self._emit({"type": "footer", "timestamp": self._now(), "final_status": self._status})
        _close_sink(self.writer, self._status)
        self.ended = True
        return self._status

    def ancestor(self, generations: int) -> Optional[int]:
        """Id of the head's n-th ancestor on the current lineage (1 = parent), None past the root."""
        n = self._tree.head
        for _ in range(generations):
            if n is None:
                break
            n = n.parent
        return n.id if n else None

    def lineage(self) -> List[int]:
        """Step ids of the current lineage, root first."""
        return [n.id for n in self._tree.lineage()]

    def live_update(self) -> Dict[str, Any]:
        """The seed's live-monitor update ``{step, q, status}`` of the head (also right after a rewind, where the
        seed's ``len(state.steps) - 1`` would name the abandoned step)."""
        head = self._tree.head
        return {"step": head.id if head else None, "q": self._last_q, "status": self._status}

    def __enter__(self) -> "Corridor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.end()


# --- computed on read (trace.ts computeMissingQ) -----------------------------------------------------------------


def compute_q(events: Iterable[Mapping[str, Any]], embedder: Any = None) -> List[Dict[str, Any]]:
    """Replays a trace's steps and rewinds in file order, as readers do for traces without ``q`` events
    (q_metrics.md, "Computed on read"): ``[{"step_id", "q", "corridor_status", "violations", "after"}]``, one after
    every step (``after: "step"``) and every rewind (``after: "rewind"``, for its ``to_step``). Events are taken
    as valid (check them with ``rtt ctf validate``). A header naming an embedder other than TF-IDF needs that
    embedder; without it ValueError is raised (its drift cannot be reproduced)."""
    out: List[Dict[str, Any]] = []
    tree: Optional[StepTree] = None
    for line, e in enumerate(events, 1):
        kind = e.get("type")
        if kind == "header":
            name = e.get("embedder")
            if name and name != "tfidf" and (embedder is None or embedder.name != name):
                raise ValueError(f"the trace's semantic_drift comes from embedder {name!r}: pass it as embedder=")
            tree = StepTree(e["corridor_spec"], e.get("task"), embedder if name and name != "tfidf" else None)
        elif tree is None:
            continue
        elif kind == "step":
            pid = e.get("parent_step_id")
            tree.add_step(e, line, tree.by_id.get(pid) if pid is not None else None)
            out.append({"step_id": e["step_id"], **tree.describe_head(), "after": "step"})
        elif kind == "rewind":
            to = tree.by_id.get(e["to_step"])
            if to is None:
                continue
            tree.rewind(to)
            out.append({"step_id": to.id, **tree.describe_head(), "after": "rewind"})
    return out
