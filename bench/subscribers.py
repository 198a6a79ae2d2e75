"""The client process of the delivery benchmark (`python -m bench.subscribers URL N RUNS OUT`):
N websocket connections, each with one `stateChanges` subscription; prints READY once all are
subscribed, then records every event's receive time until each connection has seen RUNS
terminal executions, and writes the latencies to OUT (see `bench.subscriptions`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from datetime import datetime
from typing import Any

import orjson

from bench import wsclient
from bench.subscriptions import (
    HANDSHAKES,
    RUN_TIMEOUT,
    SETTLE_SECONDS,
    SUBSCRIBE,
    TERMINAL,
    raise_nofile,
)


async def _lean_subscriber(
    url: str,
    runs: int,
    gate: asyncio.Semaphore,
    subscribed: list[int],
    received: list[tuple[float, str, str]],
) -> None:
    """One dashboard on a lean connection (bench.wsclient)."""
    ended = asyncio.get_running_loop().create_future()
    state = {"ended": 0, "acked": False}

    def on_message(now: float, raw: bytes) -> None:
        found = orjson.loads(raw)
        kind = found.get("type")
        if kind == "connection_ack":
            state["acked"] = True
            return
        if kind != "next":
            if not ended.done():
                ended.set_exception(RuntimeError(f"unexpected message: {found}"))
            return
        change = found["payload"]["data"]["stateChanges"]
        received.append((now, change["date"], change["executionId"]))
        if change["entity"] == "EXECUTION" and change["state"] in TERMINAL:
            state["ended"] += 1
            if state["ended"] == runs and not ended.done():
                ended.set_result(None)

    async with gate:
        ws = await wsclient.connect(url, "graphql-transport-ws", on_message)
        ws.send_text(orjson.dumps({"type": "connection_init", "payload": {}}).decode())
        message = {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}
        ws.send_text(orjson.dumps(message).decode())
        subscribed[0] += 1
    try:
        await ended
        if not state["acked"]:
            raise RuntimeError("no connection_ack")
    finally:
        await ws.close()


async def _library_subscriber(
    url: str,
    runs: int,
    gate: asyncio.Semaphore,
    subscribed: list[int],
    received: list[tuple[float, str, str]],
) -> None:
    """One dashboard through the `websockets` library, offering permessage-deflate as browsers
    do (`TERCEL_BENCH_DEFLATE=0`: no offer)."""
    from websockets.asyncio.client import connect

    async with gate:
        ws = await connect(
            url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            max_size=None,
            compression=None if os.environ.get("TERCEL_BENCH_DEFLATE") == "0" else "deflate",
        )
        await ws.send(orjson.dumps({"type": "connection_init", "payload": {}}).decode())
        ack = orjson.loads(await ws.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        message = {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}
        await ws.send(orjson.dumps(message).decode())
        subscribed[0] += 1
    ended = 0
    try:
        async for raw in ws:
            now = time.time()
            found = orjson.loads(raw)
            if found.get("type") != "next":
                raise RuntimeError(f"unexpected message: {found}")
            change = found["payload"]["data"]["stateChanges"]
            received.append((now, change["date"], change["executionId"]))
            if change["entity"] == "EXECUTION" and change["state"] in TERMINAL:
                ended += 1
                if ended == runs:
                    return
    finally:
        await ws.close()


async def _client(url: str, count: int, runs: int) -> dict[str, Any]:
    ws_url = url.replace("http://", "ws://") + "/graphql"
    gate = asyncio.Semaphore(HANDSHAKES)
    subscribed, received = [0], []  # type: ignore[var-annotated]
    # TERCEL_BENCH_CLIENT=websockets: the `websockets` library instead of the lean client
    library = os.environ.get("TERCEL_BENCH_CLIENT") == "websockets"
    subscriber = _library_subscriber if library else _lean_subscriber
    tasks = [
        asyncio.create_task(subscriber(ws_url, runs, gate, subscribed, received))
        for _ in range(count)
    ]
    while subscribed[0] < count:
        failed = [t for t in tasks if t.done() and t.exception() is not None]
        if failed:
            raise RuntimeError(f"a subscriber failed: {failed[0].exception()!r}")
        await asyncio.sleep(0.05)
    await asyncio.sleep(SETTLE_SECONDS)
    print("READY", flush=True)
    done, pending = await asyncio.wait(tasks, timeout=RUN_TIMEOUT * runs)
    for task in pending:
        task.cancel()
    errors = [repr(t.exception()) for t in done if t.exception() is not None]
    latencies: dict[str, list[float]] = {}
    for now, date, execution_id in received:
        sent = datetime.fromisoformat(date.replace("Z", "+00:00")).timestamp()
        latencies.setdefault(execution_id, []).append((now - sent) * 1000.0)
    return {"complete": len(done) - len(errors), "errors": errors[:3], "latencies": latencies}


def client_main(url: str, count: int, runs: int, out_path: str) -> None:
    raise_nofile()
    try:
        import uvloop

        result = uvloop.run(_client(url, count, runs))
    except ImportError:  # pragma: no cover
        result = asyncio.run(_client(url, count, runs))
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(result, out)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        client_main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
