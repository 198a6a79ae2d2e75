"""Object types, thin over domain values (`from_domain`) and read rows (`from_row`).

Plain data fields are synchronous. Only `Execution.state` and `Execution.taskRunList` are async:
for a page they go through the request's DataLoaders (one statement per table for the page);
for an execution returned by a mutation they read the preloaded domain object.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, cast

import strawberry

from tercel.engine import model, secretinputs, states
from tercel.schema import context, enums, timelines
from tercel.schema.scalars import JSON, DateTime, Duration
from tercel.storage.read import rows
from tercel.storage.read import timelines as storage_timelines

__all__ = [
    "Attempt",
    "Execution",
    "ExecutionMetadata",
    "ExecutionTrigger",
    "Label",
    "Metric",
    "State",
    "StateHistory",
    "TaskRun",
    "task_runs_of",
]


@strawberry.type
class StateHistory:
    """Served by the domain `states.HistoryEntry` itself (same attribute names)."""

    state: enums.StateType
    date: DateTime


@strawberry.type
class State:
    """Served by the domain `states.State` itself: its attributes and properties carry every
    field under the same name, so a page of 2,000 states builds no second object per state and
    per history entry (`tests/unit/test_schema_views.py` holds the names together)."""

    current: enums.StateType
    histories: list[StateHistory]
    start_date: DateTime
    end_date: DateTime | None
    duration: Duration | None

    @classmethod
    def from_domain(cls, state: states.State) -> State:
        return cast(State, state)


@strawberry.type
class Label:
    key: str
    value: str


@strawberry.type
class Metric:
    name: str
    type: enums.MetricType
    value: float = strawberry.field(description="the count, or seconds for a timer")
    tags: JSON

    @classmethod
    def from_domain(cls, metric: model.Metric) -> Metric:
        kind = enums.MetricType(metric.type)
        return cls(name=metric.name, type=kind, value=metric.value, tags=JSON(metric.tags))


@strawberry.type
class Attempt:
    state: State
    metrics: list[Metric]

    @classmethod
    def from_domain(cls, attempt: model.Attempt) -> Attempt:
        metrics = [Metric.from_domain(m) for m in attempt.metrics]
        return cls(state=State.from_domain(attempt.state), metrics=metrics)


@strawberry.type
class TaskRun:
    id: strawberry.ID
    execution_id: strawberry.ID
    namespace: str
    flow_id: str
    task_id: str
    parent_task_run_id: strawberry.ID | None
    value: str | None
    iteration: int | None
    state: State
    attempts: list[Attempt] | None = strawberry.field(description="null for flowables")
    outputs: JSON | None

    @classmethod
    def from_domain(cls, run: model.TaskRun) -> TaskRun:
        attempts = run.attempts
        return cls(
            id=strawberry.ID(run.id),
            execution_id=strawberry.ID(run.execution_id),
            namespace=run.namespace,
            flow_id=run.flow_id,
            task_id=run.task_id,
            parent_task_run_id=_id(run.parent_task_run_id),
            value=run.value,
            iteration=run.iteration,
            state=State.from_domain(run.state),
            attempts=None if attempts is None else [Attempt.from_domain(a) for a in attempts],
            outputs=JSON(run.outputs) if run.outputs is not None else None,
        )


@strawberry.type
class ExecutionMetadata:
    attempt_number: int
    original_created_date: DateTime


@strawberry.type
class ExecutionTrigger:
    id: str
    type: str
    variables: JSON | None

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> ExecutionTrigger | None:
        if data is None:
            return None
        variables = data.get("variables")
        return cls(id=str(data.get("id", "")), type=str(data.get("type", "")), variables=variables)


@strawberry.type
class Execution:
    id: strawberry.ID
    namespace: str
    flow_id: str
    flow_revision: int
    inputs: JSON | None
    outputs: JSON | None
    labels: list[Label]
    parent_id: strawberry.ID | None
    original_id: strawberry.ID
    metadata: ExecutionMetadata
    trigger: ExecutionTrigger | None
    #: the whole execution when it is already in memory (mutations, subscription snapshots)
    _full: strawberry.Private[model.Execution | None] = None
    #: the row it was read from (a list page), for an execution deleted before its histories
    _row: strawberry.Private[rows.ExecutionRow | None] = None

    @strawberry.field
    async def state(self, info: strawberry.Info) -> State:
        known = self.state_in_memory()
        if known is not None:
            return known
        histories = await context.loaders(info).histories.load(self.id)
        found = histories.get(("E", self.id, None))
        if found is None and self._row is not None:
            # deleted (a purge) between the page's read and this one: its state as read then
            found = _last_known(self._row)
        if found is None:
            raise LookupError(f"execution {self.id} has no state history")
        return State.from_domain(found)

    def state_in_memory(self) -> State | None:
        """What `state` answers without a read, when the whole execution is in memory (a
        mutation's answer, the row on a stream's CREATED entry); None when it would read. The
        fast completion path (`schema.execution`) answers `state` with it."""
        return None if self._full is None else State.from_domain(self._full.state)

    @strawberry.field
    async def task_run_list(self, info: strawberry.Info) -> list[TaskRun]:
        if self._full is not None:
            return [TaskRun.from_domain(run) for run in self._full.task_runs]
        loaders = context.loaders(info)
        # Histories first (the batch `state` shares): every task run read after them is at
        # least as new, and `domain_task_run` leaves out the ones newer than the histories. Read
        # the other way round, a terminal execution could show without its last task runs.
        histories = await loaders.histories.load(self.id)
        found, metrics = await asyncio.gather(
            loaders.task_runs.load(self.id), loaders.metrics.load(self.id)
        )
        attempts = rows.attempt_numbers(histories)
        assembled = (rows.domain_task_run(row, histories, attempts, metrics) for row in found)
        return [TaskRun.from_domain(run) for run in assembled if run is not None]

    async def _timeline(self, info: strawberry.Info) -> JSON:
        if self._full is not None:
            return JSON(timelines.from_domain(self._full))
        return JSON(await storage_timelines.timeline(context.services(info).db, self.id))

    timeline = strawberry.field(resolver=_timeline, description=timelines.DESCRIPTION)

    @classmethod
    def from_row(cls, row: rows.ExecutionRow) -> Execution:
        found = cls._of(row, row.original_created_date, None)
        found._row = row
        return found

    @classmethod
    def from_domain(cls, ex: model.Execution) -> Execution:
        return cls._of(ex, ex.original_created_date or ex.state.start_date, ex)

    @classmethod
    def _of(
        cls,
        source: rows.ExecutionRow | model.Execution,
        created: datetime,
        full: model.Execution | None,
    ) -> Execution:
        """The fields a read row and a domain execution share under the same names."""
        return cls(
            id=strawberry.ID(source.id),
            namespace=source.namespace,
            flow_id=source.flow_id,
            flow_revision=source.flow_revision,
            inputs=_json(secretinputs.masked(source.inputs)),
            outputs=_json(source.outputs),
            labels=[Label(key=lb.key, value=lb.value) for lb in source.labels],
            parent_id=_id(source.parent_id),
            original_id=strawberry.ID(source.original_id),
            metadata=ExecutionMetadata(
                attempt_number=source.attempt_number, original_created_date=DateTime(created)
            ),
            trigger=ExecutionTrigger.from_data(source.trigger),
            _full=full,
        )


def _last_known(row: rows.ExecutionRow) -> states.State:
    """The state a read row recorded, as one history entry (its full history is gone)."""
    current = states.StateType(row.state_current)
    return states.State.new(current, row.end_date or row.start_date)


def _id(value: str | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(value)


def _json(value: Any) -> JSON | None:
    return None if value is None else JSON(value)


async def task_runs_of(loaders: context.Loaders, found: list[rows.TaskRunRow]) -> list[TaskRun]:
    """Whole task runs for a page of rows: two batched loads over their executions (task runs
    newer than their execution's histories are left out, as in `Execution.task_run_list`)."""
    ids = list(dict.fromkeys(row.execution_id for row in found))
    histories, metrics = await asyncio.gather(
        loaders.histories.load_many(ids), loaders.metrics.load_many(ids)
    )
    at = {ex_id: i for i, ex_id in enumerate(ids)}
    attempts = [rows.attempt_numbers(history) for history in histories]
    assembled = (
        rows.domain_task_run(
            row,
            histories[at[row.execution_id]],
            attempts[at[row.execution_id]],
            metrics[at[row.execution_id]],
        )
        for row in found
    )
    return [TaskRun.from_domain(run) for run in assembled if run is not None]
