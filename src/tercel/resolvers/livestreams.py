"""What the live streams read or test besides the rows themselves: the `StateChangeFilter`
applied to live rows (`Matcher`), and whole-execution snapshots (`load_snapshot`)."""

from __future__ import annotations

import asyncio

from tercel.engine import changes, model, states
from tercel.engine.runtime import pubsub
from tercel.schema import subscriptions as payloads
from tercel.storage import queries, readdb
from tercel.storage import streams as stream_rows
from tercel.storage.histories import history_key

__all__ = ["Matcher", "load_snapshot"]

#: execution attributes remembered per filtered global stream
_ATTRIBUTES = 10_000
#: "everything", for the one unbounded read of a snapshot (an execution's own history)
_ALL = 1 << 40


class Matcher:
    """`StateChangeFilter` applied to live rows, as `StreamFilter.where()` does in SQL."""

    def __init__(self, db: readdb.Reader, flt: stream_rows.StreamFilter) -> None:
        self.db, self.flt = db, flt
        self.states = None if flt.states is None else frozenset(flt.states)
        self.entities = None if flt.entities is None else frozenset(flt.entities)
        self.by_attributes = bool(flt.namespace or flt.flow_id is not None or flt.labels)
        self._known: dict[str, pubsub.Attributes | None] = {}

    async def prepare(self, event: pubsub.Event) -> None:
        """Learn the attributes of the executions of `event`'s rows (one read when needed)."""
        if not self.by_attributes:
            return
        if len(self._known) > _ATTRIBUTES:
            self._known.clear()
        self._known.update(event.attributes)
        missing = list({r.execution_id for r in event.states} - self._known.keys())
        if missing:
            found = await queries.executions_by_id(self.db, missing)
            for execution_id, row in zip(missing, found, strict=True):
                self._known[execution_id] = None if row is None else _attributes(row)

    def __call__(self, row: changes.StateRow) -> bool:
        if self.states is not None and row.state.value not in self.states:
            return False
        if self.entities is not None and row.entity.value not in self.entities:
            return False
        if not self.by_attributes:
            return True
        found = self._known.get(row.execution_id)
        if found is None:
            return False
        flt = self.flt
        if flt.namespace and not (
            found.namespace == flt.namespace or found.namespace.startswith(flt.namespace + ".")
        ):
            return False
        if flt.flow_id is not None and found.flow_id != flt.flow_id:
            return False
        return all(
            any(k == key and (value is None or v == value) for k, v in found.labels)
            for key, value in flt.labels
        )


def _attributes(row: readdb.ExecutionRow) -> pubsub.Attributes:
    labels = tuple((lb.key, lb.value) for lb in row.labels)
    return pubsub.Attributes(row.namespace, row.flow_id, labels)


async def load_snapshot(db: readdb.Reader, execution_id: str) -> payloads.Snapshot | None:
    """The whole execution, read fresh; None when it does not exist (any more).

    The history is read first: it gives the cursor and the committed state, and every later
    read (execution row, task runs, attempts, metrics) is at least as new, so a terminal
    snapshot carries its outputs. Task runs created after the history read are left out."""
    history = await stream_rows.state_changes(db, execution_id, 0, _ALL, stream_rows.StreamFilter())
    if not history:
        return None
    entries: dict[queries.HistoryKey, list[states.HistoryEntry]] = {}
    for r in history:
        key = history_key(r.entity, r.execution_id, r.task_run_id, r.attempt_number)
        entries.setdefault(key, []).append(states.HistoryEntry(states.StateType(r.state), r.date))
    histories = {key: states.State(tuple(found)) for key, found in entries.items()}
    (row,), (runs,), (metrics,) = await asyncio.gather(
        queries.executions_by_id(db, [execution_id]),
        queries.task_runs_by_execution(db, [execution_id]),
        queries.metrics_by_execution(db, [execution_id]),
    )
    attempts = readdb.attempt_numbers(histories)
    top = histories.get(("E", execution_id, None))
    if row is None or top is None:
        return None
    built = (readdb.domain_task_run(run, histories, attempts, metrics) for run in runs)
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
    return payloads.Snapshot(execution, history[-1].seq)
