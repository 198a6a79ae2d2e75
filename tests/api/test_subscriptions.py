"""Subscriptions over real websockets, on both protocols (semantics.md#subscriptions; limits
and tokens: semantics.md#api-limits).

A real uvicorn server on 127.0.0.1 and real `websockets` clients. Flows use short Sleep tasks so
that streams are live (not only replayed) while the tests subscribe.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from tests.api.conftest import TERMINAL, Server, start_server
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tercel.engine.runtime import pubsub
from tercel.resolvers.live import fanout, loop
from tercel.settings import Limits, Settings
from tercel.storage.read import snapshots
from tercel.storage.read import streams as stream_rows

PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]
TIMEOUT = 20.0

LIVE = """\
id: live
namespace: {namespace}
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hello
  - id: nap1
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.05S
  - id: both
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: nap2
        type: io.kestra.plugin.core.flow.Sleep
        duration: PT0.05S
      - id: nap3
        type: io.kestra.plugin.core.flow.Sleep
        duration: PT0.05S
  - id: middle
    type: io.kestra.plugin.core.log.Log
    message: [one, two]
  - id: nap4
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.05S
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: done
  - id: bye
    type: io.kestra.plugin.core.log.Log
    level: WARN
    message: bye
"""

RETRIED = """\
id: retried
namespace: {namespace}
retry:
  type: constant
  interval: PT0.05S
  maxAttempt: 3
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.05S
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
"""

CHANGES = """subscription($id: ID, $after: String, $f: StateChangeFilter) {
  stateChanges(executionId: $id, after: $after, filter: $f) {
    cursor sequence entity executionId taskRunId attemptNumber state previous date taskId value
  } }"""

UPDATES = """subscription($id: ID!, $after: String) {
  executionUpdated(id: $id, after: $after) {
    cursor execution { id state { current histories { state date } }
      outputs taskRunList { id taskId state { current } attempts { state { current } } } } } }"""

LOGS = """subscription($id: ID!, $after: String, $min: LogLevel) {
  logs(executionId: $id, after: $after, minLevel: $min) {
    cursor sequence executionId taskRunId taskId attemptNumber level message timestamp } }"""

EXECUTION = """query($id: ID!) { execution(id: $id) {
  id state { current histories { state date } } outputs
  taskRunList { id taskId state { current histories { state date } }
                attempts { state { current histories { state date } } } } } }"""

POLL = """query($id: ID, $after: String) {
  stateChanges(executionId: $id, after: $after, first: 100) {
  edges { node { cursor sequence entity executionId taskRunId attemptNumber state previous date
                 taskId value } } pageInfo { hasNextPage endCursor } } }"""

POLL_LOGS = """query($id: ID!) { logs(executionId: $id, first: 100) {
  edges { node { cursor sequence executionId taskRunId taskId attemptNumber level message
                 timestamp } } } }"""


# ------------------------------------------------------------------------------------ client


@dataclass
class Outcome:
    """What one operation produced: its payloads and how it ended."""

    payloads: list[dict[str, Any]] = field(default_factory=list)
    end: str = ""  #: complete, error, closed <code>
    error: Any = None

    def data(self, name: str) -> list[dict[str, Any]]:
        assert all("errors" not in p for p in self.payloads), self.payloads
        return [p["data"][name] for p in self.payloads]


class Ws:
    """A websocket GraphQL client for either protocol; one reader dispatches by operation id."""

    def __init__(self, conn: ClientConnection, protocol: str) -> None:
        self.conn, self.protocol = conn, protocol
        self.legacy = protocol == "graphql-ws"
        self.queues: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self.closed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.reader: asyncio.Task[None] | None = None
        #: frames that came as binary (the protocols' messages are text: browsers parse strings)
        self.binary = 0

    async def send(self, message: dict[str, Any]) -> None:
        await self.conn.send(json.dumps(message))

    async def recv_raw(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        while True:
            found: dict[str, Any] = json.loads(await asyncio.wait_for(self.conn.recv(), timeout))
            if found.get("type") not in ("ka", "ping", "pong"):
                return found

    async def init(self, payload: dict[str, Any] | None = None) -> str:
        """Send `connection_init`; answer the reply type or `closed <code>`."""
        await self.send({"type": "connection_init", "payload": payload or {}})
        try:
            answer = await self.recv_raw(5)
            if answer["type"] == "connection_ack":
                self.reader = asyncio.create_task(self._read())
                return "connection_ack"
            await self.recv_raw(5)  # a refusal is followed by the close
            return str(answer["type"])
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
            return f"{answer['type']} closed {code}" if "answer" in locals() else f"closed {code}"

    async def _read(self) -> None:
        try:
            async for raw in self.conn:
                self.binary += isinstance(raw, bytes)
                message = json.loads(raw)
                op = message.get("id")
                if op is not None:
                    self.queues.setdefault(op, asyncio.Queue()).put_nowait(message)
        except ConnectionClosed:
            pass
        finally:
            code = self.conn.close_code
            if not self.closed.done():
                self.closed.set_result(f"closed {code}")
            for queue in self.queues.values():  # wake every waiting operation
                queue.put_nowait({"type": f"closed {code}"})

    async def start(self, op: str, query: str, variables: dict[str, Any] | None = None) -> None:
        self.queues.setdefault(op, asyncio.Queue())
        kind = "start" if self.legacy else "subscribe"
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": op, "type": kind, "payload": payload})

    async def stop(self, op: str) -> None:
        await self.send({"id": op, "type": "stop" if self.legacy else "complete"})

    async def next(self, op: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        queue = self.queues.setdefault(op, asyncio.Queue())
        if queue.empty() and self.closed.done():
            return {"type": self.closed.result()}
        try:
            return await asyncio.wait_for(queue.get(), timeout)
        except TimeoutError:
            raise TimeoutError(f"operation {op}: nothing within {timeout}s") from None

    async def collect(self, op: str, limit: int | None = None, timeout: float = TIMEOUT) -> Outcome:
        """Payloads until the operation ends (or `limit` payloads arrived)."""
        outcome = Outcome()
        while limit is None or len(outcome.payloads) < limit:
            message = await self.next(op, timeout)
            kind = message["type"]
            if kind in ("next", "data"):
                assert kind == ("data" if self.legacy else "next"), message
                outcome.payloads.append(message["payload"])
            elif kind == "complete":
                outcome.end = "complete"
                return outcome
            elif kind == "error":
                outcome.end, outcome.error = "error", message.get("payload")
                return outcome
            elif kind.startswith("closed"):
                outcome.end = kind
                return outcome
        return outcome

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None, op: str = "1"
    ) -> Outcome:
        await self.start(op, query, variables)
        return await self.collect(op)

    async def close(self) -> None:
        await self.conn.close()
        if self.reader is not None:
            await self.reader


def _ws_url(server: Server) -> str:
    return server.url.replace("http://", "ws://") + "/graphql"


@asynccontextmanager
async def client(
    server: Server,
    protocol: str,
    payload: dict[str, Any] | None = None,
    *,
    init: bool = True,
) -> AsyncIterator[Ws]:
    async with connect(_ws_url(server), subprotocols=[protocol], max_size=None) as conn:  # type: ignore[list-item]
        ws = Ws(conn, protocol)
        try:
            if init:
                if payload is None and server.token is not None:
                    payload = {"authorization": f"Bearer {server.token}"}
                answer = await ws.init(payload)
                assert answer == "connection_ack", answer
            yield ws
        finally:
            await ws.close()
        assert ws.binary == 0, f"{ws.binary} binary frames"


async def stream(server: Server, protocol: str, query: str, **variables: Any) -> Outcome:
    async with client(server, protocol) as ws:
        return await ws.subscribe(query, variables)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# ------------------------------------------------------------------------------------ helpers


def deploy(server: Server, namespace: str, source: str = LIVE) -> None:
    server.deploy(namespace, source=source.format(namespace=namespace))


async def acreate(server: Server, namespace: str, flow_id: str = "live") -> str:
    return await asyncio.to_thread(server.create, namespace, flow_id)


def kill(server: Server, execution_id: str) -> None:
    server.data(
        "mutation($id: ID!) { killExecution(id: $id) { __typename } }", {"id": execution_id}
    )


def stored_changes(server: Server, execution_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = None
    while True:
        page = server.data(POLL, {"id": execution_id, "after": after})["stateChanges"]
        found += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def histories_from_events(changes: list[dict[str, Any]]) -> dict[Any, list[tuple[str, str]]]:
    grouped: dict[Any, list[tuple[str, str]]] = {}
    for change in changes:
        key = (change["entity"], change["taskRunId"], change["attemptNumber"])
        if change["entity"] == "TASK_RUN":
            key = ("TASK_RUN", change["taskRunId"], None)
        grouped.setdefault(key, []).append((change["state"], change["date"]))
    return grouped


def histories_from_document(doc: dict[str, Any]) -> dict[Any, list[tuple[str, str]]]:
    def pairs(state: dict[str, Any]) -> list[tuple[str, str]]:
        return [(h["state"], h["date"]) for h in state["histories"]]

    grouped: dict[Any, list[tuple[str, str]]] = {("EXECUTION", None, None): pairs(doc["state"])}
    for run_ in doc["taskRunList"]:
        grouped[("TASK_RUN", run_["id"], None)] = pairs(run_["state"])
        for number, attempt in enumerate(run_["attempts"] or (), start=1):
            grouped[("ATTEMPT", run_["id"], number)] = pairs(attempt["state"])
    return grouped


def assert_matches_stored(server: Server, execution_id: str, changes: list[dict[str, Any]]) -> None:
    """The streamed entries are exactly the stored histories of the execution, its task runs
    and attempts, once each and in order; and equal to the polling twin's rows."""
    sequences = [c["sequence"] for c in changes]
    assert sequences == sorted(set(sequences)), "out of order or repeated"
    assert changes == stored_changes(server, execution_id)
    doc = server.data(EXECUTION, {"id": execution_id})["execution"]
    assert histories_from_events(changes) == histories_from_document(doc)
    assert changes[-1]["entity"] == "EXECUTION" and changes[-1]["state"] in TERMINAL


def broker(server: Server) -> pubsub.Broker:
    return pubsub.broker_of(server.app.state.services.engine)


# ------------------------------------------------------------------------------------ fixtures


@dataclass
class Dedicated:
    server: Server
    uvicorn: uvicorn.Server

    def on_loop(self, fn: Callable[[], Any]) -> Any:
        """Run `fn` in the server's event loop (its tasks, its broker) and return the result."""
        loop = self.uvicorn.servers[0].get_loop()

        async def call() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), loop).result(10)

    def tasks(self) -> list[str]:
        """The running tasks of the server's loop, by coroutine name."""
        found = self.on_loop(lambda: [t.get_coro().__qualname__ for t in asyncio.all_tasks()])  # type: ignore[union-attr]
        return sorted(str(name) for name in found if name != "Dedicated.on_loop.<locals>.call")


def _dedicated(tmp_path: Path, **overrides: Any) -> Iterator[Dedicated]:
    settings = Settings(db_path=str(tmp_path / "tercel.db"), **overrides)
    userver, thread, server = start_server(settings)
    try:
        yield Dedicated(server, userver)
    finally:
        userver.should_exit = True
        thread.join(timeout=20)
        server.client.close()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dedicated]:
    """A server whose subscribers queue 2 batches only (overflow on every burst)."""
    limits = Limits(subscription_queue=2, connection_init_seconds=0.5)
    yield from _dedicated(tmp_path_factory.mktemp("tiny"), limits=limits)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dedicated]:
    yield from _dedicated(tmp_path_factory.mktemp("guarded"), token="s3cret")


# ------------------------------------------------------------------------------------ tests


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_state_changes_equal_the_stored_histories(api: Server, protocol: str) -> None:
    namespace = f"subs.sc.{protocol.replace('-', '')}"
    deploy(api, namespace)

    async def body() -> tuple[str, Outcome]:
        execution_id = await acreate(api, namespace)
        return execution_id, await stream(api, protocol, CHANGES, id=execution_id)

    execution_id, outcome = run(body())
    assert outcome.end == "complete"  # on its own, once the execution is terminal
    changes = outcome.data("stateChanges")
    assert_matches_stored(api, execution_id, changes)
    attempts = [c for c in changes if c["entity"] == "ATTEMPT"]
    assert attempts and all(c["attemptNumber"] >= 1 and c["taskRunId"] for c in attempts)
    runs = [c for c in changes if c["entity"] == "TASK_RUN" and c["state"] == "SUCCESS"]
    assert {c["taskId"] for c in runs} >= {"hello", "nap1", "both", "nap2", "ret", "bye"}
    assert all(c["cursor"] and "=" not in c["cursor"] for c in changes)

    # resume from a middle cursor yields exactly the rest, then completes at once
    middle = len(changes) // 2
    rest = run(stream(api, protocol, CHANGES, id=execution_id, after=changes[middle]["cursor"]))
    assert rest.end == "complete" and rest.data("stateChanges") == changes[middle + 1 :]
    last = run(stream(api, protocol, CHANGES, id=execution_id, after=changes[-1]["cursor"]))
    assert last.end == "complete" and last.payloads == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_resume_while_running(api: Server, protocol: str) -> None:
    """Stop after a few live events, resume from the last cursor: everything exactly once."""
    namespace = f"subs.resume.{protocol.replace('-', '')}"
    deploy(api, namespace)

    async def body() -> tuple[str, list[dict[str, Any]]]:
        execution_id = await acreate(api, namespace)
        async with client(api, protocol) as ws:
            await ws.start("a", CHANGES, {"id": execution_id})
            first = await ws.collect("a", limit=5)
            await ws.stop("a")
        got = first.data("stateChanges")
        rest = await stream(api, protocol, CHANGES, id=execution_id, after=got[-1]["cursor"])
        assert rest.end == "complete"
        return execution_id, got + rest.data("stateChanges")

    execution_id, changes = run(body())
    assert_matches_stored(api, execution_id, changes)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_execution_updated_completes_with_the_terminal_snapshot(api: Server, protocol: str) -> None:
    namespace = f"subs.upd.{protocol.replace('-', '')}"
    deploy(api, namespace)

    async def body() -> tuple[str, Outcome]:
        execution_id = await acreate(api, namespace)
        return execution_id, await stream(api, protocol, UPDATES, id=execution_id)

    execution_id, outcome = run(body())
    assert outcome.end == "complete"
    updates = outcome.data("executionUpdated")
    assert len(updates) >= 2  # the current snapshot, then live ones
    cursors = [u["cursor"] for u in updates]
    sequences = [int(_decode(c).removeprefix("sc:")) for c in cursors]
    assert sequences == sorted(set(sequences))
    final = updates[-1]["execution"]
    assert final["state"]["current"] == "SUCCESS"
    assert all(u["execution"]["state"]["current"] not in TERMINAL for u in updates[:-1])
    doc = api.data(EXECUTION, {"id": execution_id})["execution"]
    assert final["state"] == doc["state"] and final["outputs"] == doc["outputs"]
    assert [r["id"] for r in final["taskRunList"]] == [r["id"] for r in doc["taskRunList"]]
    stored = stored_changes(api, execution_id)
    assert updates[-1]["cursor"] == stored[-1]["cursor"]

    # resubscribing: the terminal snapshot again and done; after the last cursor: done at once
    again = run(stream(api, protocol, UPDATES, id=execution_id))
    assert again.end == "complete" and again.data("executionUpdated") == [updates[-1]]
    none = run(stream(api, protocol, UPDATES, id=execution_id, after=updates[-1]["cursor"]))
    assert none.end == "complete" and none.payloads == []
    head = run(stream(api, protocol, UPDATES, id=execution_id, after="HEAD"))
    assert head.end == "complete" and head.payloads == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_logs_stream(api: Server, protocol: str) -> None:
    namespace = f"subs.logs.{protocol.replace('-', '')}"
    deploy(api, namespace)

    async def body() -> tuple[str, Outcome, Outcome]:
        execution_id = await acreate(api, namespace)
        every, warn = await asyncio.gather(
            stream(api, protocol, LOGS, id=execution_id),
            stream(api, protocol, LOGS, id=execution_id, min="WARN"),
        )
        return execution_id, every, warn

    execution_id, every, warn = run(body())
    assert every.end == "complete" and warn.end == "complete"
    lines = every.data("logs")
    stored = [e["node"] for e in api.data(POLL_LOGS, {"id": execution_id})["logs"]["edges"]]
    assert lines == stored
    mine = [line["message"] for line in lines if line["taskId"] in ("hello", "middle", "bye")]
    assert mine == ["hello", "one", "two", "bye"]
    warned = warn.data("logs")
    assert warned == [line for line in lines if line["level"] in ("WARN", "ERROR")]
    assert "bye" in [line["message"] for line in warned]
    rest = run(stream(api, protocol, LOGS, id=execution_id, after=lines[1]["cursor"]))
    assert rest.end == "complete" and rest.data("logs") == lines[2:]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_argument_errors(api: Server, protocol: str) -> None:
    namespace = f"subs.args.{protocol.replace('-', '')}"
    deploy(api, namespace)
    execution_id = api.run(namespace, "live")
    log_cursor = api.data(POLL_LOGS, {"id": execution_id})["logs"]["edges"][0]["node"]["cursor"]

    async def body() -> list[Outcome]:
        return [
            await stream(api, protocol, CHANGES, id="nope"),
            await stream(api, protocol, UPDATES, id="nope"),
            await stream(api, protocol, LOGS, id="nope"),
            await stream(api, protocol, CHANGES, id=execution_id, after="garbage!"),
            await stream(api, protocol, CHANGES, id=execution_id, after=log_cursor),
            await stream(api, protocol, LOGS, id=execution_id, after=_encode("sc:1")),
        ]

    found = run(body())
    codes = [_codes(outcome) for outcome in found]
    assert codes == [["NOT_FOUND"]] * 3 + [["BAD_USER_INPUT"]] * 3
    assert broker(api).subscribers == 0


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_global_stream_sees_new_executions(api: Server, protocol: str) -> None:
    namespace = f"subs.global.{protocol.replace('-', '')}"
    deploy(api, namespace)
    deploy(api, namespace + ".other")
    deploy(api, namespace + "x")
    flt = {"namespace": namespace, "entities": ["EXECUTION"]}

    async def body() -> tuple[list[str], list[dict[str, Any]], list[dict[str, Any]]]:
        async with client(api, protocol) as ws:
            await ws.start("all", CHANGES, {})
            await ws.start("filtered", CHANGES, {"f": flt})
            await asyncio.sleep(0.2)  # both registered: the global stream starts at the head
            created = [await acreate(api, namespace) for _ in range(2)]
            await acreate(api, namespace + "x")  # not a sub-namespace
            await asyncio.to_thread(api.wait_terminal, created[-1])
            everything: list[dict[str, Any]] = []
            while not all(
                any(
                    e["executionId"] == i and e["entity"] == "EXECUTION" and e["state"] == "SUCCESS"
                    for e in everything
                )
                for i in created
            ):
                everything += (await ws.collect("all", limit=1)).data("stateChanges")
            filtered: list[dict[str, Any]] = []
            while sum(e["state"] == "SUCCESS" for e in filtered) < 2:
                filtered += (await ws.collect("filtered", limit=1)).data("stateChanges")
            await ws.stop("all")
            await ws.stop("filtered")
            return created, everything, filtered

    created, everything, filtered = run(body())
    for execution_id in created:
        mine = [e for e in everything if e["executionId"] == execution_id]
        assert mine == stored_changes(api, execution_id)
    assert {e["executionId"] for e in filtered} == set(created)
    assert all(e["entity"] == "EXECUTION" for e in filtered)
    expected = [c for i in created for c in stored_changes(api, i) if c["entity"] == "EXECUTION"]
    assert sorted(filtered, key=lambda e: e["sequence"]) == sorted(
        expected, key=lambda e: e["sequence"]
    )


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_head_starts_at_the_registration(
    api: Server, protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`after: "HEAD"` starts where the subscription was registered, however late the server
    gets round to its reads: an execution created as soon as the registration shows in
    `/health` is streamed whole (a head read after the registration once skipped what
    committed in between, and a stream whose read came after the run waited forever)."""
    namespace = f"subs.head.{protocol.replace('-', '')}"
    deploy(api, namespace)
    for module, name in ((stream_rows, "state_changes"), (loop, "committed_state")):
        monkeypatch.setattr(module, name, _slow(getattr(module, name)))
    before = broker(api).subscribers

    async def body() -> tuple[str, Outcome, Outcome]:
        async with client(api, protocol) as ws:
            await ws.start("global", CHANGES, {"after": "HEAD", "f": {"namespace": namespace}})
            while (await asyncio.to_thread(_live, api)) < before + 1:
                await asyncio.sleep(0.01)
            execution_id = await acreate(api, namespace)
            await ws.start("logs", LOGS, {"id": execution_id, "after": "HEAD"})
            await asyncio.to_thread(api.wait_terminal, execution_id)
            stored = stored_changes(api, execution_id)
            found = await ws.collect("global", limit=len(stored))
            await ws.stop("global")
            return execution_id, found, await ws.collect("logs")

    execution_id, found, logs = run(body())
    assert found.data("stateChanges") == stored_changes(api, execution_id)
    assert logs.end == "complete"


def _slow(original: Any) -> Any:
    """`original` (a coroutine function) made to answer a second late."""

    async def late(*args: Any) -> Any:
        await asyncio.sleep(1.0)  # a server busy with a thousand handshakes
        return await original(*args)

    return late


def _live(server: Server) -> int:
    found: int = server.client.get(server.url + "/health").json()["subscriptions"]
    return found


GATED = LIVE.replace(
    "tasks:\n", "tasks:\n  - id: gate\n    type: io.kestra.plugin.core.flow.Pause\n", 1
)


async def _until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"never: {what}"
        await asyncio.sleep(0.02)


def test_fifty_concurrent_subscribers(api: Server) -> None:
    """Fifty subscribers of one execution, every one registered before the execution goes on
    (a Pause holds it): each gets the whole history, and the events after the resume reach
    them live. (Without the gate the execution often ended before the subscribers registered,
    and nothing was live.)"""
    namespace = "subs.fifty"
    deploy(api, namespace, GATED)

    async def one(i: int, execution_id: str) -> Outcome:
        async with client(api, PROTOCOLS[i % 2]) as ws:  # an id of its own: a ready frame
            return await ws.subscribe(CHANGES, {"id": execution_id}, op=f"op{i}")  # must say it

    async def body() -> tuple[str, list[Outcome]]:
        execution_id = await acreate(api, namespace)
        await _until(lambda: paused(execution_id), "the gate PAUSED")
        subscribed = [asyncio.create_task(one(i, execution_id)) for i in range(50)]
        await _until(lambda: broker(api).subscribers == 50, "50 subscribers registered")
        await asyncio.to_thread(resume, execution_id)
        return execution_id, list(await asyncio.gather(*subscribed))

    def paused(execution_id: str) -> bool:
        found = api.data("query($id: ID!) { execution(id: $id) { state { current } } }",
                         {"id": execution_id})  # fmt: skip
        return bool(found["execution"]["state"]["current"] == "PAUSED")

    def resume(execution_id: str) -> None:
        api.data("mutation($id: ID!) { resumeExecution(id: $id) { __typename } }",
                 {"id": execution_id})  # fmt: skip

    frames: fanout.Frames = api.app.state.frames
    written = frames.hits
    execution_id, outcomes = run(body())
    stored = stored_changes(api, execution_id)
    assert stored[-1]["state"] == "SUCCESS"
    for outcome in outcomes:
        assert outcome.end == "complete"
        assert outcome.data("stateChanges") == stored
    # live events went out as ready frames (with each operation's own id and message type,
    # checked by `collect`)
    assert frames.hits > written
    run(_until(lambda: broker(api).subscribers == 0, "every subscription ended"))


def test_permessage_deflate_only_when_asked(
    api: Server, server_factory: Callable[..., Server]
) -> None:
    async def accepted(server: Server) -> str | None:
        async with connect(
            _ws_url(server), subprotocols=["graphql-transport-ws"], compression="deflate"
        ) as conn:  # type: ignore[list-item]
            assert conn.response is not None
            found: str | None = conn.response.headers.get("Sec-WebSocket-Extensions")
            return found

    assert run(accepted(api)) is None
    assert "permessage-deflate" in (run(accepted(server_factory(ws_deflate=True))) or "")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_variables_too_deep_to_share_still_stream(api: Server, protocol: str) -> None:
    """Variables nested deeper than the encoder of ready-frame groups goes: the operation is
    served without sharing (it once got no answer at all and kept its id)."""
    namespace = f"subs.deep.{protocol.replace('-', '')}"
    deploy(api, namespace)
    execution_id = api.run(namespace, "live")
    deep: Any = []
    for _ in range(300):
        deep = [deep]

    async def body() -> list[Outcome]:
        async with client(api, protocol) as ws:
            variables = {"id": execution_id, "unused": deep}
            first = await ws.subscribe(CHANGES, variables, op="deep")
            return [first, await ws.subscribe(CHANGES, {"id": execution_id}, op="deep")]

    for outcome in run(body()):
        assert outcome.end == "complete"
        assert outcome.data("stateChanges") == stored_changes(api, execution_id)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_overflow_recovery_with_a_tiny_queue(
    tiny: Dedicated, protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queues of 2 batches and slow consumers: subscribers fall behind, are marked lagging,
    catch up from the database and still get every entry exactly once."""
    slow_consumers(monkeypatch)
    server = tiny.server
    namespace = f"subs.tiny.{protocol.replace('-', '')}"
    deploy(server, namespace)

    async def body() -> tuple[list[str], dict[str, Outcome], int, int]:
        async with client(server, protocol) as ws:
            registered = await asyncio.to_thread(_live, server)
            await ws.start("head", CHANGES, {"after": "HEAD", "f": {"namespace": namespace}})
            while (await asyncio.to_thread(_live, server)) < registered + 1:
                await asyncio.sleep(0.01)
            execution_ids = [await acreate(server, namespace) for _ in range(3)]
            for execution_id in execution_ids:
                await ws.start(execution_id, CHANGES, {"id": execution_id})
            await ws.start(
                "all", CHANGES, {"after": _encode("sc:0"), "f": {"namespace": namespace}}
            )
            for execution_id in execution_ids:
                await asyncio.to_thread(server.wait_terminal, execution_id)
            dropped = broker(server).dropped
            outcomes = {i: await ws.collect(i) for i in execution_ids}
            total = sum(len(stored_changes(server, i)) for i in execution_ids)
            outcomes["all"] = await ws.collect("all", limit=total)
            outcomes["head"] = await ws.collect("head", limit=total)
            await ws.stop("all")
            await ws.stop("head")
            return execution_ids, outcomes, dropped - dropped_before, total

    dropped_before = broker(server).dropped
    execution_ids, outcomes, dropped, total = run(body())
    assert dropped > 0, "the tiny queues never overflowed"
    for execution_id in execution_ids:
        assert outcomes[execution_id].end == "complete"
        assert_matches_stored(server, execution_id, outcomes[execution_id].data("stateChanges"))
    everything = outcomes["all"].data("stateChanges")
    assert len(everything) == total
    sequences = [e["sequence"] for e in everything]
    assert sequences == sorted(set(sequences))
    stored = [c for i in execution_ids for c in stored_changes(server, i)]
    assert everything == sorted(stored, key=lambda c: c["sequence"])
    assert outcomes["head"].data("stateChanges") == everything  # from HEAD, lagging too


def test_execution_updated_coalesces_when_lagging(
    tiny: Dedicated, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow_consumers(monkeypatch)
    server = tiny.server
    dropped_before = broker(server).dropped
    namespace = "subs.tiny.updates"
    deploy(server, namespace)

    async def body() -> tuple[str, Outcome]:
        async with client(server, "graphql-transport-ws") as ws:
            execution_id = await acreate(server, namespace)
            await ws.start("u", UPDATES, {"id": execution_id})
            await asyncio.to_thread(server.wait_terminal, execution_id)
            return execution_id, await ws.collect("u")

    execution_id, outcome = run(body())
    assert broker(server).dropped > dropped_before
    assert outcome.end == "complete"
    updates = outcome.data("executionUpdated")
    assert updates[-1]["execution"]["state"]["current"] == "SUCCESS"
    assert updates[-1]["cursor"] == stored_changes(server, execution_id)[-1]["cursor"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_retry_does_not_end_the_stream_early(api: Server, protocol: str) -> None:
    """A top-level FAILED followed by RETRYING in the same commit is not the end."""
    namespace = f"subs.retry.{protocol.replace('-', '')}"
    deploy(api, namespace, RETRIED)

    async def body() -> tuple[str, Outcome, Outcome]:
        execution_id = await acreate(api, namespace, "retried")
        changes, updates = await asyncio.gather(
            stream(api, protocol, CHANGES, id=execution_id),
            stream(api, protocol, UPDATES, id=execution_id),
        )
        return execution_id, changes, updates

    execution_id, changes, updates = run(body())
    found = changes.data("stateChanges")
    assert_matches_stored(api, execution_id, found)
    top = [c["state"] for c in found if c["entity"] == "EXECUTION"]
    assert "RETRYING" in top and top[-1] == "FAILED"
    final = updates.data("executionUpdated")[-1]["execution"]
    assert updates.end == "complete" and final["state"]["current"] == "FAILED"
    assert [h["state"] for h in final["state"]["histories"]] == top


def test_disconnect_leaves_nothing_behind(tiny: Dedicated) -> None:
    server = tiny.server
    deploy(server, "subs.leak", SLEEPY)
    execution_id = server.create("subs.leak", "sleepy")
    for _ in range(200):  # the attempt (a task of its own) runs before the baseline is taken
        if any(c["entity"] == "ATTEMPT" for c in stored_changes(server, execution_id)):
            break
        threading.Event().wait(0.02)
    threading.Event().wait(0.2)
    before_tasks, before_subscribers = tiny.tasks(), broker(server).subscribers

    async def body() -> None:
        for protocol in PROTOCOLS:
            async with client(server, protocol) as ws:
                for op in ("a", "b", "c"):
                    await ws.start(op, CHANGES, {"id": execution_id})
                await ws.start("d", UPDATES, {"id": execution_id})
                await ws.start("e", LOGS, {"id": execution_id})
                await ws.start("f", CHANGES, {})
                for op in ("a", "d"):
                    await ws.collect(op, limit=1)
                during = tiny.on_loop(lambda: broker(server).subscribers)
                assert during == before_subscribers + 6
                await ws.stop("b")  # one stopped, the rest end with the connection

    run(body())
    for _ in range(100):
        if tiny.tasks() == before_tasks and broker(server).subscribers == before_subscribers:
            break
        threading.Event().wait(0.05)
    assert broker(server).subscribers == before_subscribers
    assert tiny.tasks() == before_tasks
    kill(server, execution_id)


def test_head_keeps_what_commits_during_the_first_read(
    api: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HEAD streams whose first reads are slow still get what commits after their registration,
    the terminal changes included: they used to complete with nothing when the execution ended
    before their first read (the completion check, or a head read, saw it already ended)."""
    deploy(api, "subs.slowread", SLEEPY)
    execution_id = api.create("subs.slowread", "sleepy")
    for _ in range(200):
        if any(c["entity"] == "ATTEMPT" for c in stored_changes(api, execution_id)):
            break
        threading.Event().wait(0.02)

    monkeypatch.setattr(loop, "committed_state", _slow(loop.committed_state))
    monkeypatch.setattr(snapshots, "load_snapshot", _slow(snapshots.load_snapshot))
    # the head read the old code did after registering: slow, should it ever come back
    monkeypatch.setattr(stream_rows, "head_seq", _slow(stream_rows.head_seq))
    before = broker(api).subscribers

    async def body() -> list[Outcome]:
        async with client(api, "graphql-transport-ws") as ws:
            await ws.start("c", CHANGES, {"id": execution_id, "after": "HEAD"})
            await ws.start("u", UPDATES, {"id": execution_id, "after": "HEAD"})
            await ws.start("l", LOGS, {"id": execution_id, "after": "HEAD"})
            while (await asyncio.to_thread(_live, api)) < before + 3:
                await asyncio.sleep(0.01)
            await asyncio.to_thread(kill, api, execution_id)
            return [await ws.collect(op) for op in ("c", "u", "l")]

    changes, updates, logs = run(body())
    assert [changes.end, updates.end, logs.end] == ["complete"] * 3
    top = [c["state"] for c in changes.data("stateChanges") if c["entity"] == "EXECUTION"]
    assert top == ["KILLING", "KILLED"]
    stored = stored_changes(api, execution_id)
    assert changes.data("stateChanges") == stored[-len(changes.payloads) :]
    assert updates.data("executionUpdated")[-1]["execution"]["state"]["current"] == "KILLED"


SLEEPY = """\
id: sleepy
namespace: {namespace}
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT60S
"""


def test_kill_completes_open_streams(api: Server) -> None:
    deploy(api, "subs.killed", SLEEPY)
    execution_id = api.create("subs.killed", "sleepy")

    def napping() -> bool:
        """The Sleep task run is RUNNING in the database: nothing more commits before the kill
        (a HEAD registered earlier could see RUNNING entries and no longer only the kill's)."""
        found = api.data(
            "query($id: ID!) { execution(id: $id) { taskRunList { taskId state { current } } } }",
            {"id": execution_id},
        )["execution"]["taskRunList"]
        return [(r["taskId"], r["state"]["current"]) for r in found] == [("nap", "RUNNING")]

    async def body() -> list[Outcome]:
        await _until(napping, "the Sleep task run RUNNING")
        async with client(api, "graphql-transport-ws") as ws:
            before = broker(api).subscribers
            await ws.start("u", UPDATES, {"id": execution_id})
            await ws.start("c", CHANGES, {"id": execution_id, "after": "HEAD"})
            await ws.start("l", LOGS, {"id": execution_id, "after": "HEAD"})
            await ws.collect("u", limit=1)
            await _until(lambda: broker(api).subscribers == before + 3, "3 streams registered")
            await asyncio.to_thread(kill, api, execution_id)
            return [await ws.collect(op) for op in ("u", "c", "l")]

    updates, changes, logs = run(body())
    assert [o.end for o in (updates, changes, logs)] == ["complete"] * 3
    assert updates.data("executionUpdated")[-1]["execution"]["state"]["current"] == "KILLED"
    top = [c["state"] for c in changes.data("stateChanges") if c["entity"] == "EXECUTION"]
    assert top == ["KILLING", "KILLED"]
    assert (
        changes.data("stateChanges") == stored_changes(api, execution_id)[-len(changes.payloads) :]
    )

    async def again() -> list[Outcome]:  # terminal: every stream completes at once from HEAD
        return [
            await stream(api, "graphql-ws", query, id=execution_id, after="HEAD")
            for query in (UPDATES, CHANGES, LOGS)
        ]

    assert [(o.end, o.payloads) for o in run(again())] == [("complete", [])] * 3
    deleted = api.data(
        "mutation($id: ID!) { deleteExecution(id: $id) { __typename } }", {"id": execution_id}
    )
    assert deleted["deleteExecution"]["__typename"] == "Execution"
    gone = run(stream(api, "graphql-transport-ws", CHANGES, id=execution_id))
    assert _codes(gone) == ["NOT_FOUND"]


def test_deletion_completes_a_lagging_stream() -> None:
    """Unit level: a deletion event reaches the execution's subscribers (they complete)."""
    from tercel.engine import changes
    from tercel.engine.runtime.scheduler import Batch

    async def body() -> None:
        hub = pubsub.Broker(queue_size=1)
        mine, other = hub.subscribe("x"), hub.subscribe("y")
        hub(Batch(changes.ChangeSet(deleted_executions=["x"])))
        hub(Batch(changes.ChangeSet()))  # empty commits are not published
        event = await mine.get()
        assert event is not None and event.deleted == {"x"}
        assert other.queue.empty()
        hub(Batch(changes.ChangeSet(deleted_executions=["x"])))
        hub(Batch(changes.ChangeSet(deleted_executions=["x"])))  # queue full: dropped
        assert hub.dropped == 1 and await mine.get() is None  # lagging: catch up from the DB
        assert mine.queue.empty() and not mine.lagging

    run(body())


# ------------------------------------------------------------------------------------ limits


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_twenty_first_subscription_is_refused(api: Server, protocol: str) -> None:
    deploy(api, "subs.limit", SLEEPY)
    execution_id = api.create("subs.limit", "sleepy")

    async def body() -> Outcome:
        async with client(api, protocol) as ws:
            for i in range(20):
                await ws.start(str(i), CHANGES, {"id": execution_id})
            for i in range(20):
                await ws.collect(str(i), limit=1)
            await ws.start("21", CHANGES, {"id": execution_id})
            refused = await ws.collect("21")
            for i in range(20):
                await ws.stop(str(i))
            return refused

    refused = run(body())
    assert refused.end == "error"
    assert "Subscription limit reached" in json.dumps(refused.error)
    kill(api, execution_id)


def test_process_wide_limit() -> None:
    hub = pubsub.Broker(queue_size=1, max_subscriptions=3)
    found = [hub.subscribe(None), hub.subscribe("x"), hub.subscribe("x")]
    with pytest.raises(pubsub.TooManySubscriptions):
        hub.subscribe("y")
    for subscriber in found:
        hub.unsubscribe(subscriber)
        hub.unsubscribe(subscriber)  # idempotent
    assert hub.subscribers == 0
    hub.subscribe("y")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_token_in_connection_init(guarded: Dedicated, protocol: str) -> None:
    server = guarded.server

    async def init(payload: dict[str, Any]) -> str:
        async with client(server, protocol, init=False) as ws:
            return await ws.init(payload)

    # graphql-transport-ws closes 4403; the legacy protocol sends connection_error, then closes
    refused = (
        "closed 4403" if protocol == "graphql-transport-ws" else "connection_error closed 1011"
    )
    assert run(init({})) == refused
    assert run(init({"authorization": "Bearer wrong"})) == refused
    assert run(init({"Authorization": "Bearer s3cret"})) == "connection_ack"
    assert run(init({"token": "s3cret"})) == "connection_ack"

    deploy(server, "subs.auth")
    execution_id = server.run("subs.auth", "live")
    outcome = run(stream(server, protocol, CHANGES, id=execution_id))
    assert outcome.end == "complete" and outcome.data("stateChanges")


def test_late_connection_init_closes_4408(tiny: Dedicated) -> None:
    async def body() -> str:
        async with client(tiny.server, "graphql-transport-ws", init=False) as ws:
            try:
                await asyncio.wait_for(ws.conn.recv(), 5)
            except ConnectionClosed as closed:
                return f"closed {closed.rcvd.code if closed.rcvd else None}"
            return "open"

    assert run(body()) == "closed 4408"


def test_legacy_subscribe_before_init_is_refused(api: Server) -> None:
    async def body() -> str:
        async with client(api, "graphql-ws", init=False) as ws:
            await ws.start("1", CHANGES, {})
            try:
                while True:
                    await asyncio.wait_for(ws.conn.recv(), 5)
            except ConnectionClosed as closed:
                return f"closed {closed.rcvd.code if closed.rcvd else None}"

    assert run(body()) == "closed 4401"


def test_transport_subscribe_before_init_is_refused(api: Server) -> None:
    async def body() -> str:
        async with client(api, "graphql-transport-ws", init=False) as ws:
            await ws.start("1", CHANGES, {})
            try:
                while True:
                    await asyncio.wait_for(ws.conn.recv(), 5)
            except ConnectionClosed as closed:
                return f"closed {closed.rcvd.code if closed.rcvd else None}"

    assert run(body()) == "closed 4401"


# ------------------------------------------------------------------------------------ utils


def _encode(text: str) -> str:
    import base64

    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def _decode(cursor: str) -> str:
    import base64

    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()


def _codes(outcome: Outcome) -> list[str]:
    errors: list[dict[str, Any]] = []
    if outcome.error is not None:
        errors = outcome.error if isinstance(outcome.error, list) else [outcome.error]
    for payload in outcome.payloads:
        errors += payload.get("errors", [])
    return [e.get("extensions", {}).get("code") for e in errors]


def slow_consumers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every subscriber takes 0.15 s per event (so the engine outpaces tiny queues)."""
    original = pubsub.Subscriber.get

    async def slow(self: pubsub.Subscriber) -> pubsub.Event | None:
        await asyncio.sleep(0.15)
        return await original(self)

    monkeypatch.setattr(pubsub.Subscriber, "get", slow)
