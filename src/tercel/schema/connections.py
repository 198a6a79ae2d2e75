"""Relay connections written by hand (keyset cursors; ids are the engine's, not global ids)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from tercel.schema import streams, types

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


@strawberry.type
class StateChangeEdge:
    cursor: str
    node: streams.StateChange


@strawberry.type
class StateChangeConnection:
    edges: list[StateChangeEdge]
    page_info: PageInfo


@strawberry.type
class LogEdge:
    cursor: str
    node: streams.LogEntry


@strawberry.type
class LogConnection:
    edges: list[LogEdge]
    page_info: PageInfo
