"""A lean websocket client for the delivery benchmark: many connections, one process.

A thousand dashboards run on a thousand machines; the benchmark holds all their connections in
one process on the same two cores as the server. With a full client library (frame assembly,
one reader task and several buffers per connection), that process takes as much CPU per message
as the server's whole fan-out and the figure measures the client. This client is an asyncio
`Protocol` per connection: it writes the upgrade request, reads unmasked server frames straight
from the socket buffer (RFC 6455, section 5.2), stamps every frame of one read with the time of that
read, and answers pings. It speaks only what the benchmark needs: text frames without
extensions (it offers none, so the server uses none) and the close handshake.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import time
from collections.abc import Callable
from urllib.parse import urlsplit

__all__ = ["LeanWebSocket", "connect"]

OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA


def _frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (clients must mask, RFC 6455 section 5.3)."""
    head = bytearray([0x80 | opcode])
    size = len(payload)
    if size < 126:
        head.append(0x80 | size)
    elif size < 1 << 16:
        head += struct.pack("!BH", 0x80 | 126, size)
    else:
        head += struct.pack("!BQ", 0x80 | 127, size)
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))  # small messages only
    return bytes(head) + mask + masked


class LeanWebSocket(asyncio.Protocol):
    """One connection: `on_message(received_at, text_bytes)` for every text frame."""

    def __init__(self, request: bytes, on_message: Callable[[float, bytes], None]) -> None:
        self.request, self.on_message = request, on_message
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    # ------------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        if not self.upgraded.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[:end]).split(b"\r\n", 1)[0]
            del self.buffer[: end + 4]
            if b" 101 " not in status + b" ":
                self.upgraded.set_exception(RuntimeError(f"no upgrade: {status!r}"))
                return
            self.upgraded.set_result(None)
        self._frames(now)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError("closed before the upgrade"))
        if not self.closed.done():
            self.closed.set_result(None)

    # ------------------------------------------------------------------ frames

    def _frames(self, now: float) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            opcode, size, start = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if size == 126:
                if len(buffer) < 4:
                    return
                size, start = struct.unpack_from("!H", buffer, 2)[0], 4
            elif size == 127:
                if len(buffer) < 10:
                    return
                size, start = struct.unpack_from("!Q", buffer, 2)[0], 10
            if len(buffer) < start + size:
                return
            payload = bytes(buffer[start : start + size])
            del buffer[: start + size]
            if opcode == OP_TEXT:
                self.on_message(now, payload)
            elif opcode == OP_PING:
                self._write(OP_PONG, payload)
            elif opcode == OP_CLOSE:
                self._write(OP_CLOSE, payload[:2])
                assert self.transport is not None
                self.transport.close()
                return
            else:
                raise RuntimeError(f"unexpected frame opcode {opcode} (binary or fragmented)")

    def _write(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_frame(opcode, payload))

    def send_text(self, text: str) -> None:
        self._write(OP_TEXT, text.encode())

    async def close(self) -> None:
        self._write(OP_CLOSE, struct.pack("!H", 1000))
        try:
            await asyncio.wait_for(asyncio.shield(self.closed), 5)
        except TimeoutError:
            if self.transport is not None:
                self.transport.close()


async def connect(
    url: str, subprotocol: str, on_message: Callable[[float, bytes], None]
) -> LeanWebSocket:
    """Open `url` (ws://host:port/path) and wait for the upgrade."""
    parts = urlsplit(url)
    if parts.hostname is None or parts.port is None:
        raise ValueError(f"expected ws://host:port/path, got {url}")
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: {subprotocol}\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(
        lambda: LeanWebSocket(request, on_message), parts.hostname, parts.port
    )
    await protocol.upgraded
    return protocol
