"""SQLModel tables mirroring `migrations/0001_init.sql` (private to storage).

The migration is the source of truth: these classes only describe it for typed, composable read
queries (a test checks that their columns equal the migrated schema's). Instants are integer
microseconds since the Unix epoch; JSON columns are TEXT.
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlmodel import Field, SQLModel

__all__ = [
    "AttemptTable",
    "ExecutionTable",
    "FlowTable",
    "LabelTable",
    "LogTable",
    "MetricTable",
    "ProcessTable",
    "StateChangeTable",
    "TaskRunTable",
    "TimerTable",
    "TriggerStateTable",
    "table",
]


class FlowTable(SQLModel, table=True):
    __tablename__ = "flows"
    namespace: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    revision: int = Field(primary_key=True)
    source: str
    disabled: int = 0
    deleted: int = 0
    updated: int


class ExecutionTable(SQLModel, table=True):
    __tablename__ = "executions"
    id: str = Field(primary_key=True)
    namespace: str
    flow_id: str
    flow_revision: int
    state_current: str
    start_date: int
    end_date: int | None = None
    inputs: str | None = None
    outputs: str | None = None
    labels: str = "[]"
    variables: str = "{}"
    parent_id: str | None = None
    original_id: str
    attempt_number: int = 1
    original_created_date: int
    trigger_info: str | None = None


class LabelTable(SQLModel, table=True):
    __tablename__ = "labels"
    execution_id: str = Field(primary_key=True)
    position: int = Field(primary_key=True)
    key: str
    value: str


class TaskRunTable(SQLModel, table=True):
    __tablename__ = "task_runs"
    id: str = Field(primary_key=True)
    execution_id: str
    position: int
    task_id: str
    parent_task_run_id: str | None = None
    value: str | None = None
    iteration: int | None = None
    state_current: str
    start_date: int
    end_date: int | None = None
    attempts_count: int = 0
    outputs: str | None = None
    plan: str | None = None


class AttemptTable(SQLModel, table=True):
    __tablename__ = "attempts"
    task_run_id: str = Field(primary_key=True)
    number: int = Field(primary_key=True)
    execution_id: str
    state_current: str
    start_date: int
    end_date: int | None = None


class MetricTable(SQLModel, table=True):
    __tablename__ = "metrics"
    execution_id: str
    task_run_id: str = Field(primary_key=True)
    attempt_number: int = Field(primary_key=True)
    position: int = Field(primary_key=True)
    name: str
    type: str
    value: float
    tags: str
    timestamp: int


class StateChangeTable(SQLModel, table=True):
    __tablename__ = "state_changes"
    seq: int | None = Field(default=None, primary_key=True)
    execution_id: str
    entity: str
    task_run_id: str | None = None
    attempt_number: int | None = None
    state: str
    previous: str | None = None
    date: int
    task_id: str | None = None
    value: str | None = None


class LogTable(SQLModel, table=True):
    __tablename__ = "logs"
    seq: int | None = Field(default=None, primary_key=True)
    execution_id: str
    task_run_id: str | None = None
    task_id: str | None = None
    attempt_number: int | None = None
    level: str
    message: str
    timestamp: int


class TimerTable(SQLModel, table=True):
    __tablename__ = "timers"
    id: str = Field(primary_key=True)
    execution_id: str
    kind: str
    task_run_id: str | None = None
    due: int
    payload: str | None = None


class ProcessTable(SQLModel, table=True):
    __tablename__ = "processes"
    task_run_id: str = Field(primary_key=True)
    attempt_number: int = Field(primary_key=True)
    pgid: int = Field(primary_key=True)


class TriggerStateTable(SQLModel, table=True):
    """One row per trigger (migration 0002; written by `triggerstate`)."""

    __tablename__ = "trigger_states"
    namespace: str = Field(primary_key=True)
    flow_id: str = Field(primary_key=True)
    trigger_id: str = Field(primary_key=True)
    next_date: int | None = None
    definition: str = ""
    disabled: int = 0
    last_execution_id: str | None = None
    watermark: int | None = None


def table(model: type[SQLModel]) -> Table:
    """The Core `Table` of a table class (for SQLAlchemy Core queries)."""
    found = model.__table__  # type: ignore[attr-defined]
    assert isinstance(found, Table)
    return found
