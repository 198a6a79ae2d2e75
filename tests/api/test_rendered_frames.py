"""Live frames rendered without graphql-core's per-event execution (`fanout`'s rendered frames,
`schema.execution`'s event renderer), on a real server over both protocols: the web UI's list
subscription gets every entry once, in order, in the very bytes Strawberry writes for the same
entries when it replays them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from tests.api import documents
from tests.api.conftest import Server
from websockets.asyncio.client import ClientConnection, connect

from tercel.engine.runtime import pubsub
from tercel.resolvers.live import fanout
from tercel.schema import streams

PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]
RUNS = 3
#: CREATED, RUNNING, SUCCESS of each execution
FRAMES = 3 * RUNS


async def _opened(server: Server, protocol: str) -> ClientConnection:
    url = server.url.replace("http://", "ws://") + "/graphql"
    conn = await connect(url, subprotocols=[protocol])  # type: ignore[list-item]
    await conn.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await conn.recv())["type"] == "connection_ack"
    return conn


async def _subscribe(conn: ClientConnection, protocol: str, op: str, variables: Any) -> None:
    kind = "start" if protocol == "graphql-ws" else "subscribe"
    payload = {"query": documents.ui_list_subscription(), "variables": variables}
    await conn.send(json.dumps({"id": op, "type": kind, "payload": payload}))


async def _payloads(conn: ClientConnection, op: str, count: int) -> list[str]:
    """The raw `payload` text of the operation's next `count` result messages."""
    found: list[str] = []
    while len(found) < count:
        text = str(await asyncio.wait_for(conn.recv(), 20))
        message = json.loads(text)
        if message.get("id") == op:
            assert message["type"] in ("next", "data"), message
            found.append(text[text.index('"payload":') + len('"payload":') : -1])
    return found


async def _until_subscribed(server: Server, count: int) -> None:
    broker = pubsub.broker_of(server.app.state.services.engine)
    for _ in range(1000):
        if broker.subscribers >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the subscription never registered")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_live_list_frames_are_the_bytes_strawberry_writes(api: Server, protocol: str) -> None:
    namespace = f"rendered.{protocol.replace('-', '')}"
    api.deploy(namespace)
    live_filter = {"namespace": namespace, "entities": ["EXECUTION"]}
    frames: fanout.Frames = api.app.state.frames
    broker = pubsub.broker_of(api.app.state.services.engine)

    async def body() -> tuple[list[str], list[str], int]:
        conn, before = await _opened(api, protocol), broker.subscribers
        try:
            await _subscribe(conn, protocol, "live", {"after": "HEAD", "filter": live_filter})
            await _until_subscribed(api, before + 1)
            rendered = frames.rendered
            for _ in range(RUNS):
                await asyncio.to_thread(api.run, namespace)
            live = await _payloads(conn, "live", FRAMES)
            rendered = frames.rendered - rendered
            first = json.loads(live[0])["data"]["stateChanges"]["sequence"]
            after = streams.state_cursor(first - 1)
            await _subscribe(conn, protocol, "replay", {"after": after, "filter": live_filter})
            return live, await _payloads(conn, "replay", FRAMES), rendered
        finally:
            await conn.close()

    live, replayed, rendered = asyncio.run(body())
    assert rendered >= FRAMES - 1  # all but the operation's first, which taught it
    changes = [json.loads(text)["data"]["stateChanges"] for text in live]
    sequences = [change["sequence"] for change in changes]
    assert sequences == sorted(set(sequences))  # in order, each entry once
    assert [c["state"] for c in changes] == ["CREATED", "RUNNING", "SUCCESS"] * RUNS
    for change, live_text, replayed_text in zip(changes, live, replayed, strict=True):
        if change["state"] != "CREATED":
            assert live_text == replayed_text  # byte for byte
            continue
        # live, the CREATED entry carries its row (null when replayed)
        assert change["execution"]["id"] == change["executionId"]
        change["execution"] = None
        assert json.loads(replayed_text) == {"data": {"stateChanges": change}}
