"""Reads of executions and task runs: pages with keyset cursors, counts, and batched loads.

Every batched load takes a list of execution ids and issues ONE `WHERE execution_id IN (...)`
statement, returning one value per id in the order given (the DataLoader contract), so the number
of statements of a request does not depend on page sizes or on how many task runs there are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, select

from tercel import clock
from tercel.engine import model, states
from tercel.storage import tables
from tercel.storage.codec import loads
from tercel.storage.histories import HistoryKey, history_key
from tercel.storage.read import connection, filters, pagination, rows

__all__ = [
    "HistoryKey",
    "Page",
    "count_executions",
    "count_task_runs",
    "execution_order",
    "executions_by_id",
    "executions_page",
    "histories_by_execution",
    "labels_by_execution",
    "metrics_by_execution",
    "task_run_order",
    "task_runs_by_execution",
    "task_runs_page",
]

R = TypeVar("R")
E = tables.table(tables.ExecutionTable)
T = tables.table(tables.TaskRunTable)
M = tables.table(tables.MetricTable)
SC = tables.table(tables.StateChangeTable)
L = tables.table(tables.LabelTable)


@dataclass(frozen=True, slots=True)
class Page(Generic[R]):
    edges: list[tuple[str, R]]  #: (cursor, row)
    has_next: bool


async def _rows(db: connection.Reader, statement: Select[Any]) -> Sequence[Any]:
    return await db.rows(statement)


# ------------------------------------------------------------------------------------ orders

_EXECUTION_KEYS: dict[str, tuple[ColumnElement[Any], bool]] = {
    "START_DATE": (E.c.start_date, False),
    "END_DATE": (E.c.end_date, True),
    "DURATION": (E.c.end_date - E.c.start_date, True),
    "NAMESPACE": (E.c.namespace, False),
    "FLOW_ID": (E.c.flow_id, False),
    "STATE": (E.c.state_current, False),
}
_TASK_RUN_KEYS: dict[str, tuple[ColumnElement[Any], bool]] = {
    "START_DATE": (T.c.start_date, False),
    "END_DATE": (T.c.end_date, True),
    "DURATION": (T.c.end_date - T.c.start_date, True),
    "STATE": (T.c.state_current, False),
}


def execution_order(field: str, descending: bool) -> pagination.Order:
    key, nullable = _EXECUTION_KEYS[field]
    return pagination.Order(field, descending, (key,), E.c.id, nullable)


def task_run_order(field: str, descending: bool) -> pagination.Order:
    if field == "CREATION":  # creation instant, then position within the execution
        return pagination.Order(field, descending, (T.c.start_date, T.c.position), T.c.id)
    key, nullable = _TASK_RUN_KEYS[field]
    return pagination.Order(field, descending, (key,), T.c.id, nullable)


def _paged(
    statement: Select[Any], order: pagination.Order, first: int, after: str | None
) -> Select[Any]:
    statement = statement.add_columns(*(k.label(f"_k{i}") for i, k in enumerate(order.keys)))
    if after is not None:
        value, row_id = order.decode(after)
        statement = statement.where(order.after(value, row_id))
    return statement.order_by(*order.order_by()).limit(first + 1)


def _page(found: Sequence[Any], order: pagination.Order, first: int, build: Any) -> Page[Any]:
    edges = []
    for row in found[:first]:
        value = pagination.sort_value([getattr(row, f"_k{i}") for i in range(len(order.keys))])
        edges.append((order.cursor(value, row.id), build(row)))
    return Page(edges, len(found) > first)


# ------------------------------------------------------------------------------------ pages


def _execution_select() -> Select[Any]:
    return select(*(E.c[name] for name in rows.EXECUTION_COLUMNS))


def _task_run_select() -> Select[Any]:
    columns = [T.c[name] for name in rows.TASK_RUN_COLUMNS]
    joined = T.join(E, E.c.id == T.c.execution_id)
    return select(*columns, E.c.namespace, E.c.flow_id).select_from(joined)


async def executions_page(
    db: connection.Reader,
    flt: filters.ExecutionFilter,
    order: pagination.Order,
    first: int,
    after: str | None,
) -> Page[rows.ExecutionRow]:
    """Raises pagination.CursorError for a bad `after`."""
    statement = _paged(_execution_select().where(*flt.where()), order, first, after)
    return _page(await _rows(db, statement), order, first, rows.execution_row)


async def count_executions(db: connection.Reader, flt: filters.ExecutionFilter) -> int:
    counted = await _rows(db, select(func.count()).select_from(E).where(*flt.where()))
    return int(counted[0][0])


async def task_runs_page(
    db: connection.Reader,
    flt: filters.TaskRunFilter,
    order: pagination.Order,
    first: int,
    after: str | None,
) -> Page[rows.TaskRunRow]:
    statement = _paged(_task_run_select().where(*flt.where()), order, first, after)
    return _page(await _rows(db, statement), order, first, rows.task_run_row)


async def count_task_runs(db: connection.Reader, flt: filters.TaskRunFilter) -> int:
    joined = T.join(E, E.c.id == T.c.execution_id)
    counted = await _rows(db, select(func.count()).select_from(joined).where(*flt.where()))
    return int(counted[0][0])


# ------------------------------------------------------------------------------------ batches


async def executions_by_id(
    db: connection.Reader, ids: Sequence[str]
) -> list[rows.ExecutionRow | None]:
    selected = await _rows(db, _execution_select().where(E.c.id.in_(list(ids))))
    found = {row.id: rows.execution_row(row) for row in selected}
    return [found.get(i) for i in ids]


async def task_runs_by_execution(
    db: connection.Reader, ids: Sequence[str]
) -> list[list[rows.TaskRunRow]]:
    sql = (
        "SELECT t.id, t.execution_id, e.namespace, e.flow_id, t.position, t.task_id,"
        " t.parent_task_run_id, t.value, t.iteration, t.state_current, t.start_date, t.outputs"
        " FROM task_runs t JOIN executions e ON e.id = t.execution_id"
        f" WHERE t.execution_id IN ({connection.marks(len(ids))})"
        " ORDER BY t.execution_id, t.position"
    )
    found: dict[str, list[rows.TaskRunRow]] = defaultdict(list)
    for r in await db.fetch(sql, ids):
        # the columns in TaskRunRow's order; the start date and outputs decoded
        run = rows.TaskRunRow(
            r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9],
            clock.from_micros(r[10]), loads(r[11]),
        )  # fmt: skip
        found[run.execution_id].append(run)
    return [found.get(i, []) for i in ids]


async def metrics_by_execution(
    db: connection.Reader, ids: Sequence[str]
) -> list[dict[tuple[str, int], list[model.Metric]]]:
    """Per execution: (task run id, attempt number) -> metrics in recording order."""
    statement = (
        select(M.c.execution_id, M.c.task_run_id, M.c.attempt_number, M.c.name, M.c.type,
               M.c.value, M.c.tags, M.c.timestamp)
        .where(M.c.execution_id.in_(list(ids)))
        .order_by(M.c.task_run_id, M.c.attempt_number, M.c.position)
    )  # fmt: skip
    found: dict[str, dict[tuple[str, int], list[model.Metric]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for ex_id, tr_id, number, name, kind, value, tags, ts in await _rows(db, statement):
        metric = model.Metric(name, kind, float(value), loads(tags), clock.from_micros(ts))
        found[ex_id][(tr_id, number)].append(metric)
    return [dict(found.get(i, {})) for i in ids]


_STATES = {state.value: state for state in states.StateType}


async def histories_by_execution(
    db: connection.Reader, ids: Sequence[str]
) -> list[dict[HistoryKey, states.State]]:
    """Per execution: the state (with its full history) of the execution and of every task run
    and attempt, from the append-only `state_changes` log (read in index order)."""
    sql = (
        "SELECT execution_id, entity, task_run_id, attempt_number, state, date FROM state_changes"
        f" WHERE execution_id IN ({connection.marks(len(ids))}) ORDER BY execution_id, seq"
    )
    found: dict[str, dict[HistoryKey, list[states.HistoryEntry]]] = {}
    entries: dict[HistoryKey, list[states.HistoryEntry]] = {}
    current = None
    #: one commit stamps several rows with the same instant: decode each instant once
    dates: dict[int, datetime] = {}
    for ex_id, entity, tr_id, number, state, date in await db.fetch(sql, ids):
        if ex_id != current:
            current, entries = ex_id, found.setdefault(ex_id, {})
        key = history_key(entity, ex_id, tr_id, number)
        when = dates.get(date)
        if when is None:
            when = dates[date] = clock.from_micros(date)
        history = entries.get(key)
        if history is None:
            history = entries[key] = []
        history.append(states.HistoryEntry(_STATES[state], when))
    return [
        {key: states.State(tuple(value)) for key, value in found.get(i, {}).items()} for i in ids
    ]


async def labels_by_execution(db: connection.Reader, ids: Sequence[str]) -> list[list[model.Label]]:
    statement = (
        select(L.c.execution_id, L.c.key, L.c.value)
        .where(L.c.execution_id.in_(list(ids)))
        .order_by(L.c.execution_id, L.c.position)
    )
    found: dict[str, list[model.Label]] = defaultdict(list)
    for ex_id, key, value in await _rows(db, statement):
        found[ex_id].append(model.Label(key, value))
    return [found.get(i, []) for i in ids]
