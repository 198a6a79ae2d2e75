"""The `trigger_states` table of `MemoryStore`, with what `triggerstate.py` does on SQLite.

Rows are copied in and out, as SQLite's would be: the trigger runners change the rows they
hold (a Schedule's last execution id) after saving them.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from tercel.engine import changes, model, states
from tercel.engine.store import ExecutionEnd, StoredTrigger, TriggerKey

__all__ = ["TriggerTable", "copied", "ended_since", "set_disabled", "upsert"]

TriggerTable = dict[TriggerKey, StoredTrigger]


def upsert(table: TriggerTable, rows: Sequence[changes.TriggerStateRow]) -> None:
    """`triggerstate.upsert`: next date and definition replaced, `last_execution_id` and
    `watermark` only when given, the switch kept."""
    for row in rows:
        key = (row.namespace, row.flow_id, row.trigger_id)
        found = table.get(key)
        if found is None:
            table[key] = StoredTrigger(dataclasses.replace(row), False)
            continue
        last = row.last_execution_id
        mark = row.watermark
        stored = dataclasses.replace(
            row,
            last_execution_id=found.row.last_execution_id if last is None else last,
            watermark=found.row.watermark if mark is None else mark,
        )
        table[key] = StoredTrigger(stored, found.disabled)


def set_disabled(table: TriggerTable, key: TriggerKey, disabled: bool) -> None:
    """`triggerstate.set_disabled`: turning off forgets a Schedule's next date."""
    found = table.get(key)
    if found is None:
        table[key] = StoredTrigger(changes.TriggerStateRow(*key, None), disabled)
        return
    row = dataclasses.replace(found.row, next_date=None) if disabled else found.row
    table[key] = StoredTrigger(row, disabled)


def copied(table: TriggerTable) -> TriggerTable:
    return {key: StoredTrigger(dataclasses.replace(t.row), t.disabled) for key, t in table.items()}


def ended_since(
    executions: Mapping[str, model.Execution], rows: Iterable[changes.StateRow], seq: int
) -> list[ExecutionEnd]:
    """`triggerstate.ended_since` over the state-change rows (kept in `seq` order)."""
    found = []
    for row in rows:
        if row.seq <= seq or row.entity is not states.Entity.EXECUTION:
            continue
        ex = executions.get(row.execution_id)
        if ex is not None and row.state.is_terminated:
            outputs = copy.deepcopy(ex.outputs)
            found.append(
                ExecutionEnd(
                    row.seq, ex.id, ex.namespace, ex.flow_id, ex.flow_revision, row.state, outputs
                )
            )
    return found
