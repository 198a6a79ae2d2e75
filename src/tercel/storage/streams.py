"""Async reads of the append-only logs (state changes, execution logs), flows and statistics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, select

from tercel import clock
from tercel.engine import model
from tercel.storage import filters, flowstore, readdb, tables

__all__ = [
    "LogRow",
    "StateChangeRow",
    "StatsBucket",
    "StreamFilter",
    "execution_stats",
    "flow_get",
    "flow_latest",
    "flow_revisions",
    "flows_latest",
    "head_seq",
    "logs",
    "namespaces",
    "state_changes",
]

E = tables.table(tables.ExecutionTable)
SC = tables.table(tables.StateChangeTable)
LG = tables.table(tables.LogTable)
F = tables.table(tables.FlowTable)
L = tables.table(tables.LabelTable)


async def _rows(db: readdb.Reader, statement: Select[Any]) -> Sequence[Any]:
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
    db: readdb.Reader, execution_id: str | None, after_seq: int, first: int, flt: StreamFilter
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
    db: readdb.Reader, execution_id: str, after_seq: int, first: int, min_level: model.LogLevel
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


# ------------------------------------------------------------------------------------ flows

_FLOW_COLUMNS = (F.c.namespace, F.c.id, F.c.revision, F.c.source, F.c.disabled, F.c.updated)


def _flow(row: Any) -> flowstore.FlowRow:
    return flowstore.FlowRow(
        row.namespace, row.id, row.revision, row.source, bool(row.disabled),
        clock.from_micros(row.updated),
    )  # fmt: skip


def _latest_revision() -> ColumnElement[Any]:
    g = F.alias("g")
    top = select(func.max(g.c.revision)).where(g.c.namespace == F.c.namespace, g.c.id == F.c.id)
    return F.c.revision == top.scalar_subquery()


async def flow_latest(db: readdb.Reader, namespace: str, flow_id: str) -> flowstore.FlowRow | None:
    statement = (
        select(*_FLOW_COLUMNS)
        .where(F.c.namespace == namespace, F.c.id == flow_id, F.c.deleted == 0)
        .order_by(F.c.revision.desc())
        .limit(1)
    )
    rows = await _rows(db, statement)
    return _flow(rows[0]) if rows else None


async def flows_latest(db: readdb.Reader, namespace: str | None) -> list[flowstore.FlowRow]:
    statement = select(*_FLOW_COLUMNS).where(F.c.deleted == 0, _latest_revision())
    if namespace:
        statement = statement.where(filters.namespace_predicate(F.c.namespace, namespace))
    return [_flow(r) for r in await _rows(db, statement.order_by(F.c.namespace, F.c.id))]


async def flow_revisions(
    db: readdb.Reader, namespace: str, flow_id: str
) -> list[flowstore.FlowRow]:
    statement = (
        select(*_FLOW_COLUMNS)
        .where(F.c.namespace == namespace, F.c.id == flow_id)
        .order_by(F.c.revision)
    )
    return [_flow(r) for r in await _rows(db, statement)]


async def namespaces(db: readdb.Reader) -> list[str]:
    """Namespaces of live flows and of executions, with their parent namespaces, sorted."""
    flow_ns = select(F.c.namespace).where(F.c.deleted == 0)
    statement = select(E.c.namespace).union(flow_ns)
    found: set[str] = set()
    for (name,) in await _rows(db, statement):  # type: ignore[arg-type]
        parts = name.split(".")
        found.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(found)


# ------------------------------------------------------------------------------------ stats


@dataclass(frozen=True, slots=True)
class StatsBucket:
    start: datetime
    counts: dict[str, int]  #: state -> executions started in the bucket


async def execution_stats(
    db: readdb.Reader, flt: filters.ExecutionFilter, bucket: timedelta
) -> tuple[list[StatsBucket], list[float]]:
    """Counts by state per start-date bucket, and the sorted durations (seconds) of ended runs."""
    width = max(1, int(bucket.total_seconds() * 1_000_000))
    start = (E.c.start_date // width) * width
    counted = (
        select(start.label("b"), E.c.state_current, func.count())
        .where(*flt.where())
        .group_by("b", E.c.state_current)
        .order_by("b")
    )
    buckets: dict[int, dict[str, int]] = {}
    ended = case((E.c.end_date.is_not(None), E.c.end_date - E.c.start_date))
    durations_q = select(ended).where(and_(*flt.where(), E.c.end_date.is_not(None))).order_by(ended)
    for b, state, count in await _rows(db, counted):
        buckets.setdefault(int(b), {})[state] = int(count)
    durations = [int(d) / 1e6 for (d,) in await _rows(db, durations_q)]
    found = [StatsBucket(clock.from_micros(b), counts) for b, counts in sorted(buckets.items())]
    return found, durations


async def head_seq(db: readdb.Reader, table: str) -> int:
    """The highest sequence number of `state_changes` or `logs` (0 when empty)."""
    source = SC if table == "state_changes" else LG
    rows = await _rows(db, select(func.coalesce(func.max(source.c.seq), 0)))
    return int(rows[0][0])


async def flow_get(
    db: readdb.Reader, namespace: str, flow_id: str, revision: int
) -> flowstore.FlowRow | None:
    statement = select(*_FLOW_COLUMNS).where(
        F.c.namespace == namespace, F.c.id == flow_id, F.c.revision == revision
    )
    rows = await _rows(db, statement)
    return _flow(rows[0]) if rows else None
