"""Reads of flow revisions for the API: the latest revision of a flow, of every flow (by
namespace), every revision of one, and the namespaces in use. (Deploys, deletions and the
disabled flag are written by the engine's writer: `storage.flowstore`, `storage.flowadmin`.)"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from tercel import clock
from tercel.storage import flowstore, tables
from tercel.storage.read import connection, filters

__all__ = ["flow_get", "flow_latest", "flow_revisions", "flows_latest", "namespaces"]

E = tables.table(tables.ExecutionTable)
F = tables.table(tables.FlowTable)


async def _rows(db: connection.Reader, statement: Select[Any]) -> Sequence[Any]:
    return await db.rows(statement)


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


async def flow_latest(
    db: connection.Reader, namespace: str, flow_id: str
) -> flowstore.FlowRow | None:
    statement = (
        select(*_FLOW_COLUMNS)
        .where(F.c.namespace == namespace, F.c.id == flow_id, F.c.deleted == 0)
        .order_by(F.c.revision.desc())
        .limit(1)
    )
    rows = await _rows(db, statement)
    return _flow(rows[0]) if rows else None


async def flows_latest(db: connection.Reader, namespace: str | None) -> list[flowstore.FlowRow]:
    statement = select(*_FLOW_COLUMNS).where(F.c.deleted == 0, _latest_revision())
    if namespace:
        statement = statement.where(filters.namespace_predicate(F.c.namespace, namespace))
    return [_flow(r) for r in await _rows(db, statement.order_by(F.c.namespace, F.c.id))]


async def flow_revisions(
    db: connection.Reader, namespace: str, flow_id: str
) -> list[flowstore.FlowRow]:
    statement = (
        select(*_FLOW_COLUMNS)
        .where(F.c.namespace == namespace, F.c.id == flow_id)
        .order_by(F.c.revision)
    )
    return [_flow(r) for r in await _rows(db, statement)]


async def namespaces(db: connection.Reader) -> list[str]:
    """Namespaces of live flows and of executions, with their parent namespaces, sorted."""
    flow_ns = select(F.c.namespace).where(F.c.deleted == 0)
    statement = select(E.c.namespace).union(flow_ns)
    found: set[str] = set()
    for (name,) in await _rows(db, statement):  # type: ignore[arg-type]
        parts = name.split(".")
        found.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(found)


async def flow_get(
    db: connection.Reader, namespace: str, flow_id: str, revision: int
) -> flowstore.FlowRow | None:
    statement = select(*_FLOW_COLUMNS).where(
        F.c.namespace == namespace, F.c.id == flow_id, F.c.revision == revision
    )
    rows = await _rows(db, statement)
    return _flow(rows[0]) if rows else None
