"""Input types and their conversion to storage filters (`to_filter`)."""

from __future__ import annotations

import unicodedata
from datetime import datetime

import strawberry

from tercel.engine import model, states
from tercel.schema import argbounds, enums
from tercel.schema.errors import BadUserInput
from tercel.schema.scalars import DateTime, Duration
from tercel.storage.read import executions, filters, pagination
from tercel.storage.read import streams as stream_rows

__all__ = [
    "DateTimeRange",
    "ExecutionFilter",
    "ExecutionOrder",
    "LabelFilter",
    "LabelInput",
    "StateChangeFilter",
    "TaskRunFilter",
    "TaskRunOrder",
]


@strawberry.input
class LabelInput:
    key: str
    value: str

    def to_domain(self) -> model.Label:
        return model.Label(self.key, self.value)


@strawberry.input(description="value null: the key is present")
class LabelFilter:
    key: str
    value: str | None = None


@strawberry.input(description="gte inclusive, lt exclusive")
class DateTimeRange:
    gte: DateTime | None = None
    lt: DateTime | None = None

    def to_range(self) -> filters.DateRange:
        return filters.DateRange(self.gte, self.lt)


def _range(value: DateTimeRange | None) -> filters.DateRange:
    return filters.DateRange() if value is None else value.to_range()


def _search(q: str | None) -> str | None:
    """`filter.q`, refused when too long (`argbounds.MAX_TEXT`) or holding control characters
    (a NUL used to match every row)."""
    if q is None:
        return None
    argbounds.check_length(q, "filter.q")
    bad = next((c for c in q if unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise BadUserInput(f"`filter.q` holds the control character U+{ord(bad):04X}")
    return q


def _states(values: list[states.StateType] | None) -> list[str] | None:
    return None if values is None else [s.value for s in values]


@strawberry.input
class ExecutionFilter:
    state: list[enums.StateType] | None = strawberry.field(
        default=None, description="on state.current"
    )
    state_not_in: list[enums.StateType] | None = None
    namespace: str | None = strawberry.field(
        default=None, description="this namespace and its sub-namespaces"
    )
    namespace_equals: str | None = None
    flow_id: str | None = None
    labels: list[LabelFilter] | None = strawberry.field(default=None, description="all must match")
    start_date: DateTimeRange | None = None
    end_date: DateTimeRange | None = None
    time_range: Duration | None = strawberry.field(
        default=None, description="startDate within the last <duration>"
    )
    q: str | None = strawberry.field(
        default=None, description="substring of id, namespace or flowId"
    )
    parent_id: strawberry.ID | None = None
    original_id: strawberry.ID | None = None

    def to_filter(self, now: datetime) -> filters.ExecutionFilter:
        start = _range(self.start_date)
        if self.time_range is not None:
            if self.start_date is not None:
                raise BadUserInput("timeRange and startDate cannot be combined")
            start = filters.DateRange(gte=now - self.time_range)
        return filters.ExecutionFilter(
            namespace=self.namespace,
            namespace_equals=self.namespace_equals,
            flow_id=self.flow_id,
            states=_states(self.state),
            states_not_in=_states(self.state_not_in),
            labels=[(lb.key, lb.value) for lb in self.labels or ()],
            start_date=start,
            end_date=_range(self.end_date),
            q=_search(self.q),
            parent_id=self.parent_id,
            original_id=self.original_id,
        )


@strawberry.input
class TaskRunFilter:
    execution_id: strawberry.ID | None = None
    task_id: str | None = None
    parent_task_run_id: strawberry.ID | None = None
    state: list[enums.StateType] | None = None
    state_not_in: list[enums.StateType] | None = None
    namespace: str | None = None
    namespace_equals: str | None = None
    flow_id: str | None = None
    start_date: DateTimeRange | None = None
    end_date: DateTimeRange | None = None
    q: str | None = strawberry.field(default=None, description="substring of taskId or value")

    def to_filter(self) -> filters.TaskRunFilter:
        return filters.TaskRunFilter(
            execution_id=self.execution_id,
            task_id=self.task_id,
            parent_task_run_id=self.parent_task_run_id,
            states=_states(self.state),
            states_not_in=_states(self.state_not_in),
            namespace=self.namespace,
            namespace_equals=self.namespace_equals,
            flow_id=self.flow_id,
            start_date=_range(self.start_date),
            end_date=_range(self.end_date),
            q=_search(self.q),
        )


@strawberry.input
class StateChangeFilter:
    namespace: str | None = None
    flow_id: str | None = None
    labels: list[LabelFilter] | None = None
    states: list[enums.StateType] | None = strawberry.field(
        default=None, description="only events entering these states"
    )
    entities: list[enums.StateEntity] | None = strawberry.field(
        default=None, description="default: all three"
    )

    def to_filter(self) -> stream_rows.StreamFilter:
        entities = None if self.entities is None else [e.value for e in self.entities]
        return stream_rows.StreamFilter(
            namespace=self.namespace,
            flow_id=self.flow_id,
            labels=[(lb.key, lb.value) for lb in self.labels or ()],
            states=_states(self.states),
            entities=entities,
        )


@strawberry.input
class ExecutionOrder:
    field: enums.ExecutionOrderField = enums.ExecutionOrderField.START_DATE
    direction: enums.OrderDirection = enums.OrderDirection.DESC

    def to_order(self) -> pagination.Order:
        return executions.execution_order(self.field.value, self.direction.value == "DESC")


@strawberry.input
class TaskRunOrder:
    field: enums.TaskRunOrderField = enums.TaskRunOrderField.CREATION
    direction: enums.OrderDirection = enums.OrderDirection.ASC

    def to_order(self) -> pagination.Order:
        return executions.task_run_order(self.field.value, self.direction.value == "DESC")
