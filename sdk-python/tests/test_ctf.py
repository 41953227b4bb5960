"""CTF in Python: the writer's encoding, the corridor runtime's Q-metrics and status (q_metrics.md's worked example,
the ladder, rewinds, forks), the example traces reproduced byte for byte, the WebSocket client against a local
RFC 6455 peer, and (with RTT_URL) upload, append and the live socket against the server. The comparison with the
TypeScript runtime on generated scenarios is sdk-python/test/ctf.test.ts."""

import base64
import hashlib
import json
import os
import socket
import struct
import tempfile
import threading
import time
import unittest

import _support
from _support import requires_server
from rtt_sdk import websocket
from rtt_sdk.corridor import Corridor, CorridorError, StepTree, compute_q, round6, tokens
from rtt_sdk.ctf import CTFWriter, MemorySink, TeeSink, dumps, js_number, parse_events, read_events
from rtt_sdk.ctf_client import CTFClient, CTFError, HTTPSink, LiveSink

EXAMPLES = os.path.join(os.path.dirname(_support.SDK_ROOT), "examples", "agent", "traces")
SPEC = {
    "max_steps": 64,
    "max_semantic_drift": 0.35,
    "max_tool_entropy": 2.0,
    "max_latency_drift": 1.0,
    "max_branching_pressure": 8,
    "max_retry_ratio": 0.25,
}


def clock(start=1736280000.0, step=0.5):
    t = [start - step]

    def now():
        t[0] += step
        return round(t[0] * 1000) / 1000

    return now


class EncodingTests(unittest.TestCase):
    def test_numbers_as_javascript_writes_them(self):
        cases = {
            1736280000.0: "1736280000",
            1736280002.551: "1736280002.551",
            412: "412",
            0.1: "0.1",
            -0.0: "0",
            1e-7: "1e-7",
            0.000001: "0.000001",
            1.5e-5: "0.000015",
            1e16: "10000000000000000",
            1e21: "1e+21",
            1.2345e22: "1.2345e+22",
            2**60: "1152921504606847000",
            5e-324: "5e-324",
            0.918296: "0.918296",
        }
        for x, text in cases.items():
            self.assertEqual(js_number(x), text, repr(x))
        for bad in (float("nan"), float("inf"), -float("inf")):
            self.assertRaises(ValueError, js_number, bad)

    def test_dumps_is_json_stringify(self):
        self.assertEqual(dumps({"a": [1, 2.5, None, True], "b": "x"}), '{"a":[1,2.5,null,true],"b":"x"}')
        self.assertEqual(dumps("café \u2028 \x00\x1f\x7f \"\\ \n\t"), '"café \u2028 \\u0000\\u001f\x7f \\"\\\\ \\n\\t"')
        self.assertEqual(dumps("lone \ud800 pair \ud83d\ude00"), '"lone \\ud800 pair \U0001f600"')
        self.assertRaises(TypeError, dumps, {1: 2})
        self.assertRaises(TypeError, dumps, object())

    def test_writer_lines_footer_and_append(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.ctf")
            w = CTFWriter(path, now=lambda: 3.0)
            w.write({"type": "header", "task_id": "t", "timestamp": 1.0, "corridor_spec": SPEC})
            w.write({"type": "status", "step_id": 0, "corridor_status": "warning", "violations": ["retry_ratio"]})
            w.close()
            w.close()  # idempotent
            events = read_events(path)
            self.assertEqual(events[-1], {"type": "footer", "timestamp": 3, "final_status": "warning"})
            self.assertRaises(ValueError, w.write, {"type": "q"})
            with open(path, "a", encoding="utf-8") as f:
                f.write('{"type":"step","step_id"')  # a crash mid-line: dropped on read
            self.assertEqual(len(read_events(path)), 3)
            self.assertRaises(ValueError, parse_events, "{}\nnot json\n{}\n")
            w2 = CTFWriter(path, mode="a")
            self.assertTrue(w2.path.endswith("t.ctf"))
            w2.close("stable")

    def test_seed_writer_interface(self):
        # The seed's CTFWriter: write(event) per line, close(); a corridor closes it without a final status.
        class SeedWriter:
            def __init__(self):
                self.lines = []

            def write(self, event: dict):
                self.lines.append(json.dumps(event))

            def close(self):
                self.closed = True

        w = SeedWriter()
        c = Corridor("seed", SPEC, writer=w, now=clock())
        c.step("search('x y')", "ok", tool="search", latency_ms=1)
        self.assertEqual(c.end(), "stable")
        self.assertTrue(w.closed)
        self.assertEqual([json.loads(x)["type"] for x in w.lines], ["header", "step", "q", "status", "footer"])


class RuntimeTests(unittest.TestCase):
    def test_worked_example_of_q_metrics_md(self):
        c = Corridor("ex", SPEC, task="find quantum turbulence papers", now=clock())
        c.step("search('quantum turbulence')", "", tool="search", latency_ms=100)
        r2 = c.step("search('quantum turbulence')", "", tool="search", latency_ms=300)
        self.assertEqual(r2.q["latency_drift"], 2)
        r3 = c.step("open('paper 1')", "", tool="browser", latency_ms=200)
        self.assertEqual(
            r3.q,
            {
                "semantic_drift": r3.q["semantic_drift"],
                "tool_entropy": 0.918296,
                "latency_drift": 0,
                "branching_pressure": 0,
                "retry_ratio": 0.333333,
            },
        )
        d = Corridor("obs", SPEC, task="quantum turbulence", now=clock())
        self.assertEqual(d.step("search quantum", "turbulence", latency_ms=1).q["semantic_drift"], 0.290703)

    def test_tokens(self):
        self.assertEqual(tokens("The Quantum-turbulence of a x 42 is in ÉTÉ"), ["quantum", "turbulence", "42", "été"])
        self.assertEqual(tokens("𝐀 b"), ["𝐀"])  # two UTF-16 units, as @rtt/ctf counts them

    def test_round6_halves_up_like_math_round(self):
        self.assertEqual(round6(0.0000005), 0.000001)
        self.assertEqual(round6(0.49999999999999994e-6), 0.000001)  # the product is 0.5, as in JavaScript
        self.assertEqual(round6(0.49999999999999994 / 1e6 * (1 - 2**-52)), 0)
        self.assertEqual(round6(2 / 3), 0.666667)

    def test_ladder_rewind_fork_and_halt(self):
        spec = dict(SPEC, max_steps=6, max_latency_drift=0.5, max_retry_ratio=0.2)
        c = Corridor("ladder", spec, task="alpha beta", now=clock())
        self.assertEqual(c.step("alpha", "beta", tool="a", latency_ms=100).corridor_status, "stable")
        r = c.step("alpha", "beta", tool="a", latency_ms=100)  # a retry: retry_ratio 0.5
        self.assertEqual((r.corridor_status, r.violations), ("warning", ["retry_ratio"]))
        r = c.step("alpha", "beta", tool="a", latency_ms=400)  # retry and latency: two at once
        self.assertEqual((r.corridor_status, r.violations), ("critical", ["latency_drift", "retry_ratio"]))
        r = c.rewind(0)
        self.assertEqual((r.step_id, r.q["branching_pressure"], r.corridor_status), (0, 1, "stable"))
        self.assertEqual(c.lineage(), [0])
        self.assertRaises(CorridorError, c.step, "x", "", parent_step_id=2)  # abandoned by the rewind
        r = c.step("gamma", "alpha beta", tool="b", latency_ms=100, parent_step_id=0)
        self.assertEqual((r.step_id, c.lineage()), (3, [0, 3]))
        self.assertRaises(CorridorError, c.rewind, 3)  # not a strict ancestor
        self.assertRaises(CorridorError, c.step, "x", "", latency_ms=-1)
        self.assertRaises(CorridorError, c.step, "x", "", latency_ms=float("nan"))
        c.step("delta", "", latency_ms=100)
        r = c.step("epsilon", "", latency_ms=100)
        self.assertEqual((r.corridor_status, r.violations[-1]), ("halted", "max_steps"))
        self.assertRaises(CorridorError, c.step, "zeta", "", latency_ms=1)
        self.assertEqual(c.live_update(), {"step": 5, "q": c.q_history[-1], "status": "halted"})
        self.assertEqual(c.end(), "halted")
        self.assertRaises(CorridorError, c.rewind, 0)
        events = c.writer.events
        self.assertEqual(events[-1]["final_status"], "halted")
        self.assertEqual(len(c.steps), 6)
        # Computed on read gives what the runtime wrote.
        written = [(e["step_id"], {k: v for k, v in e.items() if k not in ("type", "step_id")}) for e in events if e["type"] == "q"]
        self.assertEqual([(x["step_id"], x["q"]) for x in compute_q(events)], written)

    def test_critical_after_three_consecutive_violations(self):
        spec = dict(SPEC, max_semantic_drift=0.1)
        c = Corridor("streak", spec, task="alpha", now=clock())
        statuses = [c.step(f"unrelated{i}", "", latency_ms=10).corridor_status for i in range(4)]
        self.assertEqual(statuses, ["warning", "warning", "critical", "critical"])

    def test_example_traces_reproduced_byte_for_byte(self):
        for name in ("boiling-point-flaky.ctf", "boiling-point-steady.ctf"):
            path = os.path.join(EXAMPLES, name)
            events = read_events(path)
            stamps = iter([e["timestamp"] for e in events if "timestamp" in e])
            h = events[0]
            c = Corridor(h["task_id"], h["corridor_spec"], task=h.get("task"), now=lambda: next(stamps))
            for e in events[1:]:
                if e["type"] == "step":
                    parent = e["parent_step_id"] if e["parent_step_id"] != c.head_step_id else None
                    c.step(e["action"], e["observation"], e.get("tool"), e["latency_ms"], parent)
                elif e["type"] == "rewind":
                    c.rewind(e["to_step"])
            c.end()
            with open(path, encoding="utf-8") as f:
                self.assertEqual(c.writer.text(), f.read(), name)

    def test_embedder(self):
        class Bag:
            name = "bag-v1"

            def embed(self, text):
                return [text.count("a"), text.count("b"), 1.0]

        c = Corridor("emb", SPEC, task="aaa", embedder=Bag(), now=clock())
        self.assertEqual(c.writer.events[0]["embedder"], "bag-v1")
        self.assertGreater(c.step("bbb", "", latency_ms=1).q["semantic_drift"], 0)
        self.assertRaises(ValueError, compute_q, c.writer.events)
        self.assertEqual(len(compute_q(c.writer.events, embedder=Bag())), 1)


def _accept(key):
    return base64.b64encode(hashlib.sha1((key + websocket.GUID).encode()).digest()).decode()


class Peer:
    """A scripted RFC 6455 server on 127.0.0.1: answers the handshake (or refuses it), then runs `script(conn)`."""

    def __init__(self, script, refuse=None):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.request = b""
        self.received = []
        self.error = None
        self.thread = threading.Thread(target=self._run, args=(script, refuse), daemon=True)
        self.thread.start()

    def _run(self, script, refuse):
        conn, _ = self.sock.accept()
        try:
            while b"\r\n\r\n" not in self.request:
                self.request += conn.recv(4096)
            if refuse:
                body = b'{"error":"no"}'
                conn.sendall(b"HTTP/1.1 %d Refused\r\nContent-Length: %d\r\n\r\n%s" % (refuse, len(body), body))
                return
            key = [ln.split(b":", 1)[1].strip().decode() for ln in self.request.split(b"\r\n") if ln.lower().startswith(b"sec-websocket-key")][0]
            conn.sendall(
                f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {_accept(key)}\r\n\r\n".encode()
            )
            script(self, conn)
        except Exception as err:  # surfaced by the test
            self.error = err
        finally:
            conn.close()
            self.sock.close()

    def read_frame(self, conn):
        def need(n):
            b = b""
            while len(b) < n:
                c = conn.recv(n - len(b))
                if not c:
                    raise EOFError
                b += c
            return b

        b0, b1 = need(2)
        assert b1 & 0x80, "client frames are masked"
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", need(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", need(8))
        key = need(4)
        data = bytes(c ^ key[i % 4] for i, c in enumerate(need(n)))
        self.received.append((b0 & 0x0F, data))
        return b0 & 0x0F, data

    @staticmethod
    def frame(opcode, payload, fin=True):
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | opcode])
        head += bytes([n]) if n < 126 else bytes([126]) + struct.pack("!H", n) if n < 65536 else bytes([127]) + struct.pack("!Q", n)
        return head + payload


class WebSocketTests(unittest.TestCase):
    def test_handshake_frames_ping_fragments_and_close(self):
        big = "é" * 40000  # a 16-bit length; 80,000 bytes

        def script(peer, conn):
            op, data = peer.read_frame(conn)  # text
            conn.sendall(Peer.frame(1, data))  # echo
            op, data = peer.read_frame(conn)  # the big one (16-bit or 64-bit length)
            conn.sendall(Peer.frame(1, data))
            conn.sendall(Peer.frame(9, b"hi"))  # ping: expects a pong
            conn.sendall(Peer.frame(1, "frag".encode(), fin=False) + Peer.frame(0, "mented ✓".encode()))
            conn.sendall(Peer.frame(2, b"\x00\x01"))
            op, data = peer.read_frame(conn)
            assert (op, data) == (10, b"hi"), (op, data)
            op, data = peer.read_frame(conn)  # close
            conn.sendall(Peer.frame(8, data[:2]))

        peer = Peer(script)
        ws = websocket.create_connection(f"ws://127.0.0.1:{peer.port}/ctf/x/live?from=end", timeout=5, header=["Authorization: Bearer abc"])
        ws.send('{"type":"header"}')
        self.assertEqual(ws.recv(), '{"type":"header"}')
        ws.send(big)
        self.assertEqual(ws.recv(), big)
        self.assertEqual(ws.recv(), "fragmented ✓")
        self.assertEqual(ws.recv(), b"\x00\x01")
        ws.close()
        peer.thread.join(5)
        self.assertIsNone(peer.error)
        req = peer.request.decode()
        self.assertIn("GET /ctf/x/live?from=end HTTP/1.1\r\n", req)
        self.assertIn(f"Host: 127.0.0.1:{peer.port}\r\n", req)
        self.assertIn("Authorization: Bearer abc\r\n", req)
        self.assertEqual(peer.received[-1][0], 8)
        self.assertEqual(struct.unpack("!H", peer.received[-1][1][:2])[0], 1000)

    def test_server_close_and_timeout(self):
        def script(peer, conn):
            peer.read_frame(conn)
            conn.sendall(Peer.frame(8, struct.pack("!H", 1008) + b"invalid trace id"))
            peer.read_frame(conn)  # the echoed close

        peer = Peer(script)
        ws = websocket.create_connection(f"ws://127.0.0.1:{peer.port}/", timeout=0.3)
        self.assertRaises(websocket.WebSocketTimeoutException, ws.recv)  # nothing yet; still usable
        ws.send("x")
        with self.assertRaises(websocket.WebSocketClosed) as cm:
            ws.recv()
        self.assertEqual((cm.exception.code, cm.exception.reason), (1008, "invalid trace id"))
        self.assertRaises(websocket.WebSocketClosed, ws.send, "after close")
        peer.thread.join(5)
        self.assertIsNone(peer.error)

    def test_refused_handshake(self):
        peer = Peer(None, refuse=401)
        with self.assertRaises(websocket.HandshakeError) as cm:
            websocket.create_connection(f"ws://127.0.0.1:{peer.port}/", timeout=5)
        self.assertEqual((cm.exception.status, cm.exception.body), (401, b'{"error":"no"}'))

    def test_masked_frame_encoding(self):
        f = websocket.encode_frame(1, b"Hello", mask_key=b"\x37\xfa\x21\x3d")
        self.assertEqual(f, bytes.fromhex("818537fa213d7f9f4d5158"))  # RFC 6455 §5.7


READ_TOKEN = os.environ.get("RTT_READ_TOKEN")
RUN = f"{os.getpid()}-{int(time.time() * 1000) % 10**8}"  # trace ids unique to this run: the server keeps traces


@requires_server
class ServerTests(unittest.TestCase):
    def corridor(self, writer, task_id):
        c = Corridor(task_id, SPEC, writer=writer, task="find quantum turbulence papers", now=clock())
        c.step("search('quantum turbulence')", "3 papers on quantum turbulence", tool="search", latency_ms=100)
        c.step("search('quantum turbulence')", "3 papers", tool="search", latency_ms=300)
        c.step("open('paper 1')", "superfluid helium vortices", tool="browser", latency_ms=200.25)
        c.rewind(1)
        c.step("open('paper 2')", "quantum turbulence in Bose–Einstein condensates", tool="browser", latency_ms=0)
        c.end()
        return c

    def test_upload_append_and_read_back(self):
        client = CTFClient()
        mem = MemorySink()
        self.corridor(mem, "py-upload")
        r = client.upload(mem.text(), trace_id=f"py-upload-1-{RUN}")
        self.assertEqual((r["id"], r["created"], r["steps"], r["warnings"]), (f"py-upload-1-{RUN}", True, 4, []))
        self.assertEqual(client.upload(mem.events, trace_id=f"py-upload-1-{RUN}"), {"id": f"py-upload-1-{RUN}", "created": False})
        self.assertEqual(client.raw(f"py-upload-1-{RUN}"), mem.text())
        view = client.corridor(f"py-upload-1-{RUN}")
        self.assertEqual((view["q_computed"], view["lineage"]), (0, [0, 1, 3]))
        with self.assertRaises(CTFError) as cm:
            client.upload(mem.text().replace('"max_steps":64', '"max_steps":"64"'), trace_id=f"py-upload-bad-{RUN}")
        self.assertEqual((cm.exception.status, cm.exception.code), (400, "RTT_ERR_INVALID_INPUT"))
        self.assertTrue(cm.exception.issues)
        # Appends, in batches (HTTPSink), and a refused line.
        sink = HTTPSink(client, f"py-append-1-{RUN}", batch=3)
        self.corridor(sink, "py-append")
        self.assertEqual(client.raw(f"py-append-1-{RUN}"), mem.text().replace('"task_id":"py-upload"', '"task_id":"py-append"'))
        with self.assertRaises(CTFError) as cm:
            client.append(f"py-append-2-{RUN}", [mem.events[0], mem.events[1], dict(mem.events[1], step_id=-1)])
        e = cm.exception
        self.assertEqual((e.status, e.accepted, e.complete, e.body_line), (400, 2, False, 3))
        self.assertEqual(e.issues[0]["field"], "/step_id")

    def test_live_producer_events_and_updates(self):
        client = CTFClient()
        for updates, sync in ((False, True), (True, True), (True, False)):
            tid = f"py-live-{int(updates)}{int(sync)}-{RUN}"
            mem = MemorySink()
            stream = client.live(tid)
            self.corridor(TeeSink(mem, LiveSink(stream, updates=updates, sync=sync)), tid)
            self.assertFalse(stream.ws.connected)
            self.assertEqual(client.raw(tid), mem.text(), tid)  # what the server stored is byte for byte ours
            kinds = [f["event"]["type"] for f in stream.events]
            self.assertEqual(kinds, [e["type"] for e in mem.events])
            # Each live frame pairs step N with step N's own q (issue 18, 7).
            for f in stream.events:
                if f["event"]["type"] == "q":
                    self.assertEqual(f["step"], f["event"]["step_id"])
                    self.assertEqual(f["q"], {k: v for k, v in f["event"].items() if k not in ("type", "step_id")})
        # A viewer replays from the start.
        with client.live(f"py-live-11-{RUN}", from_="start") as viewer:
            self.assertEqual(len(list(viewer.watch())), len(mem.events))

    def test_live_errors(self):
        client = CTFClient()
        with client.live(f"py-live-err-{RUN}") as live:
            with self.assertRaises(CTFError) as cm:
                live.emit({"type": "step", "step_id": 0})
            self.assertEqual((cm.exception.code, cm.exception.msg), ("RTT_ERR_INVALID_INPUT", 1))
            self.assertTrue(cm.exception.issues)
            live.send("")  # an empty frame
            with self.assertRaises(CTFError) as cm:
                live.flush()
            self.assertEqual(cm.exception.code, "RTT_ERR_INVALID_BODY")
            ack = live.emit({"type": "header", "task_id": "e", "timestamp": 1, "corridor_spec": SPEC})
            self.assertEqual((ack["type"], ack["msg"], ack["accepted"], ack["next_seq"]), ("ack", 3, 1, 1))
            with self.assertRaises(CTFError) as cm:
                live.update({"step": 7, "q": None, "status": "stable"})  # no step 7
            self.assertEqual(cm.exception.code, "RTT_ERR_INVALID_INPUT")
        if client.token:
            with self.assertRaises(websocket.HandshakeError) as hs:
                CTFClient(token="not-the-token-0123456789").live(f"py-live-err-{RUN}")
            self.assertEqual(hs.exception.status, 401)
        if READ_TOKEN:
            with CTFClient(token=READ_TOKEN).live(f"py-live-err-{RUN}") as ro:
                with self.assertRaises(CTFError) as cm:
                    ro.emit({"type": "footer", "timestamp": 2, "final_status": "stable"})
                self.assertEqual(cm.exception.code, "RTT_ERR_FORBIDDEN")


if __name__ == "__main__":
    unittest.main()
