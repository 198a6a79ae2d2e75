"""The one replay → live → catch-up loop of the row streams, and what every stream shares.

`follow` serves `stateChanges` and `logs` alike (docs/semantics.md#subscriptions, gap-free resume);
a `RowStream` says what differs between them: which rows are read back, which rows of a broker event
are kept, how a row becomes a payload. The steps:

1. validate the arguments (unknown execution: NOT_FOUND; bad cursor: BAD_USER_INPUT);
2. register with the broker *before* any read; `after: "HEAD"` (and the global stream without
   a cursor) is the highest `seq` the engine had published at that instant, so whatever
   commits later is streamed, however late the first read comes;
3. replay from the database (`seq > last`, chunks of `CHUNK`, a fresh short read per chunk, the
   execution's committed state read first, for completion);
4. live: events from the queue, rows with `seq <= last` dropped (they were replayed);
5. lagging (the broker dropped events: `get()` answers None): back to 3 from the last row sent;
6. unregister in `finally` (Strawberry closes the generator on `complete` and disconnect; the
   operation's `fanout` scope unregisters too, however the operation task ends).

Shared live payloads go out through the operation's scope as ready frames when another subscription
of the same group already sent them (`fanout`); otherwise they are yielded. Nothing here reads
through the websocket context (one per connection, docs/semantics.md#subscriptions): reads go
through the application's `Reader`."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, Protocol, TypeVar

import strawberry

from tercel.engine import states
from tercel.engine.runtime import pubsub
from tercel.resolvers.live import fanout
from tercel.schema.context import services
from tercel.schema.errors import BadUserInput, PublicError
from tercel.storage.read import connection, executions, pagination

__all__ = [
    "CHUNK",
    "HEAD",
    "RowStream",
    "committed_state",
    "ends",
    "follow",
    "must_exist",
    "register",
    "start_of",
]

#: rows per replay read
CHUNK = 500

Head = Literal["HEAD"]
HEAD: Head = "HEAD"


class Sequenced(Protocol):
    """A row of an append-only log: its `seq` orders it and makes its cursor."""

    @property
    def seq(self) -> int: ...


Read = TypeVar("Read", bound=Sequenced)  #: a row read back from the database
Live = TypeVar("Live", bound=Sequenced)  #: a row of a broker event (the engine's)
Payload = TypeVar("Payload")


async def _nothing(event: pubsub.Event) -> None:
    return None


@dataclass(frozen=True, slots=True)
class RowStream(Generic[Read, Live, Payload]):
    """What one row stream is: the rest of the loop is the same for all of them."""

    #: None: the global stream (never completes)
    execution_id: str | None
    #: where "from now" starts: the subscriber's head of this log at registration
    head: Callable[[pubsub.Subscriber], int]
    #: up to `first + 1` rows with `seq > after`, in order: (after, first) -> rows
    read: Callable[[int, int], Awaitable[Sequence[Read]]]
    from_read: Callable[[Read], Payload]
    #: the event's rows of this log, in `seq` order
    of_event: Callable[[pubsub.Event], Sequence[Live]]
    #: the live rows the stream sends (its execution, its filter)
    keeps: Callable[[Live], bool]
    #: one payload per committed row (and its event), shared by every subscriber (built once
    #: per event)
    from_committed: Callable[[Live, pubsub.Event], Payload]
    #: learn what `keeps` needs from an event before it is asked (one read at most)
    learn: Callable[[pubsub.Event], Awaitable[None]] = field(default=_nothing)


async def follow(
    info: strawberry.Info, stream: RowStream[Read, Live, Payload], start: int | Head | None
) -> AsyncGenerator[Payload, None]:
    """The payloads of `stream` from `start` (a `seq`, HEAD, or None: the beginning of an
    execution's stream, the head of the global one), until its execution is terminal."""
    db, ex_id = services(info).db, stream.execution_id
    if ex_id is not None:
        await must_exist(db, ex_id)
    broker, subscriber = register(info, ex_id)
    try:
        # HEAD (and no cursor on the global stream): from the registration on, i.e. after the
        # highest row published before it (a head read from the database, later, could skip
        # rows committed in between)
        from_now = start == HEAD or (start is None and ex_id is None)
        last = stream.head(subscriber) if from_now else 0 if start is None else int(start)
        scope = fanout.current()
        while True:
            while True:  # replay, chunk by chunk
                chunk = await _replay(db, stream, last, from_now)
                if chunk is None:
                    return  # deleted
                from_now = False
                for row in chunk.rows:
                    yield stream.from_read(row)
                    last = row.seq
                if not chunk.more:
                    break
            if chunk.ended:
                return
            while (event := await subscriber.get()) is not None:  # live
                await stream.learn(event)
                for found in [r for r in stream.of_event(event) if r.seq > last]:
                    if stream.keeps(found):
                        payload = _shared(event, found, stream.from_committed)
                        if not await scope.deliver(payload):
                            yield payload
                        last = found.seq
                if ex_id is not None and ends(event, ex_id):
                    return
    finally:
        broker.unsubscribe(subscriber)


@dataclass(frozen=True, slots=True)
class _Chunk(Generic[Read]):
    rows: Sequence[Read]
    #: more rows wait beyond this chunk
    more: bool
    #: the execution was terminal (committed) before the chunk was read
    ended: bool


async def _replay(
    db: connection.Reader, stream: RowStream[Read, Live, Payload], last: int, from_now: bool
) -> _Chunk[Read] | None:
    """The next chunk of rows after `last`; None when the execution was deleted. From now, and
    not ended, there is nothing to read: every row above the head will be offered live."""
    ex_id = stream.execution_id
    committed = None if ex_id is None else await committed_state(db, ex_id)
    if ex_id is not None and committed is None:
        return None
    ended = committed is not None and committed.is_terminated
    found = [] if from_now and not ended else await stream.read(last, CHUNK)
    return _Chunk(found[:CHUNK], len(found) > CHUNK, ended)


# ------------------------------------------------------------------ shared by every stream


def start_of(prefix: str, after: str | None) -> int | Head | None:
    """`after` parsed: None (not given), HEAD, or a sequence number."""
    if after is None:
        return None
    if after == HEAD:
        return HEAD
    try:
        return pagination.seq_from_cursor(prefix, after)
    except pagination.CursorError as error:
        raise BadUserInput(str(error)) from None


async def must_exist(db: connection.Reader, execution_id: str) -> None:
    if (await executions.executions_by_id(db, [execution_id]))[0] is None:
        raise PublicError(f"execution `{execution_id}` not found", code="NOT_FOUND")


def register(
    info: strawberry.Info, execution_id: str | None
) -> tuple[pubsub.Broker, pubsub.Subscriber]:
    """A subscriber of the broker, recorded in the operation's scope (which unregisters it
    however the operation ends)."""
    broker = pubsub.broker_of(services(info).engine)
    try:
        subscriber = broker.subscribe(execution_id)
    except pubsub.TooManySubscriptions as error:
        raise PublicError(str(error)) from None
    fanout.current().registered(broker, subscriber)
    return broker, subscriber


async def committed_state(db: connection.Reader, execution_id: str) -> states.StateType | None:
    """The execution's committed state; None once it is deleted."""
    row = (await executions.executions_by_id(db, [execution_id]))[0]
    return None if row is None else states.StateType(row.state_current)


def ends(event: pubsub.Event, execution_id: str) -> bool:
    """The event's commit left the execution terminal (or deleted it)."""
    if execution_id in event.deleted:
        return True
    state = event.committed.get(execution_id)
    return state is not None and state.is_terminated


def _shared(
    event: pubsub.Event, row: Live, build: Callable[[Live, pubsub.Event], Payload]
) -> Payload:
    """One payload object per committed row, shared by every subscriber that receives it (so
    the subscriptions of one group send it as one ready frame, see `fanout`)."""
    key = (build, row.seq)
    found = event.memo.get(key)
    if found is None:
        found = event.memo[key] = build(row, event)
    payload: Payload = found
    return payload
