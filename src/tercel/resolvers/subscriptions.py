"""The `Subscription` root: each field delegates to its resolver in `live.streams`, where the
live streams, their shared loop, the fan-out and the websocket transport live together."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from tercel.resolvers.live import streams
from tercel.schema.streams import ExecutionUpdate, LogEntry, StateChange

__all__ = ["Subscription"]


@strawberry.type
class Subscription:
    state_changes: AsyncGenerator[StateChange, None] = strawberry.subscription(
        resolver=streams.state_changes,
        description="one event per appended history entry, in `sequence` order; with "
        "`executionId` it completes once the execution is terminal (committed)",
    )
    execution_updated: AsyncGenerator[ExecutionUpdate, None] = strawberry.subscription(
        resolver=streams.execution_updated,
        description="a snapshot after each committed change; completes after the terminal one",
    )
    logs: AsyncGenerator[LogEntry, None] = strawberry.subscription(
        resolver=streams.logs,
        description="one event per log line; completes once the execution is terminal",
    )
