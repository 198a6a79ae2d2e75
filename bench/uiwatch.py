"""A second subscriber of the open list's stream, in its own process (`python -m bench.uiwatch
URL NAMESPACE OUT`): one lean websocket (bench.wsclient) with the list's `stateChanges`
subscription (same filter, same fields, so the server sends it the list's frames), stamping
each frame's arrival (epoch ms). It splits bench/uiparts.py's `delivered` in two: the server
(commit, fan-out, encoding, the socket) up to a reader that does nothing else, and the browser
(chromium's network process, then the page's main thread) after it. Prints READY once
subscribed; writes OUT (a JSON list of [execution id, state, epoch ms]) on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson

from bench import wsclient

#: (execution id, state) -> when the watcher got the frame naming it (epoch ms)
Watched = dict[tuple[str, str], float]

#: the list's own subscription's fields (ui/src/lib/documents.ts ListChangesSubscription and its
#: ExecutionRow fragment): frames of the same size (not of its fan-out group: another text)
SUBSCRIBE = """subscription($f: StateChangeFilter) {
  stateChanges(after: "HEAD", filter: $f) {
    cursor sequence executionId state date execution {
      id namespace flowId labels { key value } parentId originalId
      metadata { attemptNumber } state { current startDate endDate }
    }
  }
}"""


async def watch(url: str, namespace: str, out: str) -> None:
    stamps: list[tuple[str, str, float]] = []
    acked = asyncio.get_running_loop().create_future()

    def on_message(now: float, raw: bytes) -> None:
        found = orjson.loads(raw)
        if found.get("type") == "connection_ack" and not acked.done():
            acked.set_result(None)
        elif found.get("type") == "next" and found["payload"].get("data"):
            change = found["payload"]["data"]["stateChanges"]
            stamps.append((change["executionId"], change["state"], now * 1000))
        elif found.get("type") in ("next", "error"):  # failed: its part stays empty (inf), say why
            print(f"bench.uiwatch: {found}", file=sys.stderr, flush=True)

    ws_url = url.replace("http://", "ws://") + "/graphql"
    ws = await wsclient.connect(ws_url, "graphql-transport-ws", on_message)
    ws.send_text(orjson.dumps({"type": "connection_init", "payload": {}}).decode())
    await asyncio.wait_for(acked, 10)
    flt = {"namespace": namespace, "entities": ["EXECUTION"]}
    payload = {"query": SUBSCRIBE, "variables": {"f": flt}}
    ws.send_text(orjson.dumps({"id": "1", "type": "subscribe", "payload": payload}).decode())
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    print("READY", flush=True)
    await stop
    with open(out, "w", encoding="utf-8") as file:
        json.dump(stamps, file)
    await ws.close()


@contextmanager
def watching(url: str, namespace: str) -> Iterator[Watched]:
    """The watcher running while the block runs; the yielded dict is filled when it ends."""
    found: Watched = {}
    with tempfile.TemporaryDirectory(prefix="tercel-uiwatch-") as scratch:
        out = os.path.join(scratch, "frames.json")
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.uiwatch", url, namespace, out],
            stdout=subprocess.PIPE,
            cwd=Path(__file__).parent.parent,
        )
        try:
            assert process.stdout is not None
            if process.stdout.readline().strip() != b"READY":
                raise RuntimeError("the watcher did not subscribe")
            yield found
        finally:
            process.terminate()
            process.wait(30)
        if os.path.exists(out):
            with open(out, encoding="utf-8") as file:
                for execution_id, state, at in json.load(file):
                    found.setdefault((execution_id, state), at)


if __name__ == "__main__":
    asyncio.run(watch(*sys.argv[1:4]))
