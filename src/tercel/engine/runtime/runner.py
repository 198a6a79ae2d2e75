"""Running ONE attempt of ONE runnable task run (the worker side of the engine).

An attempt row is committed before `run_attempt` is called (at-least-once delivery); the result
comes back to the engine loop as an `AttemptResult`. Kill and timeout arrive as cancellation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, BinaryIO

from tercel import clock as clocks
from tercel.engine import durations, expressions, filereach, files, model, states
from tercel.engine.files import FileStorage
from tercel.engine.outcomes import AttemptResult
from tercel.engine.run import context
from tercel.engine.run.execution import ExecutionState
from tercel.engine.tasks import registry
from tercel.engine.tasks.base import EngineServices, RunContext, TaskFailure

__all__ = ["AttemptContext", "AttemptResult", "run_attempt"]

S = states.StateType
L = model.LogLevel
#: log text an attempt may have waiting for the engine's next commit before `drain` waits
LOG_BACKLOG_BYTES = 1 << 20
_DRAIN_POLL_SECONDS = 0.005


class AttemptContext:
    """The `RunContext` a runnable sees; logs and metrics go straight to the engine."""

    def __init__(
        self,
        es: ExecutionState,
        run: model.TaskRun,
        attempt: model.Attempt,
        attempts_before: int,
        clock: clocks.Clock,
        wake: Callable[[], None],
        files: FileStorage,
        services: EngineServices | None = None,
    ) -> None:
        self._es, self._run, self._attempt = es, run, attempt
        self._services = services
        self._before, self._clock, self._wake = attempts_before, clock, wake
        self._files = files
        self._task = es.tasks[run.task_id]
        #: set by the engine before it cancels the attempt for a kill
        self.killed = False
        #: log characters added to `_counted` (the execution's pending change set)
        self._backlog, self._counted = 0, es.changes

    @property
    def task(self) -> model.TaskDef:
        return self._task

    @property
    def renders_as_written(self) -> bool:
        """An inline task whose properties hold no template (`ExecutionState.plain_inline`)."""
        return self._run.task_id in self._es.plain_inline

    @property
    def execution_id(self) -> str:
        return self._es.ex.id

    @property
    def task_run_id(self) -> str:
        return self._run.id

    @property
    def attempt_number(self) -> int:
        return self._attempt.number

    @property
    def idempotency_key(self) -> str:
        return f"{self.execution_id}/{self.task_run_id}/{self.attempt_number}"

    @property
    def files(self) -> FileStorage:
        return self._files

    def open_file(self, uri: str) -> BinaryIO:
        return filereach.open_of_execution(self._files, self._es.ex, self._es.flow.inputs, uri)

    def store_file(self, name: str, source: BinaryIO) -> str:
        ex = self._es.ex
        uri = files.task_uri(ex.namespace, ex.flow_id, ex.id, self._task.id, self._run.id, name)
        self._files.put(uri, source)
        return uri

    @property
    def namespace(self) -> str:
        return self._es.ex.namespace

    @property
    def flow_id(self) -> str:
        return self._es.ex.flow_id

    def render(self, value: Any, variables: Mapping[str, Any] | None = None) -> Any:
        return context.render(self._es, self._run, value, self._before, variables)

    def log(self, level: model.LogLevel, message: str) -> None:
        if level < self._task.log_level:
            return
        self._pending_backlog()
        self._backlog += len(message)
        self._es.log(level, message, self._clock.now(), self._run, self._attempt.number)
        self._wake()

    async def drain(self) -> None:
        while self._pending_backlog() > LOG_BACKLOG_BYTES:
            await asyncio.sleep(_DRAIN_POLL_SECONDS)

    def _pending_backlog(self) -> int:
        """Log text of this attempt in the change set the engine has not taken yet (the engine
        swaps the set for a fresh one when it takes it for a commit)."""
        if self._es.changes is not self._counted:
            self._backlog, self._counted = 0, self._es.changes
        return self._backlog

    def counter(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        self._metric("counter", name, value, tags)

    def timer(self, name: str, seconds: float, tags: Mapping[str, str] | None = None) -> None:
        self._metric("timer", name, seconds, tags)

    def _metric(self, kind: Any, name: str, value: float, tags: Mapping[str, str] | None) -> None:
        tag_map = {str(k): str(v) for k, v in (tags or {}).items()}
        for metric in self._attempt.metrics:
            if metric.name == name and metric.type == kind and metric.tags == tag_map:
                metric.value += float(value)
                return
        self._attempt.metrics.append(
            model.Metric(name, kind, float(value), tag_map, self._clock.now())
        )

    async def sleep(self, seconds: float) -> None:
        await self._clock.sleep(seconds)

    @property
    def services(self) -> EngineServices | None:
        return self._services

    def process_started(self, pid: int) -> None:
        self._es.changes.processes.append((self._run.id, self._attempt.number, pid))
        self._es.with_process.add((self._run.id, self._attempt.number))
        self._wake()


async def run_attempt(ctx: AttemptContext) -> AttemptResult:
    """Run the task body; every outcome, kill included, becomes an AttemptResult."""
    task_type = registry.get(ctx.task.type)
    started = time.monotonic()
    state, outputs = S.FAILED, {}
    try:
        if task_type is None or task_type.run is None:
            raise TaskFailure(f"task type `{ctx.task.type}` cannot run")
        limit = _timeout(ctx)
        async with asyncio.timeout(limit):
            outcome = await task_type.run(ctx)
        state, outputs = S(outcome.state), dict(outcome.outputs)
    except TaskFailure as failure:
        ctx.log(L.ERROR, str(failure))
    except expressions.ExpressionError as error:
        ctx.log(L.ERROR, str(error))
    except TimeoutError:
        took = durations.format_clock(timedelta(seconds=time.monotonic() - started))
        ctx.log(L.ERROR, f"Timeout after {took}")
    except asyncio.CancelledError:
        if not ctx.killed:
            raise
        state = S.KILLED
    except Exception as error:  # a task bug fails its attempt, never the engine
        ctx.log(L.ERROR, str(error) or type(error).__name__)
    return AttemptResult(ctx.execution_id, ctx.task_run_id, ctx.attempt_number, state, outputs)


def _timeout(ctx: AttemptContext) -> float | None:
    if ctx.task.timeout is None:
        return None
    text = ctx.render(ctx.task.timeout)
    return durations.parse_duration(str(text)).total_seconds()


def run_inline(ctx: RunContext) -> AttemptResult:
    """Run an `inline` task type's body to completion without leaving the engine pass."""
    task_type = registry.get(ctx.task.type)
    assert task_type is not None and task_type.run is not None and task_type.inline
    state, outputs = S.FAILED, {}
    coroutine = task_type.run(ctx)
    try:
        coroutine.send(None)
    except StopIteration as done:
        state, outputs = S(done.value.state), dict(done.value.outputs)
    except TaskFailure as failure:
        ctx.log(L.ERROR, str(failure))
    except expressions.ExpressionError as error:
        ctx.log(L.ERROR, str(error))
    except Exception as error:  # a task bug fails its attempt, never the engine
        ctx.log(L.ERROR, str(error) or type(error).__name__)
    else:
        coroutine.close()
        ctx.log(L.ERROR, f"task type `{ctx.task.type}` is marked inline but awaited")
    return AttemptResult(ctx.execution_id, ctx.task_run_id, ctx.attempt_number, state, outputs)
