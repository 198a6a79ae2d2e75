"""Subscription resolvers and the `Subscription` root (docs/semantics.md#subscriptions).

Every stream follows the gap-free algorithm of docs/semantics.md#subscriptions:
1. validate the arguments (unknown execution: NOT_FOUND; bad cursor: BAD_USER_INPUT);
2. register with the broker *before* any read; `after: "HEAD"` (and the global stream without
   a cursor) is the highest `seq` the engine had published at that instant, so whatever
   commits later is streamed, however late the first read comes;
3. replay from the database (`seq > cursor`, chunks of 500, a fresh short read per chunk, the
   execution's committed state read first for completion);
4. live: events from the queue, rows with `seq <= last` dropped (they were replayed);
5. lagging (events dropped by the broker): back to 3 from the last row handled;
6. unregister in `finally` (Strawberry cancels the generator on `complete` and disconnect; the
   operation's `fanout` scope unregisters too, however the operation task ends).

Shared live payloads go out through the operation's scope as ready frames when another
subscription of the same group already sent them (`fanout`); otherwise they are yielded.

Nothing here reads through the websocket context (one per connection,
docs/semantics.md#subscriptions): reads go through the application's `Reader`, and execution
snapshots are loaded fresh for each change.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Literal, TypeVar

import strawberry

from tercel import fanout
from tercel.engine import changes, model, states
from tercel.engine.runtime import pubsub
from tercel.resolvers import livestreams
from tercel.resolvers.context import services
from tercel.resolvers.livestreams import load_snapshot
from tercel.schema import enums, inputs
from tercel.schema import subscriptions as payloads
from tercel.schema.errors import BadUserInput, PublicError
from tercel.schema.streams import ExecutionUpdate, LogEntry, StateChange
from tercel.storage import pagination, queries, readdb
from tercel.storage import streams as stream_rows

__all__ = [
    "CHUNK",
    "Subscription",
    "load_snapshot",
]

#: rows per replay read
CHUNK = 500

R = TypeVar("R", changes.StateRow, changes.LogRow)
P = TypeVar("P")

Head = Literal["HEAD"]
_HEAD: Head = "HEAD"


# ------------------------------------------------------------------------------------ helpers


def _start(prefix: str, after: str | None) -> int | Head | None:
    """`after` parsed: None (not given), HEAD, or a sequence number."""
    if after is None:
        return None
    if after == _HEAD:
        return _HEAD
    try:
        return pagination.seq_from_cursor(prefix, after)
    except pagination.CursorError as error:
        raise BadUserInput(str(error)) from None


async def _execution(db: readdb.Reader, execution_id: str) -> readdb.ExecutionRow | None:
    return (await queries.executions_by_id(db, [execution_id]))[0]


async def _must_exist(db: readdb.Reader, execution_id: str) -> None:
    if await _execution(db, execution_id) is None:
        raise PublicError(f"execution `{execution_id}` not found", code="NOT_FOUND")


def _register(
    info: strawberry.Info, execution_id: str | None
) -> tuple[pubsub.Broker, pubsub.Subscriber]:
    broker = pubsub.broker_of(services(info).engine)
    try:
        subscriber = broker.subscribe(execution_id)
    except pubsub.TooManySubscriptions as error:
        raise PublicError(str(error)) from None
    fanout.current().registered(broker, subscriber)
    return broker, subscriber


async def _committed(db: readdb.Reader, execution_id: str) -> states.StateType | None:
    """The execution's committed state; None once it is deleted."""
    row = await _execution(db, execution_id)
    return None if row is None else states.StateType(row.state_current)


def _ends(event: pubsub.Event, execution_id: str) -> bool:
    """The event's commit left the execution terminal (or deleted it)."""
    if execution_id in event.deleted:
        return True
    state = event.committed.get(execution_id)
    return state is not None and state.is_terminated


def _shared(event: pubsub.Event, row: R, build: Callable[[R], P]) -> P:
    """One payload object per committed row, shared by every subscriber that receives it (so
    the subscriptions of one group send it as one ready frame, see `fanout`)."""
    key = (build, row.seq)
    found = event.memo.get(key)
    if found is None:
        found = event.memo[key] = build(row)
    payload: P = found
    return payload


# ------------------------------------------------------------------------------------ streams


async def state_changes(
    info: strawberry.Info,
    execution_id: strawberry.ID | None = None,
    after: str | None = None,
    filter: inputs.StateChangeFilter | None = None,
) -> AsyncGenerator[StateChange, None]:
    db = services(info).db
    start = _start("sc", after)
    flt = (filter or inputs.StateChangeFilter()).to_filter()
    ex_id = None if execution_id is None else str(execution_id)
    if ex_id is not None:
        await _must_exist(db, ex_id)
    broker, subscriber = _register(info, ex_id)
    try:
        # HEAD (and no cursor on the global stream): from the registration on, i.e. after the
        # highest row published before it (a head read from the database, later, could skip
        # rows committed in between)
        from_now = start == _HEAD or (start is None and ex_id is None)
        last = subscriber.state_head if from_now else 0 if start is None else int(start)
        matches = livestreams.Matcher(db, flt)
        scope = fanout.current()
        while True:
            while True:  # replay
                committed = None if ex_id is None else await _committed(db, ex_id)
                if ex_id is not None and committed is None:
                    return  # deleted
                ended = committed is not None and committed.is_terminated
                # from now, and not ended: every row above the head will be offered (no read)
                found = [] if from_now and not ended else await stream_rows.state_changes(
                    db, ex_id, last, CHUNK, flt
                )  # fmt: skip
                from_now = False
                for r in found[:CHUNK]:
                    yield StateChange.from_row(r)
                    last = r.seq
                if len(found) > CHUNK:
                    continue
                if ended:
                    return
                break
            while (event := await subscriber.get()) is not None:  # live
                await matches.prepare(event)
                for row in event.states:
                    if row.seq <= last or (ex_id is not None and row.execution_id != ex_id):
                        continue
                    if matches(row):
                        payload = _shared(event, row, payloads.state_change)
                        if not await scope.deliver(payload):
                            yield payload
                        last = row.seq
                if ex_id is not None and _ends(event, ex_id):
                    return
    finally:
        broker.unsubscribe(subscriber)


async def logs(
    info: strawberry.Info,
    execution_id: strawberry.ID,
    after: str | None = None,
    min_level: enums.LogLevel | None = None,
) -> AsyncGenerator[LogEntry, None]:
    db = services(info).db
    start = _start("lg", after)
    level = model.LogLevel.TRACE if min_level is None else model.LogLevel(min_level)
    ex_id = str(execution_id)
    await _must_exist(db, ex_id)
    broker, subscriber = _register(info, ex_id)
    try:
        from_now = start == _HEAD
        last = subscriber.log_head if from_now else 0 if start is None else int(start)
        scope = fanout.current()
        while True:
            while True:  # replay (no read from now while the execution runs, as stateChanges)
                committed = await _committed(db, ex_id)
                if committed is None:
                    return
                skip = from_now and not committed.is_terminated
                found = [] if skip else await stream_rows.logs(db, ex_id, last, CHUNK, level)
                from_now = False
                for r in found[:CHUNK]:
                    yield LogEntry.from_row(r)
                    last = r.seq
                if len(found) > CHUNK:
                    continue
                if committed.is_terminated:
                    return
                break
            while (event := await subscriber.get()) is not None:  # live
                for line in event.logs:
                    if line.seq > last and line.execution_id == ex_id and line.level >= level:
                        payload = _shared(event, line, payloads.log_entry)
                        if not await scope.deliver(payload):
                            yield payload
                        last = line.seq
                if _ends(event, ex_id):
                    return
    finally:
        broker.unsubscribe(subscriber)


async def execution_updated(
    info: strawberry.Info, id: strawberry.ID, after: str | None = None
) -> AsyncGenerator[ExecutionUpdate, None]:
    db = services(info).db
    start = _start("sc", after)
    ex_id = str(id)
    await _must_exist(db, ex_id)
    broker, subscriber = _register(info, ex_id)

    async def fresh() -> payloads.Snapshot | None:
        return await load_snapshot(db, ex_id)

    try:
        last = subscriber.state_head if start == _HEAD else -1 if start is None else int(start)
        while True:
            snapshot = await fresh()  # catch-up: the current snapshot
            if snapshot is None:
                return
            if snapshot.seq > last:
                yield payloads.execution_update(snapshot)
                last = snapshot.seq
            if snapshot.terminal:
                return
            while (event := await subscriber.get()) is not None:  # live
                if ex_id in event.deleted:
                    return
                top = max((r.seq for r in event.states if r.execution_id == ex_id), default=0)
                if top <= last:
                    continue
                # one load per committed change, shared by every subscriber of the execution
                snapshot = await broker.shared(("snapshot", ex_id, top), fresh)
                if snapshot is None:
                    return
                if snapshot.seq > last:
                    yield payloads.execution_update(snapshot)
                    last = snapshot.seq
                if snapshot.terminal:
                    return
    finally:
        broker.unsubscribe(subscriber)


@strawberry.type
class Subscription:
    state_changes: AsyncGenerator[StateChange, None] = strawberry.subscription(
        resolver=state_changes,
        description="one event per appended history entry, in `sequence` order; with "
        "`executionId` it completes once the execution is terminal (committed)",
    )
    execution_updated: AsyncGenerator[ExecutionUpdate, None] = strawberry.subscription(
        resolver=execution_updated,
        description="a snapshot after each committed change; completes after the terminal one",
    )
    logs: AsyncGenerator[LogEntry, None] = strawberry.subscription(
        resolver=logs,
        description="one event per log line; completes once the execution is terminal",
    )
