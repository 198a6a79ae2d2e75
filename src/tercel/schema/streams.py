"""Event types shared by the polling queries and the subscriptions: state changes, logs,
execution snapshots; and the dashboard statistics."""

from __future__ import annotations

import strawberry

from tercel.engine import model, states
from tercel.schema import enums, types
from tercel.schema.scalars import DateTime, Duration
from tercel.storage import pagination
from tercel.storage import streams as rows

__all__ = [
    "ExecutionStats",
    "ExecutionUpdate",
    "LogEntry",
    "StateChange",
    "StateCount",
    "StatsBucket",
    "log_cursor",
    "state_cursor",
]


def state_cursor(seq: int) -> str:
    return pagination.seq_cursor("sc", seq)


def log_cursor(seq: int) -> str:
    return pagination.seq_cursor("lg", seq)


@strawberry.type
class StateChange:
    cursor: str
    sequence: int
    entity: enums.StateEntity
    execution_id: strawberry.ID
    task_run_id: strawberry.ID | None
    attempt_number: int | None
    state: enums.StateType
    previous: enums.StateType | None
    date: DateTime
    task_id: str | None
    value: str | None

    @classmethod
    def from_row(cls, row: rows.StateChangeRow) -> StateChange:
        previous = None if row.previous is None else states.StateType(row.previous)
        return cls(
            cursor=state_cursor(row.seq),
            sequence=row.seq,
            entity=states.Entity(row.entity),
            execution_id=strawberry.ID(row.execution_id),
            task_run_id=None if row.task_run_id is None else strawberry.ID(row.task_run_id),
            attempt_number=row.attempt_number,
            state=states.StateType(row.state),
            previous=previous,
            date=DateTime(row.date),
            task_id=row.task_id,
            value=row.value,
        )


@strawberry.type
class LogEntry:
    cursor: str
    sequence: int
    execution_id: strawberry.ID
    task_run_id: strawberry.ID | None
    task_id: str | None
    attempt_number: int | None
    level: enums.LogLevel
    message: str
    timestamp: DateTime

    @classmethod
    def from_row(cls, row: rows.LogRow) -> LogEntry:
        return cls(
            cursor=log_cursor(row.seq),
            sequence=row.seq,
            execution_id=strawberry.ID(row.execution_id),
            task_run_id=None if row.task_run_id is None else strawberry.ID(row.task_run_id),
            task_id=row.task_id,
            attempt_number=row.attempt_number,
            level=model.LogLevel[row.level],
            message=row.message,
            timestamp=DateTime(row.timestamp),
        )


@strawberry.type
class ExecutionUpdate:
    cursor: str
    execution: types.Execution


@strawberry.type
class StateCount:
    state: enums.StateType
    count: int


@strawberry.type
class StatsBucket:
    start: DateTime
    counts: list[StateCount]
    total: int


@strawberry.type
class ExecutionStats:
    buckets: list[StatsBucket]
    #: executions that have ended, among those matching the filter
    ended: int
    p50: Duration | None
    p90: Duration | None
    p99: Duration | None
    max: Duration | None
