"""The subscription resolvers (docs/semantics.md#subscriptions): each parses its arguments, says
what its stream is, and delegates to the shared loop (`loop.follow`); `executionUpdated` sends
snapshots, not rows, so it keeps its own short loop over the same steps."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry

from tercel.engine import changes, model
from tercel.engine.runtime import pubsub
from tercel.resolvers.live import loop, matcher
from tercel.schema import enums, inputs
from tercel.schema.context import services
from tercel.schema.streams import ExecutionUpdate, LogEntry, StateChange
from tercel.storage.read import snapshots
from tercel.storage.read import streams as stream_rows

__all__ = ["execution_updated", "logs", "state_changes"]


async def state_changes(
    info: strawberry.Info,
    execution_id: strawberry.ID | None = None,
    after: str | None = None,
    filter: inputs.StateChangeFilter | None = None,
) -> AsyncGenerator[StateChange, None]:
    start = loop.start_of("sc", after)
    flt = (filter or inputs.StateChangeFilter()).to_filter()
    ex_id = None if execution_id is None else str(execution_id)
    db = services(info).db
    matches = matcher.Matcher(db, flt)

    def keeps(row: changes.StateRow) -> bool:
        return (ex_id is None or row.execution_id == ex_id) and matches(row)

    stream = loop.RowStream(
        execution_id=ex_id,
        head=lambda subscriber: subscriber.state_head,
        read=lambda after_seq, first: stream_rows.state_changes(db, ex_id, after_seq, first, flt),
        from_read=StateChange.from_row,
        of_event=_states,
        keeps=keeps,
        from_committed=StateChange.from_committed,
        learn=matches.prepare,
    )
    async with aclosing(loop.follow(info, stream, start)) as payloads:
        async for payload in payloads:
            yield payload


async def logs(
    info: strawberry.Info,
    execution_id: strawberry.ID,
    after: str | None = None,
    min_level: enums.LogLevel | None = None,
) -> AsyncGenerator[LogEntry, None]:
    start = loop.start_of("lg", after)
    level = model.LogLevel.TRACE if min_level is None else model.LogLevel(min_level)
    ex_id, db = str(execution_id), services(info).db

    def keeps(line: changes.LogRow) -> bool:
        return line.execution_id == ex_id and line.level >= level

    stream = loop.RowStream(
        execution_id=ex_id,
        head=lambda subscriber: subscriber.log_head,
        read=lambda after_seq, first: stream_rows.logs(db, ex_id, after_seq, first, level),
        from_read=LogEntry.from_row,
        of_event=_logs,
        keeps=keeps,
        from_committed=LogEntry.from_committed,
    )
    async with aclosing(loop.follow(info, stream, start)) as payloads:
        async for payload in payloads:
            yield payload


def _states(event: pubsub.Event) -> tuple[changes.StateRow, ...]:
    return event.states


def _logs(event: pubsub.Event) -> tuple[changes.LogRow, ...]:
    return event.logs


async def execution_updated(
    info: strawberry.Info, id: strawberry.ID, after: str | None = None
) -> AsyncGenerator[ExecutionUpdate, None]:
    """A snapshot per committed change: the current one first (catch-up), then one load per
    live event that touched the execution, shared by every subscriber of the execution; a
    lagging subscriber's missed events coalesce into the next snapshot."""
    db, start, ex_id = services(info).db, loop.start_of("sc", after), str(id)
    await loop.must_exist(db, ex_id)
    broker, subscriber = loop.register(info, ex_id)

    async def fresh() -> snapshots.Snapshot | None:
        return await snapshots.load_snapshot(db, ex_id)

    try:
        last = subscriber.state_head if start == loop.HEAD else -1 if start is None else int(start)
        snapshot = await fresh()  # catch-up: the current snapshot
        while snapshot is not None:
            if snapshot.seq > last:
                yield ExecutionUpdate.from_snapshot(snapshot)
                last = snapshot.seq
            if snapshot.terminal:
                return
            event = await subscriber.get()
            if event is None:  # lagging: catch up from the database
                snapshot = await fresh()
            elif ex_id in event.deleted:
                return
            else:
                top = max((r.seq for r in event.states if r.execution_id == ex_id), default=0)
                if top > last:  # one load per committed change, shared by its subscribers
                    snapshot = await broker.shared(("snapshot", ex_id, top), fresh)
    finally:
        broker.unsubscribe(subscriber)
