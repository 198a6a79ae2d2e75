"""The `StateChangeFilter` applied to live rows (`Matcher`), as `StreamFilter.where()` applies
it in SQL to the replayed ones."""

from __future__ import annotations

from tercel.engine import changes
from tercel.engine.runtime import pubsub
from tercel.storage.read import connection, executions, rows
from tercel.storage.read import streams as stream_rows

__all__ = ["Matcher"]

#: execution attributes remembered per filtered global stream
_ATTRIBUTES = 10_000


class Matcher:
    """`StateChangeFilter` applied to live rows, as `StreamFilter.where()` does in SQL."""

    def __init__(self, db: connection.Reader, flt: stream_rows.StreamFilter) -> None:
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
            found = await executions.executions_by_id(self.db, missing)
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


def _attributes(row: rows.ExecutionRow) -> pubsub.Attributes:
    labels = tuple((lb.key, lb.value) for lb in row.labels)
    return pubsub.Attributes(row.namespace, row.flow_id, labels)
