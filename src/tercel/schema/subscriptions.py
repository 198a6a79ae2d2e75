"""Subscription payloads: the engine's committed rows and execution snapshots as GraphQL types.

The event types themselves (`StateChange`, `LogEntry`, `ExecutionUpdate`) are shared with the
polling twins (`schema.streams`); this module maps what the broker hands out (engine rows) and
what a snapshot load returns onto them, with the same cursors as the polling queries. Every
payload is self-contained: nested resolvers never read through the (per-connection) context.
"""

from __future__ import annotations

from dataclasses import dataclass

from tercel.engine import changes, model
from tercel.schema import types
from tercel.schema.streams import ExecutionUpdate, LogEntry, StateChange, state_cursor
from tercel.storage import streams as rows

__all__ = [
    "ExecutionUpdate",
    "LogEntry",
    "Snapshot",
    "StateChange",
    "execution_update",
    "log_entry",
    "state_change",
]


def state_change(row: changes.StateRow) -> StateChange:
    """A committed history entry (from the broker), exactly as `Query.stateChanges` maps it."""
    return StateChange.from_row(
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


def log_entry(row: changes.LogRow) -> LogEntry:
    """A committed log line (from the broker), exactly as `Query.logs` maps it."""
    return LogEntry.from_row(
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


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A whole execution read from the database, and the highest state-change `seq` it
    includes (its cursor)."""

    execution: model.Execution
    seq: int

    @property
    def terminal(self) -> bool:
        return self.execution.state.current.is_terminated


def execution_update(snapshot: Snapshot) -> ExecutionUpdate:
    return ExecutionUpdate(
        cursor=state_cursor(snapshot.seq), execution=types.Execution.from_domain(snapshot.execution)
    )
