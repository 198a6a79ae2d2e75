"""Relay connections written by hand (keyset cursors; ids are the engine's, not global ids)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import strawberry

from tercel.schema import streams, types
from tercel.storage.read import executions, rows
from tercel.storage.read import streams as stream_rows

__all__ = [
    "ExecutionConnection",
    "ExecutionEdge",
    "LogConnection",
    "LogEdge",
    "PageInfo",
    "StateChangeConnection",
    "StateChangeEdge",
    "TaskRunConnection",
    "TaskRunEdge",
]


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, cursors: list[str], has_next: bool, after: str | None) -> PageInfo:
        return cls(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )


@strawberry.type
class ExecutionEdge:
    cursor: str
    node: types.Execution


@strawberry.type
class ExecutionConnection:
    edges: list[ExecutionEdge]
    page_info: PageInfo
    #: runs the COUNT(*) only when `totalCount` is selected
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    async def total_count(self) -> int:
        return await self._count()

    @classmethod
    def of(
        cls,
        page: executions.Page[rows.ExecutionRow],
        after: str | None,
        count: Callable[[], Awaitable[int]],
    ) -> ExecutionConnection:
        edges = [ExecutionEdge(cursor=c, node=types.Execution.from_row(r)) for c, r in page.edges]
        info = PageInfo.of([e.cursor for e in edges], page.has_next, after)
        return cls(edges=edges, page_info=info, _count=count)


@strawberry.type
class TaskRunEdge:
    cursor: str
    node: types.TaskRun


@strawberry.type
class TaskRunConnection:
    edges: list[TaskRunEdge]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    async def total_count(self) -> int:
        return await self._count()

    @classmethod
    def of(
        cls,
        page: executions.Page[rows.TaskRunRow],
        runs: list[types.TaskRun],
        after: str | None,
        count: Callable[[], Awaitable[int]],
    ) -> TaskRunConnection:
        """`runs`: the page's task runs, assembled (one per edge, in order)."""
        edges = [
            TaskRunEdge(cursor=c, node=run) for (c, _), run in zip(page.edges, runs, strict=True)
        ]
        info = PageInfo.of([e.cursor for e in edges], page.has_next, after)
        return cls(edges=edges, page_info=info, _count=count)


@strawberry.type
class StateChangeEdge:
    cursor: str
    node: streams.StateChange


@strawberry.type
class StateChangeConnection:
    edges: list[StateChangeEdge]
    page_info: PageInfo

    @classmethod
    def of(
        cls, found: Sequence[stream_rows.StateChangeRow], first: int, after: str | None
    ) -> StateChangeConnection:
        """`found`: up to `first + 1` rows (one more: there is a next page)."""
        edges = [
            StateChangeEdge(
                cursor=streams.state_cursor(r.seq), node=streams.StateChange.from_row(r)
            )
            for r in found[:first]
        ]
        info = PageInfo.of([e.cursor for e in edges], len(found) > first, after)
        return cls(edges=edges, page_info=info)


@strawberry.type
class LogEdge:
    cursor: str
    node: streams.LogEntry


@strawberry.type
class LogConnection:
    edges: list[LogEdge]
    page_info: PageInfo

    @classmethod
    def of(
        cls, found: Sequence[stream_rows.LogRow], first: int, after: str | None
    ) -> LogConnection:
        """`found`: up to `first + 1` rows (one more: there is a next page)."""
        edges = [
            LogEdge(cursor=streams.log_cursor(r.seq), node=streams.LogEntry.from_row(r))
            for r in found[:first]
        ]
        info = PageInfo.of([e.cursor for e in edges], len(found) > first, after)
        return cls(edges=edges, page_info=info)
