"""Reads of the two append-only logs the streams serve: state changes and execution logs.

Rows come back in `seq` order, `first + 1` at most (the extra row says a page has more), for the
polling queries and for the replay of the subscriptions alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, select

from tercel import clock
from tercel.engine import model
from tercel.storage import tables
from tercel.storage.read import connection, filters

__all__ = ["LogRow", "StateChangeRow", "StreamFilter", "head_seq", "logs", "state_changes"]

E = tables.table(tables.ExecutionTable)
SC = tables.table(tables.StateChangeTable)
LG = tables.table(tables.LogTable)


async def _rows(db: connection.Reader, statement: Select[Any]) -> Sequence[Any]:
    return await db.rows(statement)


@dataclass(frozen=True, slots=True)
class StateChangeRow:
    seq: int
    execution_id: str
    entity: str
    task_run_id: str | None
    attempt_number: int | None
    state: str
    previous: str | None
    date: datetime
    task_id: str | None
    value: str | None


@dataclass(frozen=True, slots=True)
class StreamFilter:
    """Narrows a state-change stream: execution attributes, entered states and entities."""

    namespace: str | None = None
    flow_id: str | None = None
    labels: Sequence[tuple[str, str | None]] = ()
    states: Sequence[str] | None = None
    entities: Sequence[str] | None = None

    def where(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.states is not None:
            found.append(SC.c.state.in_(list(self.states)))
        if self.entities is not None:
            found.append(SC.c.entity.in_(list(self.entities)))
        if self.namespace or self.flow_id is not None or self.labels:
            ex = filters.ExecutionFilter(
                namespace=self.namespace, flow_id=self.flow_id, labels=self.labels
            )
            found.append(exists(select(E.c.id).where(E.c.id == SC.c.execution_id, *ex.where())))
        return found


async def state_changes(
    db: connection.Reader, execution_id: str | None, after_seq: int, first: int, flt: StreamFilter
) -> list[StateChangeRow]:
    """Up to `first + 1` rows with `seq > after_seq`, in `seq` order."""
    statement = select(*(SC.c[c.name] for c in SC.columns)).where(SC.c.seq > after_seq)
    if execution_id is not None:
        statement = statement.where(SC.c.execution_id == execution_id)
    statement = statement.where(*flt.where()).order_by(SC.c.seq).limit(first + 1)
    return [
        StateChangeRow(
            r.seq, r.execution_id, r.entity, r.task_run_id, r.attempt_number, r.state, r.previous,
            clock.from_micros(r.date), r.task_id, r.value,
        )
        for r in await _rows(db, statement)
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class LogRow:
    seq: int
    execution_id: str
    task_run_id: str | None
    task_id: str | None
    attempt_number: int | None
    level: str
    message: str
    timestamp: datetime


async def logs(
    db: connection.Reader, execution_id: str, after_seq: int, first: int, min_level: model.LogLevel
) -> list[LogRow]:
    """Up to `first + 1` log rows of the execution with `seq > after_seq`, in `seq` order."""
    levels = [level.name for level in model.LogLevel if level >= min_level]
    statement = (
        select(*(LG.c[c.name] for c in LG.columns))
        .where(LG.c.execution_id == execution_id, LG.c.seq > after_seq, LG.c.level.in_(levels))
        .order_by(LG.c.seq)
        .limit(first + 1)
    )
    return [
        LogRow(r.seq, r.execution_id, r.task_run_id, r.task_id, r.attempt_number, r.level,
               r.message, clock.from_micros(r.timestamp))
        for r in await _rows(db, statement)
    ]  # fmt: skip


async def head_seq(db: connection.Reader, table: str) -> int:
    """The highest sequence number of `state_changes` or `logs` (0 when empty)."""
    source = SC if table == "state_changes" else LG
    rows = await _rows(db, select(func.coalesce(func.max(source.c.seq), 0)))
    return int(rows[0][0])
