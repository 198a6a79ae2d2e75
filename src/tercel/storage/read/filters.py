"""Search filters of executions and task runs as SQL predicates (docs/semantics.md#queries).

Plain values built by the resolvers from the GraphQL inputs; every predicate is backed by an index
of the migration. Dates are UTC-aware datetimes; ranges are `gte` inclusive, `lt` exclusive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, exists, func, or_, select

from tercel import clock
from tercel.storage import tables

__all__ = ["DateRange", "ExecutionFilter", "TaskRunFilter", "escape_like", "namespace_predicate"]

E = tables.table(tables.ExecutionTable)
T = tables.table(tables.TaskRunTable)
L = tables.table(tables.LabelTable)


@dataclass(frozen=True, slots=True)
class DateRange:
    gte: datetime | None = None
    lt: datetime | None = None

    def predicates(self, column: ColumnElement[Any]) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.gte is not None:
            found.append(column >= clock.to_micros(self.gte))
        if self.lt is not None:
            found.append(column < clock.to_micros(self.lt))
        return found


@dataclass(frozen=True, slots=True)
class ExecutionFilter:
    namespace: str | None = None
    namespace_equals: str | None = None
    flow_id: str | None = None
    states: Sequence[str] | None = None
    states_not_in: Sequence[str] | None = None
    #: (key, value) pairs that must all match; value None: the key is present
    labels: Sequence[tuple[str, str | None]] = ()
    start_date: DateRange = field(default_factory=DateRange)
    end_date: DateRange = field(default_factory=DateRange)
    q: str | None = None
    parent_id: str | None = None
    original_id: str | None = None

    def where(self) -> list[ColumnElement[bool]]:
        found = _common(E, self.namespace, self.namespace_equals, self.flow_id)
        found += _states(E.c.state_current, self.states, self.states_not_in)
        for key, value in self.labels:
            match = and_(L.c.execution_id == E.c.id, L.c.key == key)
            if value is not None:
                match = and_(match, L.c.value == value)
            found.append(exists(select(L.c.execution_id).where(match)))
        found += self.start_date.predicates(E.c.start_date)
        found += self.end_date.predicates(E.c.end_date)
        if self.q:
            pattern = f"%{escape_like(self.q)}%"
            found.append(or_(*(_like(c, pattern) for c in (E.c.id, E.c.namespace, E.c.flow_id))))
        if self.parent_id is not None:
            found.append(E.c.parent_id == self.parent_id)
        if self.original_id is not None:
            found.append(E.c.original_id == self.original_id)
        return found


@dataclass(frozen=True, slots=True)
class TaskRunFilter:
    execution_id: str | None = None
    task_id: str | None = None
    parent_task_run_id: str | None = None
    states: Sequence[str] | None = None
    states_not_in: Sequence[str] | None = None
    namespace: str | None = None
    namespace_equals: str | None = None
    flow_id: str | None = None
    start_date: DateRange = field(default_factory=DateRange)
    end_date: DateRange = field(default_factory=DateRange)
    q: str | None = None

    def where(self) -> list[ColumnElement[bool]]:
        """Predicates over `task_runs` joined with `executions`."""
        found = _common(E, self.namespace, self.namespace_equals, self.flow_id)
        found += _states(T.c.state_current, self.states, self.states_not_in)
        if self.execution_id is not None:
            found.append(T.c.execution_id == self.execution_id)
        if self.task_id is not None:
            found.append(T.c.task_id == self.task_id)
        if self.parent_task_run_id is not None:
            found.append(T.c.parent_task_run_id == self.parent_task_run_id)
        found += self.start_date.predicates(T.c.start_date)
        found += self.end_date.predicates(T.c.end_date)
        if self.q:
            pattern = f"%{escape_like(self.q)}%"
            found.append(or_(_like(T.c.task_id, pattern), _like(T.c.value, pattern)))
        return found


def escape_like(text: str) -> str:
    """`text` for a LIKE pattern with `\\` as the escape: `%`, `_` and `\\` match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(column: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
    # lower() on both sides: case-insensitive beyond ASCII as far as SQLite's lower() goes
    return func.lower(column).like(pattern.lower(), escape="\\")


def namespace_predicate(column: ColumnElement[Any], namespace: str) -> ColumnElement[bool]:
    """The namespace and its sub-namespaces, segment-wise (`a.b` matches `a.b.c`, not `a.bc`)."""
    return or_(column == namespace, column.like(escape_like(namespace) + ".%", escape="\\"))


def _common(
    table: Table, namespace: str | None, equals: str | None, flow_id: str | None
) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if namespace:
        found.append(namespace_predicate(table.c.namespace, namespace))
    if equals is not None:
        found.append(table.c.namespace == equals)
    if flow_id is not None:
        found.append(table.c.flow_id == flow_id)
    return found


def _states(
    column: ColumnElement[Any], states: Sequence[str] | None, not_in: Sequence[str] | None
) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if states is not None:
        found.append(column.in_(list(states)))
    if not_in:
        found.append(column.not_in(list(not_in)))
    return found
