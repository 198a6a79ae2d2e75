"""The operation scope: ready frames by group and payload identity, and subscriber cleanup."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import weakref

import orjson
import pytest
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.types.base import get_object_definition

from tercel.engine.runtime import pubsub
from tercel.resolvers.live import fanout, messages
from tercel.schema.streams import LogEntry, StateChange

QUERY = "subscription { stateChanges { sequence } }"


class Sink:
    def __init__(self) -> None:
        self.frames: list[str] = []
        self.gone = False

    async def __call__(self, text: str) -> None:
        if self.gone:
            raise WebSocketDisconnected
        self.frames.append(text)


def scope(
    frames: fanout.Frames, sink: Sink, op: str = "1", **variables: object
) -> fanout.OperationScope:
    group = fanout.group_of(QUERY, None, variables)
    prefix = '{"id":' + orjson.dumps(op).decode() + ',"type":"next","payload":'
    return fanout.OperationScope(frames, group, prefix, sink)


def test_group_ignores_the_order_of_variables() -> None:
    assert fanout.group_of(QUERY, None, {"a": 1, "b": 2}) == fanout.group_of(
        QUERY, None, {"b": 2, "a": 1}
    )
    assert fanout.group_of(QUERY, None, None) == fanout.group_of(QUERY, None, {})
    assert fanout.group_of(QUERY, None, {"a": 1}) != fanout.group_of(QUERY, None, {"a": 2})
    assert fanout.group_of(QUERY, "A", None) != fanout.group_of(QUERY, "B", None)


def test_the_first_of_a_group_teaches_the_rest() -> None:
    frames, first_sink, second_sink = fanout.Frames(), Sink(), Sink()
    first, second = scope(frames, first_sink, "a"), scope(frames, second_sink, "b")
    payload = object()

    async def body() -> None:
        assert not await first.deliver(payload)  # unknown: the caller yields it
        body = first.sent({"data": {"stateChanges": {"sequence": 7}}})
        assert body == '{"data":{"stateChanges":{"sequence":7}}}'
        assert await second.deliver(payload)

    asyncio.run(body())
    assert second_sink.frames == [
        '{"id":"b","type":"next","payload":{"data":{"stateChanges":{"sequence":7}}}}'
    ]
    assert orjson.loads(second_sink.frames[0])["id"] == "b"
    assert frames.hits == 1


def test_other_groups_and_other_payloads_miss() -> None:
    frames, sink = fanout.Frames(), Sink()
    taught = scope(frames, sink, "a", id="x")
    payload = object()

    async def body() -> None:
        assert not await taught.deliver(payload)
        taught.sent({"data": {"n": 1}})
        assert not await scope(frames, sink, "b", id="y").deliver(payload)
        assert not await scope(frames, sink, "c", id="x").deliver(object())

    asyncio.run(body())
    assert sink.frames == []


def test_errors_and_extensions_are_never_shared() -> None:
    frames, sink = fanout.Frames(), Sink()

    async def body(message: dict[str, object]) -> None:
        payload = object()
        first = scope(frames, sink)
        assert not await first.deliver(payload)
        first.sent(message)
        assert not await scope(frames, sink, "b").deliver(payload)

    asyncio.run(body({"data": None, "errors": [{"message": "no"}]}))
    asyncio.run(body({"data": {}, "extensions": {}}))
    assert len(frames) == 0


def test_a_rendering_operation_writes_its_events_once_strawberry_answered_plain_data() -> None:
    """An operation with a renderer writes the events it can answer itself, and teaches them
    to its group, but only after a result through Strawberry carried nothing but `data`; an
    event it cannot answer, and every event after a result with errors, goes to Strawberry."""
    frames, sink, other_sink = fanout.Frames(), Sink(), Sink()
    rendering, other = scope(frames, sink, "a"), scope(frames, other_sink, "b")
    unanswerable = object()
    rendering.render = lambda payload: None if payload is unanswerable else {"n": id(payload)}
    first, second, third = object(), object(), object()

    async def body() -> None:
        assert not await rendering.deliver(first)  # nothing through Strawberry yet
        rendering.sent({"data": {"n": 0}})
        assert await rendering.deliver(second)
        assert await other.deliver(second)  # taught to the group
        assert not await rendering.deliver(unanswerable)
        rendering.sent({"data": None, "errors": [{"message": "no"}]})
        assert not await rendering.deliver(third)

    asyncio.run(body())
    expected = '{"data":{"n":' + str(id(second)) + "}}"
    assert sink.frames == ['{"id":"a","type":"next","payload":' + expected + "}"]
    assert other_sink.frames == ['{"id":"b","type":"next","payload":' + expected + "}"]
    assert (frames.rendered, frames.hits) == (1, 1)


def test_a_message_without_a_pending_payload_is_not_remembered() -> None:
    frames, sink = fanout.Frames(), Sink()
    first = scope(frames, sink)
    first.sent({"data": {"replayed": True}})  # a replayed row: no shared payload pending
    assert len(frames) == 0


def test_the_cache_is_bounded() -> None:
    frames = fanout.Frames(size=2)
    group = fanout.group_of(QUERY, None, None)
    kept = [object() for _ in range(3)]
    for n, payload in enumerate(kept):
        frames.put(group, payload, str(n))
    assert len(frames) == 2
    assert frames.get(group, kept[0]) is None
    assert frames.get(group, kept[2]) == "2"


def test_a_disconnect_while_writing_cancels_the_operation() -> None:
    frames, sink = fanout.Frames(), Sink()
    payload = object()
    first = scope(frames, sink, "a")

    async def body() -> None:
        await first.deliver(payload)
        first.sent({"data": {}})
        sink.gone = True
        await scope(frames, sink, "b").deliver(payload)

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(body())


def test_close_unregisters_every_subscriber() -> None:
    broker = pubsub.Broker()
    frames, sink = fanout.Frames(), Sink()
    found = scope(frames, sink)
    for execution_id in ("e1", None, "e1"):
        found.registered(broker, broker.subscribe(execution_id))
    assert broker.subscribers == 3
    found.close()
    found.close()  # idempotent
    assert broker.subscribers == 0


def test_outside_an_operation_nothing_is_delivered() -> None:
    async def body() -> bool:
        return await fanout.current().deliver(object())

    assert asyncio.run(body()) is False


@pytest.mark.parametrize("event_type", [StateChange, LogEntry])
def test_shared_event_types_are_plain_data(event_type: type) -> None:
    """Ready frames assume an event's JSON depends on the document, the variables and the
    payload only: a field with a resolver (a context read, say) would break that."""
    definition = get_object_definition(event_type, strict=True)
    resolved = [f.name for f in definition.fields if f.base_resolver is not None]
    assert resolved == []


def test_variables_too_deep_to_encode_make_no_group() -> None:
    deep: object = []
    for _ in range(300):
        deep = [deep]
    assert fanout.group_of(QUERY, None, {"deep": deep}) is None
    frames, sink = fanout.Frames(), Sink()
    ungrouped = fanout.OperationScope(frames, None, '{"id":"1","type":"next","payload":', sink)
    payload = object()

    async def body() -> None:
        assert not await ungrouped.deliver(payload)
        assert ungrouped.sent({"data": {"n": 1}}) == '{"data":{"n":1}}'

    asyncio.run(body())
    assert len(frames) == 0


def test_a_closed_scope_lets_go_of_its_connection() -> None:
    frames, sink = fanout.Frames(), Sink()
    closed = scope(frames, sink, "b")
    gone = weakref.ref(sink)
    closed.close()
    del sink
    gc.collect()
    assert gone() is None  # a task that outlives the operation keeps the scope, not the socket
    assert asyncio.run(closed.deliver(object())) is False


def test_shared_loads_run_outside_the_askers_context() -> None:
    """The broker's shared snapshot load outlives the subscription that asked first: it must
    not carry that subscription's context (its operation scope, hence its connection)."""
    asked_from = contextvars.ContextVar[str | None]("asked_from", default=None)
    broker = pubsub.Broker()

    async def body() -> str | None:
        asked_from.set("a connection")

        async def load() -> str | None:
            return asked_from.get()

        return await broker.shared("key", load)

    assert asyncio.run(body()) is None


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("next", {"id": 'o"1', "type": "next", "payload": {"data": {"a": [1, "é"]}}}),
        ("data", {"type": "data", "id": 'o"1', "payload": {"data": {"a": [1, "é"]}}}),
    ],
)
def test_ready_frames_are_the_protocols_messages(kind: str, message: dict[str, object]) -> None:
    """A ready frame decodes to the message Strawberry's handlers build (id, type, payload)."""
    body = orjson.dumps(message["payload"]).decode()
    frame = messages._prefix(kind, 'o"1') + body + "}"
    assert orjson.loads(frame) == message
