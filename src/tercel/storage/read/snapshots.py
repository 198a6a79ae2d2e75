"""A whole execution read fresh from the database, for `executionUpdated` snapshots."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from tercel.engine import model, states
from tercel.storage.histories import HistoryKey, history_key
from tercel.storage.read import connection, executions, rows, streams

__all__ = ["Snapshot", "load_snapshot"]

#: "everything", for the one unbounded read of a snapshot (an execution's own history)
_ALL = 1 << 40


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A whole execution read from the database, and the highest state-change `seq` it
    includes (its cursor)."""

    execution: model.Execution
    seq: int

    @property
    def terminal(self) -> bool:
        return self.execution.state.current.is_terminated


async def load_snapshot(db: connection.Reader, execution_id: str) -> Snapshot | None:
    """The whole execution, read fresh; None when it does not exist (any more).

    The history is read first: it gives the cursor and the committed state, and every later
    read (execution row, task runs, attempts, metrics) is at least as new, so a terminal
    snapshot carries its outputs. Task runs created after the history read are left out."""
    history = await streams.state_changes(db, execution_id, 0, _ALL, streams.StreamFilter())
    if not history:
        return None
    entries: dict[HistoryKey, list[states.HistoryEntry]] = {}
    for r in history:
        key = history_key(r.entity, r.execution_id, r.task_run_id, r.attempt_number)
        entries.setdefault(key, []).append(states.HistoryEntry(states.StateType(r.state), r.date))
    histories = {key: states.State(tuple(found)) for key, found in entries.items()}
    (row,), (runs,), (metrics,) = await asyncio.gather(
        executions.executions_by_id(db, [execution_id]),
        executions.task_runs_by_execution(db, [execution_id]),
        executions.metrics_by_execution(db, [execution_id]),
    )
    attempts = rows.attempt_numbers(histories)
    top = histories.get(("E", execution_id, None))
    if row is None or top is None:
        return None
    built = (rows.domain_task_run(run, histories, attempts, metrics) for run in runs)
    task_runs = [run for run in built if run is not None]  # None: newer than the history
    execution = model.Execution(
        id=row.id,
        namespace=row.namespace,
        flow_id=row.flow_id,
        flow_revision=row.flow_revision,
        state=top,
        inputs=row.inputs,
        outputs=row.outputs,
        labels=list(row.labels),
        parent_id=row.parent_id,
        original_id=row.original_id,
        attempt_number=row.attempt_number,
        original_created_date=row.original_created_date,
        trigger=row.trigger,
        task_runs=task_runs,
    )
    return Snapshot(execution, history[-1].seq)
