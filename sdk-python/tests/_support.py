"""Shared test support: import the SDK from this checkout, find the server, real helper servers."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import unittest
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import List

SDK_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if SDK_ROOT not in sys.path:
    sys.path.insert(0, SDK_ROOT)

RTT_URL = os.environ.get("RTT_URL")
requires_server = unittest.skipUnless(
    RTT_URL, "RTT_URL is not set: start a server (rtt serve) and export RTT_URL to run the server tests"
)

STRUCTURE = {
    "url": "internal://auth",
    "title": "Auth Service",
    "nav_count": 0,
    "main_count": 0,
    "form_count": 0,
    "button_count": 0,
    "dom_nodes": 0,
}


class Front:
    """A real HTTP front that plays a script ("503", "reset", "hang") per request, then forwards to RTT_URL."""

    def __init__(self, script: List[str]):
        self.script = list(script)
        self.requests = 0
        front = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _handle(self):
                behaviour = front.script[front.requests] if front.requests < len(front.script) else "forward"
                front.requests += 1
                if behaviour == "reset":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if behaviour == "hang":
                    front.release.wait(10)
                    self.close_connection = True
                    return
                if behaviour == "503":
                    body = json.dumps({"error": "unavailable", "details": []}).encode()
                    self.send_response(503)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                length = int(self.headers.get("content-length") or 0)
                data = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "authorization")}
                req = urllib.request.Request(RTT_URL.rstrip("/") + self.path, data=data, method=self.command, headers=headers)
                try:
                    with urllib.request.urlopen(req, timeout=10) as res:
                        status, body = res.status, res.read()
                except urllib.error.HTTPError as err:
                    status, body = err.code, err.read()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _handle

        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"
