"""Event types shared by the polling queries and the subscriptions: state changes, logs and
execution snapshots, with the same cursors everywhere.

Each type is built from what the storage's read side returns (`from_row`, `from_snapshot`) and
from what the broker hands out after a commit (`from_committed`: the engine's rows). Every
payload is self-contained plain data: nested resolvers never read through the (per-connection)
context, so one payload object can be shared by every subscriber (see `resolvers.live.fanout`).
"""

from __future__ import annotations

import strawberry

from tercel.engine import changes, model, states
from tercel.engine.runtime import pubsub
from tercel.schema import enums, types
from tercel.schema.scalars import DateTime
from tercel.storage.read import pagination, snapshots
from tercel.storage.read import streams as rows

__all__ = ["ExecutionUpdate", "LogEntry", "StateChange", "log_cursor", "state_cursor"]


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
    execution: types.Execution | None = strawberry.field(
        default=None,
        description=(
            "on an execution's first entry (CREATED), streamed live: the execution as the "
            "commit that created it wrote it, so a list can show the new row without a query; "
            "null on every other entry, on replayed ones and in `Query.stateChanges` (read "
            "`execution(id)`)"
        ),
    )

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

    @classmethod
    def from_committed(cls, row: changes.StateRow, event: pubsub.Event) -> StateChange:
        """A committed history entry (from the broker), as `Query.stateChanges` maps it, with
        the created execution on its first entry when the event carries it."""
        change = cls._of_committed(row)
        created = event.created.get(row.execution_id)
        if created is not None and row.entity is states.Entity.EXECUTION and row.previous is None:
            change.execution = types.Execution.from_domain(created)
        return change

    @classmethod
    def _of_committed(cls, row: changes.StateRow) -> StateChange:
        return cls.from_row(
            rows.StateChangeRow(
                seq=row.seq,
                execution_id=row.execution_id,
                entity=row.entity.value,
                task_run_id=row.task_run_id,
                attempt_number=row.attempt_number,
                state=row.state.value,
                previous=None if row.previous is None else row.previous.value,
                date=row.date,
                task_id=row.task_id,
                value=row.value,
            )
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

    @classmethod
    def from_committed(cls, row: changes.LogRow, event: pubsub.Event) -> LogEntry:
        """A committed log line (from the broker), exactly as `Query.logs` maps it (its event
        adds nothing)."""
        return cls.from_row(
            rows.LogRow(
                seq=row.seq,
                execution_id=row.execution_id,
                task_run_id=row.task_run_id,
                task_id=row.task_id,
                attempt_number=row.attempt_number,
                level=model.LogLevel(row.level).name,
                message=row.message,
                timestamp=row.timestamp,
            )
        )


@strawberry.type
class ExecutionUpdate:
    cursor: str
    execution: types.Execution

    @classmethod
    def from_snapshot(cls, snapshot: snapshots.Snapshot) -> ExecutionUpdate:
        return cls(
            cursor=state_cursor(snapshot.seq),
            execution=types.Execution.from_domain(snapshot.execution),
        )
