"""The unit of work: everything one engine transaction writes.

The engine records changes while it runs passes; the storage writer commits a whole `ChangeSet`
in one transaction with a few `executemany` calls, and assigns sequence numbers to the
state-change and log rows it appends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tercel.engine import model, states
from tercel.engine.types import Plan, TimerKind

__all__ = ["Batch", "ChangeSet", "LogRow", "StateRow", "TimerRow", "TriggerStateRow"]


@dataclass(slots=True)
class StateRow:
    """One appended history entry: a row of the state-change log."""

    execution_id: str
    entity: states.Entity
    task_run_id: str | None
    attempt_number: int | None
    state: states.StateType
    previous: states.StateType | None
    date: datetime
    task_id: str | None = None
    value: str | None = None
    seq: int = 0  #: assigned by the writer at commit


@dataclass(slots=True)
class LogRow:
    execution_id: str
    task_run_id: str | None
    task_id: str | None
    attempt_number: int | None
    level: model.LogLevel
    message: str
    timestamp: datetime
    seq: int = 0  #: assigned by the writer at commit


@dataclass(slots=True)
class TimerRow:
    """A durable timer: the database alone says what is due."""

    id: str
    execution_id: str
    #: what it wakes up; the loader reads the stored text back, `rebuild` makes it a TimerKind
    kind: TimerKind
    task_run_id: str | None
    due: datetime
    payload: dict[str, Any] | None = None


@dataclass(slots=True)
class TriggerStateRow:
    """A trigger's durable state: a Schedule's next date, written with the execution it made."""

    namespace: str
    flow_id: str
    trigger_id: str
    next_date: datetime | None
    definition: str = ""
    last_execution_id: str | None = None  #: None keeps the stored one
    #: a Flow trigger's last considered execution end (state-change `seq`); None keeps it
    watermark: int | None = None


@dataclass(slots=True)
class ChangeSet:
    new_executions: dict[str, model.Execution] = field(default_factory=dict)
    executions: dict[str, model.Execution] = field(default_factory=dict)
    task_runs: dict[str, model.TaskRun] = field(default_factory=dict)
    #: task run id -> its plan (flowable start decisions, a subflow's child), written once
    plans: dict[str, Plan] = field(default_factory=dict)
    attempts: dict[tuple[str, int], tuple[model.TaskRun, model.Attempt]] = field(
        default_factory=dict
    )
    states: list[StateRow] = field(default_factory=list)
    logs: list[LogRow] = field(default_factory=list)
    timers_added: list[TimerRow] = field(default_factory=list)
    timers_removed: list[str] = field(default_factory=list)
    removed_task_runs: list[str] = field(default_factory=list)
    deleted_executions: list[str] = field(default_factory=list)
    #: (task run id, attempt number, process group id) of subprocesses started by attempts
    processes: list[tuple[str, int, int]] = field(default_factory=list)
    #: (task run id, attempt number) of ended attempts whose process records go
    processes_ended: list[tuple[str, int]] = field(default_factory=list)
    #: trigger states committed with the executions their triggers created
    trigger_states: list[TriggerStateRow] = field(default_factory=list)
    #: executions whose labels were replaced (`setExecutionLabels`): their label rows rewritten
    relabelled: dict[str, model.Execution] = field(default_factory=dict)
    #: deleted execution id -> the tables of its rows kept (`deleteExecution` purge options)
    kept_on_delete: dict[str, frozenset[str]] = field(default_factory=dict)

    def is_empty(self) -> bool:
        """Nothing to write: every field is empty (tests/unit/engine/test_changes.py checks
        that each field counts, so a new one cannot be forgotten here)."""
        return not (
            self.new_executions
            or self.executions
            or self.task_runs
            or self.plans
            or self.attempts
            or self.states
            or self.logs
            or self.timers_added
            or self.timers_removed
            or self.removed_task_runs
            or self.deleted_executions
            or self.processes
            or self.processes_ended
            or self.trigger_states
            or self.relabelled
            or self.kept_on_delete
        )

    def merge(self, other: ChangeSet) -> None:
        """Fold `other` (later) into this one."""
        self.new_executions.update(other.new_executions)
        self.executions.update(other.executions)
        self.task_runs.update(other.task_runs)
        self.plans.update(other.plans)
        self.attempts.update(other.attempts)
        self.states.extend(other.states)
        self.logs.extend(other.logs)
        self.timers_added.extend(other.timers_added)
        self.timers_removed.extend(other.timers_removed)
        self.removed_task_runs.extend(other.removed_task_runs)
        self.deleted_executions.extend(other.deleted_executions)
        self.processes.extend(other.processes)
        self.processes_ended.extend(other.processes_ended)
        self.trigger_states.extend(other.trigger_states)
        self.relabelled.update(other.relabelled)
        self.kept_on_delete.update(other.kept_on_delete)


@dataclass(slots=True)
class Batch:
    """What one commit wrote, published to the engine's listeners after the commit."""

    changes: ChangeSet
    executions: list[model.Execution] = field(default_factory=list)
    #: execution id -> its state as committed by this batch, for every execution it touched
    states: dict[str, states.StateType] = field(default_factory=dict)
    #: (execution id, its own changes): what the commit is split into when it fails
    parts: list[tuple[str, ChangeSet]] = field(default_factory=list)
