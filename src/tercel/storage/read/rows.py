"""Rows the API reads, decoded: executions and task runs, and how a task run is assembled from
its row and its execution's batched child loads (the same assembly as the engine's loader)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tercel import clock
from tercel.engine import model, states
from tercel.storage.codec import loads

__all__ = [
    "EXECUTION_COLUMNS",
    "TASK_RUN_COLUMNS",
    "ExecutionRow",
    "TaskRunRow",
    "attempt_numbers",
    "domain_task_run",
    "execution_row",
    "task_run_row",
]


@dataclass(frozen=True, slots=True)
class ExecutionRow:
    """An `executions` row, decoded. Histories and task runs are loaded separately."""

    id: str
    namespace: str
    flow_id: str
    flow_revision: int
    state_current: str
    start_date: datetime
    end_date: datetime | None
    inputs: dict[str, Any] | None
    outputs: dict[str, Any] | None
    labels: list[model.Label]
    parent_id: str | None
    original_id: str
    attempt_number: int
    original_created_date: datetime
    trigger: dict[str, Any] | None


EXECUTION_COLUMNS = (
    "id", "namespace", "flow_id", "flow_revision", "state_current", "start_date", "end_date",
    "inputs", "outputs", "labels", "parent_id", "original_id", "attempt_number",
    "original_created_date", "trigger_info",
)  # fmt: skip


def execution_row(row: Any) -> ExecutionRow:
    return ExecutionRow(
        id=row.id,
        namespace=row.namespace,
        flow_id=row.flow_id,
        flow_revision=row.flow_revision,
        state_current=row.state_current,
        start_date=clock.from_micros(row.start_date),
        end_date=None if row.end_date is None else clock.from_micros(row.end_date),
        inputs=loads(row.inputs),
        outputs=loads(row.outputs),
        labels=[model.Label(k, v) for k, v in loads(row.labels)],
        parent_id=row.parent_id,
        original_id=row.original_id,
        attempt_number=row.attempt_number,
        original_created_date=clock.from_micros(row.original_created_date),
        trigger=loads(row.trigger_info),
    )


@dataclass(frozen=True, slots=True)
class TaskRunRow:
    """A `task_runs` row with its execution's namespace and flow id."""

    id: str
    execution_id: str
    namespace: str
    flow_id: str
    position: int
    task_id: str
    parent_task_run_id: str | None
    value: str | None
    iteration: int | None
    state_current: str
    start_date: datetime
    outputs: dict[str, Any] | None


TASK_RUN_COLUMNS = (
    "id", "execution_id", "position", "task_id", "parent_task_run_id", "value", "iteration",
    "state_current", "start_date", "outputs",
)  # fmt: skip


def task_run_row(row: Any) -> TaskRunRow:
    return TaskRunRow(
        id=row.id,
        execution_id=row.execution_id,
        namespace=row.namespace,
        flow_id=row.flow_id,
        position=row.position,
        task_id=row.task_id,
        parent_task_run_id=row.parent_task_run_id,
        value=row.value,
        iteration=row.iteration,
        state_current=row.state_current,
        start_date=clock.from_micros(row.start_date),
        outputs=loads(row.outputs),
    )


def attempt_numbers(histories: dict[tuple[str, str, int | None], Any]) -> dict[str, list[int]]:
    """Task run id -> the numbers of its attempts that have a history, ascending (the attempts
    `domain_task_run` keeps), from one execution's history keys."""
    found: dict[str, list[int]] = {}
    for kind, run_id, number in histories:
        if kind == "A" and number is not None:
            found.setdefault(run_id, []).append(number)
    for numbers in found.values():
        numbers.sort()
    return found


def domain_task_run(
    row: TaskRunRow,
    histories: dict[tuple[str, str, int | None], states.State],
    attempts: dict[str, list[int]],
    metrics: dict[tuple[str, int], list[model.Metric]],
) -> model.TaskRun | None:
    """A task run assembled from its row and its execution's batched child loads (the same
    assembly as `reader.load_executions`: attempts without a history entry are left out).

    None when the histories were read before the task run's creation committed (the loads
    run as separate statements): the task run is newer than this snapshot."""
    own = histories.get(("T", row.id, None))
    if own is None:
        return None
    found = []
    for number in attempts.get(row.id, ()):
        attempt_state = histories.get(("A", row.id, number))
        if attempt_state is not None:
            found.append(model.Attempt(number, attempt_state, metrics.get((row.id, number), [])))
    return model.TaskRun(
        id=row.id, execution_id=row.execution_id, namespace=row.namespace, flow_id=row.flow_id,
        task_id=row.task_id, state=own, position=row.position,
        parent_task_run_id=row.parent_task_run_id, value=row.value, iteration=row.iteration,
        attempts=found or None, outputs=row.outputs,
    )  # fmt: skip
