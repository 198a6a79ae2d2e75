"""The API's read side: SQLAlchemy Core reads over the engine's database, and row values.

The engine is the only writer (its own sqlite3 connection on one thread); the API reads beside it
through pooled connections marked `query_only` (WAL lets readers run during writes).

`Reader.rows` runs each statement on a small thread pool, as aiosqlite would (it runs every
connection on a thread of its own). SQLAlchemy's asyncio extension (`sqlite+aiosqlite`) needs the
`greenlet` package, which is not a dependency of the project; once it is, `Reader` is the one
place to switch to `create_async_engine`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Executable, create_engine, event
from sqlalchemy.pool import QueuePool

from tercel import clock
from tercel.engine import model, states
from tercel.storage.codec import loads

__all__ = [
    "ExecutionRow",
    "Reader",
    "TaskRunRow",
    "domain_task_run",
    "execution_row",
    "open_reader",
    "task_run_row",
]


_THREADS = 8


class Reader:
    """Read-only access for the API: `await reader.rows(statement)`."""

    def __init__(self, db_path: str) -> None:
        self.engine: Engine = create_engine(
            f"sqlite:///{db_path}",
            poolclass=QueuePool,
            pool_size=_THREADS,
            max_overflow=0,
            connect_args={"check_same_thread": False},
        )
        event.listen(self.engine, "connect", _pragmas)
        self._pool = ThreadPoolExecutor(_THREADS, thread_name_prefix="tercel-reader")

    async def rows(self, statement: Executable) -> Sequence[Any]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._rows, statement)

    def _rows(self, statement: Executable) -> Sequence[Any]:
        with self.engine.connect() as conn:
            found: Sequence[Any] = conn.execute(statement).all()
            return found

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.engine.dispose()


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 5000")
    cursor.execute("PRAGMA query_only = ON")
    cursor.close()


def open_reader(db_path: str) -> Reader:
    """A reader over `db_path` (the file must exist: the engine creates it)."""
    return Reader(db_path)


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


def domain_task_run(
    row: TaskRunRow,
    histories: dict[tuple[str, str, int | None], states.State],
    attempts: dict[str, list[int]],
    metrics: dict[tuple[str, int], list[model.Metric]],
) -> model.TaskRun:
    """A task run assembled from its row and its execution's batched child loads (the same
    assembly as `reader.load_executions`: attempts without a history entry are left out)."""
    found = []
    for number in attempts.get(row.id, ()):
        state = histories.get(("A", row.id, number))
        if state is not None:
            found.append(model.Attempt(number, state, metrics.get((row.id, number), [])))
    return model.TaskRun(
        id=row.id, execution_id=row.execution_id, namespace=row.namespace, flow_id=row.flow_id,
        task_id=row.task_id, state=histories[("T", row.id, None)], position=row.position,
        parent_task_run_id=row.parent_task_run_id, value=row.value, iteration=row.iteration,
        attempts=found or None, outputs=row.outputs,
    )  # fmt: skip
