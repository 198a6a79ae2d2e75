"""The fuzz's client: every request it sends to the server is checked on the way back.

Checks (a failed one raises `Broken` naming a symptom, which the runner records as a finding):
no 5xx; every GraphQL error carries an `extensions.code` other than INTERNAL_SERVER_ERROR; no
answer slower than `slow` seconds (a stalled event loop); no request left unanswered for
`hang` seconds; over websockets, every operation gets an answer (or a protocol close code)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from tests.crash.server import TercelServer
from tests.hostile.fuzz_values import shorten, to_json
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import ClientConnection, connect


class Broken(AssertionError):
    """A broken promise: `symptom` groups findings, `detail` says what came back."""

    def __init__(self, symptom: str, detail: str) -> None:
        super().__init__(f"{symptom}: {detail}")
        self.symptom, self.detail = symptom, detail


@dataclass(frozen=True)
class Bounds:
    slow: float = 3.0  # seconds an answer may take before it counts as a stalled loop
    hang: float = 10.0  # seconds before a request counts as unanswered
    settle: float = 10.0  # seconds for a fuzz execution to reach a terminal or PAUSED state


#: what a websocket close code may be after a hostile frame (protocol errors, not crashes)
PROTOCOL_CLOSES = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 4400, 4401, 4403, 4429})


@dataclass
class Client:
    server: TercelServer
    bounds: Bounds
    #: the last request sent, shortened: a finding's reproducer
    last: str = ""
    #: the slowest answer so far (seconds) and its request: the summary shows it
    slowest: tuple[float, str] = (0.0, "")
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(timeout=self.bounds.hang)

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------------ HTTP

    def request(
        self,
        method: str,
        path: str,
        content: bytes = b"",
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        began = time.monotonic()
        wait = timeout or self.bounds.hang
        try:
            response = self.http.request(
                method, self.server.url + path, content=content, headers=headers, timeout=wait
            )
        except httpx.TimeoutException:
            raise Broken("hang", f"no answer within {wait}s") from None
        except httpx.TransportError as exc:
            raise Broken("connection lost", repr(exc)) from None
        took = time.monotonic() - began
        self.slowest = max(self.slowest, (took, self.last))
        if response.status_code >= 500:
            self.http.close()  # uvicorn closes the connection after a 500: start a fresh pool
            self.http = httpx.Client(timeout=self.bounds.hang)
        if took > self.bounds.slow:  # a stalled loop first: it is the worse of the two
            raise Broken("slow answer", f"{path} took {took:.1f}s ({response.status_code})")
        if response.status_code >= 500:
            raise Broken(f"HTTP {response.status_code}", response.text[:300])
        return response

    def gql(
        self,
        query: str,
        variables: Any = None,
        *,
        ascii_only: bool = True,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """POST a GraphQL request; the parsed body (its errors checked). `variables` may hold
        `Raw` parts; `ascii_only=False` writes strings unescaped, a lone surrogate as the invalid
        UTF-8 bytes of its code point."""
        written = to_json(variables, ascii_only=ascii_only)
        body = '{"query":' + json.dumps(query) + ',"variables":' + written + "}"
        self.last = f"{' '.join(query.split())[:200]}  variables={shorten(variables, 300)}"
        encoded = body.encode("utf-8", "surrogatepass")
        response = self.request("POST", "/graphql", encoded, {"content-type": "application/json"})
        if response.status_code != 200:
            return {"status": response.status_code}
        found: dict[str, Any] = response.json()
        check_errors(found.get("errors"))
        return found

    def health(self) -> None:
        self.last = "GET /health"
        status = self.request("GET", "/health").status_code
        if status != 200:
            raise Broken("health not ok", f"/health answered {status}")

    # ------------------------------------------------------------------ websockets

    def ws_exchange(
        self, protocol: str, frames: list[str | bytes], op_id: str | None, silence_ok: bool
    ) -> str:
        """Send `frames` after the protocol's `connection_init`, then wait for the first message
        about `op_id` (None: for the server to close). Returns what ended the wait."""
        self.last = f"ws {protocol}: " + " | ".join(shorten(f, 200) for f in frames)
        url = self.server.url.replace("http://", "ws://") + "/graphql"
        try:
            with connect(
                url,
                subprotocols=[protocol],  # type: ignore[list-item]
                open_timeout=self.bounds.slow,
                close_timeout=1,
                max_size=None,
            ) as ws:
                ws.send(json.dumps({"type": "connection_init"}))
                ack = json.loads(ws.recv(timeout=self.bounds.slow))
                if ack.get("type") != "connection_ack":
                    raise Broken("websocket init refused", str(ack)[:200])
                for frame in frames:
                    ws.send(frame)
                # an open stream may rightly say nothing: a short look for an early error
                return _answer(ws, op_id, silence_ok, 0.3 if silence_ok else self.bounds.slow)
        except ConnectionClosed as closed:
            return _closed(closed)
        except InvalidHandshake as refused:  # the fuzz's handshakes are all well-formed
            raise Broken("websocket handshake refused", repr(refused)[:300]) from None
        except ValueError as exc:  # a message that is not JSON
            raise Broken("websocket bad message", repr(exc)[:300]) from None
        except TimeoutError:
            raise Broken("websocket no answer", f"nothing within {self.bounds.slow}s") from None
        except OSError as exc:
            raise Broken("connection lost", repr(exc)) from None


def check_errors(errors: Any) -> None:
    for error in errors or []:
        code = (error.get("extensions") or {}).get("code")
        if code is None:
            raise Broken("error without code", str(error)[:300])
        if code == "INTERNAL_SERVER_ERROR":
            raise Broken("INTERNAL_SERVER_ERROR", f"{error.get('message')} {error['extensions']}")


def _answer(ws: ClientConnection, op_id: str | None, silence_ok: bool, wait: float) -> str:
    deadline = time.monotonic() + wait
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            if silence_ok:
                return "open stream"
            raise Broken("websocket no answer", f"no message for `{op_id}` within {wait}s")
        try:
            message = json.loads(ws.recv(timeout=left))
        except TimeoutError:
            continue
        if not isinstance(message, dict):
            raise Broken("websocket bad message", str(message)[:200])
        if message.get("type") in ("error", "connection_error"):
            payload = message.get("payload")
            errors = payload if isinstance(payload, list) else [payload]
            check_errors([e for e in errors if isinstance(e, dict) and "message" in e])
        if message.get("type") == "ka":
            continue
        if op_id is None or message.get("id") == op_id or message.get("id") is None:
            return str(message.get("type"))


def _closed(closed: ConnectionClosed) -> str:
    received = closed.rcvd
    if received is None:
        raise Broken("websocket dropped", "closed without a close frame")
    if received.code not in PROTOCOL_CLOSES:
        raise Broken(f"websocket close {received.code}", received.reason[:200])
    return f"closed {received.code}"
