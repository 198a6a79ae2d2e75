"""The `trigger_states` table (one row per trigger, migration 0002) and the reads of the
trigger runners: the `Store`'s trigger methods on SQLite.

`upsert` runs inside the writer's commit (`sqlite._write`) when a triggered execution carries its
trigger's new state, so the execution and the next date are one transaction; `save` is the same
write on its own (a first date, a skipped late date, a watermark) for the writer thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from tercel import clock
from tercel.engine import changes, states
from tercel.engine.store import ExecutionEnd, StoredTrigger, TriggerKey
from tercel.storage.codec import loads, micros_or_none

__all__ = ["ended_since", "load_all", "save", "set_disabled", "switched_off", "upsert"]


def upsert(conn: sqlite3.Connection, rows: Sequence[changes.TriggerStateRow]) -> None:
    """Insert or update the next date and definition; `last_execution_id` only when given."""
    conn.executemany(
        "INSERT INTO trigger_states (namespace, flow_id, trigger_id, next_date, definition,"
        " last_execution_id, watermark) VALUES (?,?,?,?,?,?,?)"
        " ON CONFLICT (namespace, flow_id, trigger_id)"
        " DO UPDATE SET next_date = excluded.next_date, definition = excluded.definition,"
        " last_execution_id = coalesce(excluded.last_execution_id, last_execution_id),"
        " watermark = coalesce(excluded.watermark, watermark)",
        [
            (
                row.namespace,
                row.flow_id,
                row.trigger_id,
                micros_or_none(row.next_date),
                row.definition,
                row.last_execution_id,
                row.watermark,
            )
            for row in rows
        ],
    )


def save(conn: sqlite3.Connection, rows: Sequence[changes.TriggerStateRow]) -> None:
    """`upsert` in a transaction of its own."""
    _in_transaction(conn, lambda: upsert(conn, rows))


def set_disabled(
    conn: sqlite3.Connection, namespace: str, flow_id: str, trigger_id: str, disabled: bool
) -> None:
    """The switch; turning off forgets a Schedule's next date (the runner does the same)."""

    def write() -> None:
        conn.execute(
            "INSERT INTO trigger_states (namespace, flow_id, trigger_id, disabled)"
            " VALUES (?,?,?,?) ON CONFLICT (namespace, flow_id, trigger_id)"
            " DO UPDATE SET disabled = excluded.disabled,"
            " next_date = CASE WHEN excluded.disabled = 1 THEN NULL ELSE next_date END",
            (namespace, flow_id, trigger_id, int(disabled)),
        )

    _in_transaction(conn, write)


def ended_since(conn: sqlite3.Connection, seq: int) -> list[ExecutionEnd]:
    """Every execution end after `seq`, in log order (executions deleted since are left out)."""
    terminal = [s.value for s in states.StateType if s.is_terminated]
    marks = ",".join("?" * len(terminal))
    rows = conn.execute(
        "SELECT c.seq, e.id, e.namespace, e.flow_id, e.flow_revision, c.state, e.outputs"
        " FROM state_changes c JOIN executions e ON e.id = c.execution_id"
        f" WHERE c.seq > ? AND c.entity = 'EXECUTION' AND c.state IN ({marks}) ORDER BY c.seq",
        (seq, *terminal),
    )
    return [
        ExecutionEnd(s, i, ns, f, rev, states.StateType(st), loads(out))
        for s, i, ns, f, rev, st, out in rows
    ]


def switched_off(conn: sqlite3.Connection) -> set[TriggerKey]:
    """The triggers turned off by `setTriggerDisabled`."""
    return {
        (ns, flow_id, trigger_id)
        for ns, flow_id, trigger_id in conn.execute(
            "SELECT namespace, flow_id, trigger_id FROM trigger_states WHERE disabled = 1"
        )
    }


def load_all(conn: sqlite3.Connection) -> dict[TriggerKey, StoredTrigger]:
    found: dict[TriggerKey, StoredTrigger] = {}
    for ns, flow_id, trigger_id, next_date, definition, disabled, last, mark in conn.execute(
        "SELECT namespace, flow_id, trigger_id, next_date, definition, disabled,"
        " last_execution_id, watermark FROM trigger_states"
    ):
        date = None if next_date is None else clock.from_micros(next_date)
        row = changes.TriggerStateRow(ns, flow_id, trigger_id, date, definition, last, mark)
        found[(ns, flow_id, trigger_id)] = StoredTrigger(row, bool(disabled))
    return found


def _in_transaction(conn: sqlite3.Connection, write: Callable[[], None]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        write()
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # never leave the writer's connection inside a transaction
            conn.execute("ROLLBACK")
        raise
