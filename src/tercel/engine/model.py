"""Domain objects: flow definitions (immutable) and runtime objects (owned by the engine).

Pure data: no I/O, no ORM, no GraphQL. The engine mutates runtime objects only inside its single
writer loop; everything else reads snapshots.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from tercel.engine import states
from tercel.engine.types import ConcurrencyBehavior

__all__ = [
    "Attempt",
    "Concurrency",
    "Execution",
    "Flow",
    "InputDef",
    "Label",
    "LogLevel",
    "Metric",
    "OutputDef",
    "RetryPolicy",
    "TaskDef",
    "TaskKind",
    "TaskRun",
]


class TaskKind(enum.Enum):
    RUNNABLE = "RUNNABLE"  #: a leaf run by a worker, with attempts
    FLOWABLE = "FLOWABLE"  #: its children are task runs of the same execution
    SUBFLOW = "SUBFLOW"  #: starts a child execution; a leaf for scheduling


class LogLevel(enum.IntEnum):
    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4


@dataclass(frozen=True, slots=True)
class Location:
    """Where a node stands in its flow file (1-based)."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """A retry policy of a task or of the flow (docs/semantics.md#retries)."""

    type: Literal["constant", "exponential", "random"]
    max_attempt: int | None = None
    #: no retry scheduled after the first attempt's start + max_duration
    max_duration: timedelta | None = None
    interval: timedelta | None = None
    max_interval: timedelta | None = None
    delay_factor: float | None = None
    min_interval: timedelta | None = None
    #: a success after a retry makes the task run WARNING
    warning_on_retry: bool = False
    behavior: Literal["RETRY_FAILED_TASK", "CREATE_NEW_EXECUTION"] = "RETRY_FAILED_TASK"


@dataclass(frozen=True, slots=True)
class Concurrency:
    """A flow's `concurrency`: at most `limit` of its executions run at once
    (docs/semantics.md#concurrency)."""

    limit: int
    behavior: ConcurrencyBehavior = ConcurrencyBehavior.QUEUE


@dataclass(frozen=True, slots=True)
class InputDef:
    """One declared input (flow `inputs`, Pause `onResume`)."""

    id: str
    type: str  #: one of engine.flows.inputdefs.INPUT_TYPES
    required: bool = True
    defaults: Any = None
    description: str | None = None
    display_name: str | None = None
    item_type: str | None = None  #: ARRAY only
    validator: str | None = None  #: STRING only: a regex that must match in full
    min: Any = None
    max: Any = None
    after: datetime | date | time | None = None  #: DATETIME: aware UTC; DATE, TIME: local
    before: datetime | date | time | None = None
    values: tuple[str, ...] | None = None  #: SELECT, MULTISELECT, ENUM: the allowed values
    allow_custom_value: bool = False  #: SELECT, MULTISELECT: a value outside `values` is accepted


@dataclass(frozen=True, slots=True)
class OutputDef:
    """One flow output: `value` is rendered when the execution ends."""

    id: str
    type: str
    value: Any
    description: str | None = None
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class TaskDef:
    """One task of a flow, validated, with plugin defaults applied."""

    id: str
    type: str  #: the canonical class name (legacy aliases resolved)
    written_type: str  #: the type as written in the flow (the `task.type` variable)
    kind: TaskKind
    #: type-specific properties (aliases resolved, defaults applied), task lists excluded
    properties: Mapping[str, Any] = field(default_factory=dict)
    description: str | None = None
    disabled: bool = False
    allow_failure: bool = False
    allow_warning: bool = False
    run_if: str | None = None
    retry: RetryPolicy | None = None
    timeout: str | None = None  #: a dynamic duration, rendered at dispatch
    log_level: LogLevel = LogLevel.TRACE
    #: task lists by branch name: tasks, then, else, defaults, errors, finally
    branches: Mapping[str, tuple[TaskDef, ...]] = field(default_factory=dict)
    #: Switch cases, key -> tasks, in declaration order
    cases: Mapping[str, tuple[TaskDef, ...]] = field(default_factory=dict)
    location: Location | None = None

    def branch(self, name: str) -> tuple[TaskDef, ...]:
        return self.branches.get(name, ())


@dataclass(frozen=True, slots=True)
class Label:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Flow:
    """A validated flow revision."""

    id: str
    namespace: str
    tasks: tuple[TaskDef, ...]
    revision: int = 1
    description: str | None = None
    labels: tuple[Label, ...] = ()
    inputs: tuple[InputDef, ...] = ()
    variables: Mapping[str, Any] = field(default_factory=dict)
    errors: tuple[TaskDef, ...] = ()
    finally_: tuple[TaskDef, ...] = ()
    outputs: tuple[OutputDef, ...] = ()
    retry: RetryPolicy | None = None
    disabled: bool = False
    triggers: tuple[Any, ...] = ()
    concurrency: Concurrency | None = None
    source: str = ""

    def all_tasks(self) -> list[TaskDef]:
        """Every task at every depth, in document order."""
        found: list[TaskDef] = []

        def walk(tasks: tuple[TaskDef, ...]) -> None:
            for task in tasks:
                found.append(task)
                for branch in task.branches.values():
                    walk(branch)
                for case in task.cases.values():
                    walk(case)

        walk(self.tasks)
        walk(self.errors)
        walk(self.finally_)
        return found


# --------------------------------------------------------------------------- runtime objects


@dataclass(slots=True)
class Metric:
    name: str
    type: Literal["counter", "timer"]
    value: float  #: the count, or seconds for a timer
    tags: dict[str, str]
    timestamp: datetime


@dataclass(slots=True)
class Attempt:
    number: int  #: 1-based position among the task run's attempts
    state: states.State
    metrics: list[Metric] = field(default_factory=list)


@dataclass(slots=True)
class TaskRun:
    id: str
    execution_id: str
    namespace: str
    flow_id: str
    task_id: str
    state: states.State
    position: int  #: creation order within the execution
    parent_task_run_id: str | None = None
    value: str | None = None
    iteration: int | None = None
    attempts: list[Attempt] | None = None
    outputs: dict[str, Any] | None = None

    def counted_attempts(self) -> int:
        """Attempts made so far, RESUBMITTED ones excluded."""
        if not self.attempts:
            return 0
        lost = states.StateType.RESUBMITTED
        return sum(1 for attempt in self.attempts if attempt.state.current is not lost)


@dataclass(slots=True)
class Execution:
    id: str
    namespace: str
    flow_id: str
    flow_revision: int
    state: states.State
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    labels: list[Label] = field(default_factory=list)
    parent_id: str | None = None
    original_id: str = ""
    attempt_number: int = 1
    original_created_date: datetime | None = None
    trigger: dict[str, Any] | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    task_runs: list[TaskRun] = field(default_factory=list)
