"""One blocking HTTP exchange, run in a thread of its own pool so the engine loop never waits on
the network (the Request task, docs/semantics.md#http-request).

`Exchange.perform` runs in the thread; `Exchange.abort` is called from the loop when the attempt
is killed or times out: it shuts the socket down, which wakes the thread's blocked read at once.
Redirects are followed by hand (at most 10) so that each hop's socket can be aborted too.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

__all__ = ["Exchange", "ExchangeError", "Reply", "Request", "pool"]

MAX_REDIRECTS = 10
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_POOL: ThreadPoolExecutor | None = None
_Connection = http.client.HTTPConnection
_POOL_LOCK = threading.Lock()


def pool() -> ThreadPoolExecutor:
    """The threads HTTP exchanges block in (apart from the default executor, which renders and
    other short jobs use)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=64, thread_name_prefix="tercel-http")
        return _POOL


class ExchangeError(Exception):
    """The exchange could not complete; the message says why, for the task's ERROR log."""


@dataclass(frozen=True)
class Request:
    uri: str
    method: str
    headers: list[tuple[str, str]]
    body: bytes | None
    connect_timeout: float
    read_timeout: float  #: the whole response, from the request sent to the last byte
    max_content_length: int
    follow_redirects: bool = True
    verify_tls: bool = True


@dataclass
class Reply:
    uri: str  #: the URI that answered (after redirects)
    code: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def _redirect_target(uri: str, location: str) -> str:
    """Where a redirect from `uri` leads; ExchangeError unless an http or https URL (a
    `file:` or `ftp:` location would be requested as HTTP on port 80 of its host)."""
    try:
        target = urllib.parse.urljoin(uri, location)
        parts = urllib.parse.urlsplit(target)
        host, _ = parts.hostname, parts.port  # urllib checks them only when read
    except ValueError as error:
        reason = str(error)
    else:
        if parts.scheme in ("http", "https") and host:
            return target
        reason = "not an http or https URL"
    raise ExchangeError(f"the redirect from {uri} to `{location}` cannot be followed: {reason}")


class Exchange:
    def __init__(self, request: Request) -> None:
        self.request = request
        self._connection: http.client.HTTPConnection | None = None
        self._aborted = False
        self._lock = threading.Lock()

    def abort(self) -> None:
        """Stop the exchange from another thread (kill, timeout)."""
        with self._lock:
            self._aborted = True
            connection = self._connection
        sock = connection.sock if connection is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def perform(self) -> Reply:
        """Send the request, follow redirects, read the reply (in a worker thread)."""
        uri, method, body = self.request.uri, self.request.method, self.request.body
        for _ in range(MAX_REDIRECTS + 1):
            reply = self._one(uri, method, body)
            location = dict((k.lower(), v) for k, v in reply.headers).get("location")
            if not (self.request.follow_redirects and reply.code in _REDIRECTS and location):
                return reply
            uri = _redirect_target(uri, location)
            if reply.code == 303 or (reply.code in (301, 302) and method == "POST"):
                method, body = ("GET" if method != "HEAD" else "HEAD"), None
        raise ExchangeError(f"more than {MAX_REDIRECTS} redirects, the last to {uri}")

    def _one(self, uri: str, method: str, body: bytes | None) -> Reply:
        parts = urllib.parse.urlsplit(uri)
        connection = self._connection_for(parts)
        try:
            self._open(connection, parts)
            target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
            connection.putrequest(method, target)
            for name, value in self.request.headers:
                if body is not None or name.lower() != "content-type":
                    connection.putheader(name, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            deadline = time.monotonic() + self.request.read_timeout
            self._set_timeout(connection, deadline)
            response = connection.getresponse()
            payload = self._read(connection, response, deadline)
            return Reply(uri, response.status, response.reason, response.getheaders(), payload)
        except TimeoutError:
            raise ExchangeError(self._timeout_message(uri)) from None
        except (OSError, http.client.HTTPException) as error:
            if self._aborted:
                raise ExchangeError("the request was aborted") from None
            raise ExchangeError(
                f"request to {uri} failed: {error or type(error).__name__}"
            ) from None
        finally:
            connection.close()

    def _connection_for(self, parts: urllib.parse.SplitResult) -> http.client.HTTPConnection:
        timeout = self.request.connect_timeout
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            context = ssl.create_default_context()
            if not self.request.verify_tls:
                context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            connection = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=timeout, context=context
            )
        else:
            connection = http.client.HTTPConnection(
                parts.hostname or "", parts.port, timeout=timeout
            )
        return connection

    def _open(
        self, connection: http.client.HTTPConnection, parts: urllib.parse.SplitResult
    ) -> None:
        with self._lock:
            if self._aborted:
                raise ExchangeError("the request was aborted")
            self._connection = connection
        try:
            connection.connect()
        except TimeoutError:
            took = self.request.connect_timeout
            message = f"connecting to {parts.netloc} took longer than connectTimeout ({took:g} s)"
            raise ExchangeError(message) from None

    def _read(
        self,
        connection: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        deadline: float,
    ) -> bytes:
        cap = self.request.max_content_length
        chunks: list[bytes] = []
        size = 0
        while True:
            self._set_timeout(connection, deadline)
            chunk = response.read1(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > cap:
                raise ExchangeError(
                    f"the response body is larger than maxContentLength ({cap} bytes): "
                    "raise `options.maxContentLength` (at most 10 MiB)"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _set_timeout(self, connection: http.client.HTTPConnection, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        if connection.sock is not None:
            connection.sock.settimeout(remaining)

    def _timeout_message(self, uri: str) -> str:
        took = self.request.read_timeout
        return f"reading the response of {uri} took longer than readTimeout ({took:g} s)"
