"""Loading executions from rows: one query per table for a whole batch of executions.

Histories come from the append-only `state_changes` log, grouped by entity in memory, so the
number of statements does not depend on how many task runs, attempts or metrics there are.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from tercel import clock
from tercel.engine import changes, model, states
from tercel.engine.store import Loaded
from tercel.storage.codec import loads
from tercel.storage.histories import HistoryKey, history_key

__all__ = ["Loaded", "active_execution_ids", "load_executions", "load_timers", "marks"]

S = states.StateType
#: state name -> StateType (a dict lookup: `S(name)` costs an enum call per row)
_BY_VALUE = {state.value: state for state in S}


def marks(n: int) -> str:
    """`?,?,...`: the placeholders of an `IN (...)` list of n values."""
    return ",".join("?" * n)


def load_executions(conn: sqlite3.Connection, ids: Sequence[str]) -> Loaded:
    """The executions with these ids (unknown ids are left out), in the order given."""
    if not ids:
        return Loaded([])
    q = marks(len(ids))
    histories = _histories(conn, ids, q)
    metrics = _metrics(conn, ids, q)
    attempts: dict[str, list[model.Attempt]] = defaultdict(list)
    for tr_id, number in conn.execute(
        f"SELECT task_run_id, number FROM attempts WHERE execution_id IN ({q})"
        " ORDER BY task_run_id, number",
        ids,
    ):
        state = histories.get(("A", tr_id, number))
        if state is not None:
            attempts[tr_id].append(model.Attempt(number, state, metrics.get((tr_id, number), [])))
    runs: dict[str, list[model.TaskRun]] = defaultdict(list)
    plans: dict[str, dict[str, Any]] = {}
    for row in conn.execute(
        "SELECT id, execution_id, position, task_id, parent_task_run_id, value, iteration,"
        f" outputs, plan, attempts_count FROM task_runs WHERE execution_id IN ({q})"
        " ORDER BY execution_id, position",
        ids,
    ):
        tr_id, ex_id = row[0], row[1]
        state = histories[("T", tr_id, None)]
        runs[ex_id].append(
            model.TaskRun(
                id=tr_id,
                execution_id=ex_id,
                namespace="",
                flow_id="",
                task_id=row[3],
                state=state,
                position=row[2],
                parent_task_run_id=row[4],
                value=row[5],
                iteration=row[6],
                attempts=attempts.get(tr_id) or None,
                outputs=loads(row[7]),
            )
        )
        if row[8] is not None:
            plans[tr_id] = loads(row[8])
    found: dict[str, model.Execution] = {}
    for row in conn.execute(
        "SELECT id, namespace, flow_id, flow_revision, inputs, outputs, labels, variables,"
        " parent_id, original_id, attempt_number, original_created_date, trigger_info"
        f" FROM executions WHERE id IN ({q})",
        ids,
    ):
        ex = model.Execution(
            id=row[0],
            namespace=row[1],
            flow_id=row[2],
            flow_revision=row[3],
            state=histories[("E", row[0], None)],
            inputs=loads(row[4]),
            outputs=loads(row[5]),
            labels=[model.Label(k, v) for k, v in loads(row[6])],
            variables=loads(row[7]),
            parent_id=row[8],
            original_id=row[9],
            attempt_number=row[10],
            original_created_date=clock.from_micros(row[11]),
            trigger=loads(row[12]),
            task_runs=runs.get(row[0], []),
        )
        for tr in ex.task_runs:
            tr.namespace, tr.flow_id = ex.namespace, ex.flow_id
        found[ex.id] = ex
    return Loaded([found[i] for i in ids if i in found], plans)


def _histories(
    conn: sqlite3.Connection, ids: Sequence[str], q: str
) -> dict[HistoryKey, states.State]:
    entries: dict[HistoryKey, list[states.HistoryEntry]] = defaultdict(list)
    entry, by_value, instant = states.HistoryEntry, _BY_VALUE, clock.from_micros  # hot loop
    for ex_id, entity, tr_id, number, state, date in conn.execute(
        "SELECT execution_id, entity, task_run_id, attempt_number, state, date FROM state_changes"
        f" WHERE execution_id IN ({q}) ORDER BY seq",
        ids,
    ):
        entries[history_key(entity, ex_id, tr_id, number)].append(
            entry(by_value[state], instant(date))
        )
    return {key: states.State(tuple(value)) for key, value in entries.items()}


def _metrics(
    conn: sqlite3.Connection, ids: Sequence[str], q: str
) -> dict[tuple[str, int], list[model.Metric]]:
    found: dict[tuple[str, int], list[model.Metric]] = defaultdict(list)
    for tr_id, number, name, kind, value, tags, ts in conn.execute(
        "SELECT task_run_id, attempt_number, name, type, value, tags, timestamp FROM metrics"
        f" WHERE execution_id IN ({q}) ORDER BY task_run_id, attempt_number, position",
        ids,
    ):
        found[(tr_id, number)].append(
            model.Metric(name, kind, float(value), loads(tags), clock.from_micros(ts))
        )
    return found


def active_execution_ids(conn: sqlite3.Connection) -> list[str]:
    terminal = [s.value for s in states.TERMINAL]
    rows = conn.execute(
        f"SELECT id FROM executions WHERE state_current NOT IN ({marks(len(terminal))})"
        " ORDER BY start_date, id",
        terminal,
    )
    return [r[0] for r in rows]


def load_timers(
    conn: sqlite3.Connection, execution_id: str | None = None
) -> list[changes.TimerRow]:
    """Every timer, or those of one execution."""
    sql = "SELECT id, execution_id, kind, task_run_id, due, payload FROM timers"
    rows = (
        conn.execute(sql + " ORDER BY due")
        if execution_id is None
        else conn.execute(sql + " WHERE execution_id = ? ORDER BY due", (execution_id,))
    )
    return [
        changes.TimerRow(r[0], r[1], r[2], r[3], clock.from_micros(r[4]), loads(r[5])) for r in rows
    ]
