"""A real HTTP server on 127.0.0.1 (a free port, a thread) for the Request task's tests."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

#: set by /slow when its client went away (the kill test waits on it)
SLOW_CLIENT_GONE = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet tests
        return

    def _send(self, code: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Seen", "one")
        self.send_header("X-Seen", "two")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/hello":
            self._send(200, b'{ "hello": "world" }')
        elif self.path == "/hello417":
            self._send(417, b'{ "hello": "world" }')
        elif self.path == "/redirect" or self.path.startswith("/redirect-to/"):
            prefix = "/redirect-to/"
            target = self.path[len(prefix) :] if self.path.startswith(prefix) else "/hello"
            self.send_response(302)
            self.send_header("Location", urllib.parse.unquote(target))
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path.startswith("/big/"):
            self._send(200, b"x" * int(self.path.rsplit("/", 1)[1]), "text/plain")
        elif self.path == "/latin1":
            self._send(200, "café".encode("latin-1"), "text/plain; charset=ISO-8859-1")
        elif self.path == "/slow":
            self._slow()
        else:
            self._echo()

    def _slow(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        try:
            for _ in range(200):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            SLOW_CLIENT_GONE.set()

    def _echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        seen = {
            "method": self.command,
            "path": self.path,
            "contentType": self.headers.get("Content-Type"),
            "authorization": self.headers.get("Authorization"),
            "custom": self.headers.get("X-Custom"),
            "body": body,
        }
        self._send(200, json.dumps(seen).encode())

    def do_HEAD(self) -> None:
        size = self.path.rsplit("/", 1)[1] if self.path.startswith("/big/") else "0"
        self.send_response(200)
        self.send_header("Content-Length", size)
        self.end_headers()

    do_POST = do_PUT = do_DELETE = do_PATCH = _echo


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The base URL of a server answering the paths above, stopped afterwards."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def slow_client_gone() -> threading.Event:
    """Set when a client of /slow went away."""
    SLOW_CLIENT_GONE.clear()
    return SLOW_CLIENT_GONE
