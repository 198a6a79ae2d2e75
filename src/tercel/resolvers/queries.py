"""Query resolvers (thin: parse arguments, call a read query, map) and the `Query` root."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from typing import TypeVar

import strawberry

from tercel.engine import model
from tercel.schema import connections as conn
from tercel.schema import enums, inputs, stats, types
from tercel.schema.context import loaders, services
from tercel.schema.errors import BadUserInput
from tercel.schema.flowtypes import Flow
from tercel.schema.scalars import Duration
from tercel.storage.read import executions as reads
from tercel.storage.read import flows as flow_reads
from tercel.storage.read import pagination
from tercel.storage.read import stats as stats_reads
from tercel.storage.read import streams as stream_rows

__all__ = ["Query", "page_size"]

T = TypeVar("T")
_HOUR = Duration(timedelta(hours=1))


def page_size(info: strawberry.Info, first: int | None, default: int) -> int:
    """`first` checked against 0..page_max (never clamped: out of range is BAD_USER_INPUT)."""
    limit = services(info).settings.limits.page_max
    if first is None:
        return default
    if not 0 <= first <= limit:
        raise BadUserInput(f"`first` must be between 0 and {limit}, got {first}")
    return first


async def _checked(call: Awaitable[T]) -> T:
    try:
        return await call
    except pagination.CursorError as error:
        raise BadUserInput(str(error)) from None


async def execution(info: strawberry.Info, id: strawberry.ID) -> types.Execution | None:
    row = await loaders(info).executions.load(id)
    return None if row is None else types.Execution.from_row(row)


async def executions(
    info: strawberry.Info,
    filter: inputs.ExecutionFilter | None = None,
    first: int | None = None,
    after: str | None = None,
    order_by: inputs.ExecutionOrder | None = None,
) -> conn.ExecutionConnection:
    svc, n = services(info), page_size(info, first, 20)
    flt = (filter or inputs.ExecutionFilter()).to_filter(svc.engine.clock.now())
    order = (order_by or inputs.ExecutionOrder()).to_order()
    page = await _checked(reads.executions_page(svc.db, flt, order, n, after))
    return conn.ExecutionConnection.of(page, after, lambda: reads.count_executions(svc.db, flt))


async def task_runs(
    info: strawberry.Info,
    filter: inputs.TaskRunFilter | None = None,
    first: int | None = None,
    after: str | None = None,
    order_by: inputs.TaskRunOrder | None = None,
) -> conn.TaskRunConnection:
    svc, n = services(info), page_size(info, first, 20)
    flt = (filter or inputs.TaskRunFilter()).to_filter()
    order = (order_by or inputs.TaskRunOrder()).to_order()
    page = await _checked(reads.task_runs_page(svc.db, flt, order, n, after))
    runs = await types.task_runs_of(loaders(info), [row for _, row in page.edges])
    return conn.TaskRunConnection.of(page, runs, after, lambda: reads.count_task_runs(svc.db, flt))


async def flow(info: strawberry.Info, namespace: str, id: str) -> Flow | None:
    row = await flow_reads.flow_latest(services(info).db, namespace, id)
    return None if row is None else Flow.from_row(row)


async def flows(info: strawberry.Info, namespace: str | None = None) -> list[Flow]:
    return [
        Flow.from_row(row) for row in await flow_reads.flows_latest(services(info).db, namespace)
    ]


async def flow_revisions(info: strawberry.Info, namespace: str, id: str) -> list[Flow]:
    revisions = await flow_reads.flow_revisions(services(info).db, namespace, id)
    return [Flow.from_row(row) for row in revisions]


async def namespaces(info: strawberry.Info) -> list[str]:
    return await flow_reads.namespaces(services(info).db)


async def _after_seq(info: strawberry.Info, prefix: str, after: str | None) -> int:
    if after is None:
        return 0
    if after == "HEAD":
        table = "state_changes" if prefix == "sc" else "logs"
        return await stream_rows.head_seq(services(info).db, table)
    try:
        return pagination.seq_from_cursor(prefix, after)
    except pagination.CursorError as error:
        raise BadUserInput(str(error)) from None


async def state_changes(
    info: strawberry.Info,
    execution_id: strawberry.ID | None = None,
    after: str | None = None,
    first: int | None = None,
    filter: inputs.StateChangeFilter | None = None,
) -> conn.StateChangeConnection:
    n, seq = page_size(info, first, 100), await _after_seq(info, "sc", after)
    flt = (filter or inputs.StateChangeFilter()).to_filter()
    found = await stream_rows.state_changes(services(info).db, execution_id, seq, n, flt)
    return conn.StateChangeConnection.of(found, n, after)


async def logs(
    info: strawberry.Info,
    execution_id: strawberry.ID,
    after: str | None = None,
    first: int | None = None,
    min_level: enums.LogLevel | None = None,
) -> conn.LogConnection:
    n, seq = page_size(info, first, 100), await _after_seq(info, "lg", after)
    level = model.LogLevel.TRACE if min_level is None else min_level
    found = await stream_rows.logs(services(info).db, execution_id, seq, n, level)
    return conn.LogConnection.of(found, n, after)


async def execution_stats(
    info: strawberry.Info,
    filter: inputs.ExecutionFilter | None = None,
    bucket: Duration = _HOUR,
) -> stats.ExecutionStats:
    if bucket.total_seconds() < 1:
        raise BadUserInput("`bucket` must be at least PT1S")
    svc = services(info)
    flt = (filter or inputs.ExecutionFilter()).to_filter(svc.engine.clock.now())
    return stats.ExecutionStats.from_read(await stats_reads.execution_stats(svc.db, flt, bucket))


@strawberry.type
class Query:
    execution: types.Execution | None = strawberry.field(resolver=execution)
    executions: conn.ExecutionConnection = strawberry.field(
        resolver=executions, description="newest first by default; keyset cursors"
    )
    task_runs: conn.TaskRunConnection = strawberry.field(
        resolver=task_runs, description="creation order by default"
    )
    flow: Flow | None = strawberry.field(resolver=flow, description="the latest revision")
    flows: list[Flow] = strawberry.field(
        resolver=flows, description="latest revisions, by namespace then id"
    )
    flow_revisions: list[Flow] = strawberry.field(resolver=flow_revisions)
    namespaces: list[str] = strawberry.field(resolver=namespaces)
    state_changes: conn.StateChangeConnection = strawberry.field(
        resolver=state_changes, description="polling twin of Subscription.stateChanges"
    )
    logs: conn.LogConnection = strawberry.field(
        resolver=logs, description="polling twin of Subscription.logs"
    )
    execution_stats: stats.ExecutionStats = strawberry.field(
        resolver=execution_stats,
        description="executions by state per start-date bucket, and duration percentiles",
    )
