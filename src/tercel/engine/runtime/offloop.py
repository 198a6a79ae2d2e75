"""Inline tasks whose renders outgrow the event loop's slice finish on a render thread.

An inline task (Return, Log, ...) runs inside the engine pass, on the event loop that also
serves HTTP and websockets. It first runs there under `guard.open_slice`: the inline renders of
one turn share `guard.LOOP_SLICE_SECONDS`. The one that outgrows the slice is abandoned (its
logs and metrics were held back, so nothing of it is kept) and the task run takes the worker
path: its RUNNING attempt is committed, then the task runs again on a render thread against a
snapshot of its expression context, with what the slice left of the render's deadline. Its
result comes back like any worker's (`Workers.results` and a wake-up), so the engine loop stays
the only writer. Renders are pure functions of their context; `now()` is read again.
"""

from __future__ import annotations

import asyncio
import copy
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tercel.engine import expressions, model, states
from tercel.engine.expressions import errors, guard
from tercel.engine.run import context
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime import runner

__all__ = ["RENDER_THREADS", "HeldContext", "render_pool", "run_off_loop", "try_on_loop"]

S = states.StateType
#: threads rendering abandoned inline tasks: one, as every extra busy thread is one more holder
#: of the GIL the loop waits for (two doubled the loop's p99 lag under the heavy mix)
RENDER_THREADS = 1
#: how often a render thread hands the GIL back while one runs (the default 5 ms let two
#: busy render threads keep the event loop waiting 50-240 ms after each of its reads)
SWITCH_SECONDS = 0.001


class HeldContext:
    """A RunContext that holds logs and metrics back until `release` (an abandoned run
    leaves nothing) and renders with `render_fn` (the live context, or a snapshot)."""

    __slots__ = ("_metrics", "held_logs", "render", "target")

    def __init__(self, target: runner.AttemptContext, render: Any) -> None:
        self.target, self.render = target, render
        self.held_logs: list[tuple[model.LogLevel, str]] = []
        self._metrics: list[tuple[str, str, float, Any]] = []

    @property
    def task(self) -> model.TaskDef:
        return self.target.task

    @property
    def execution_id(self) -> str:
        return self.target.execution_id

    @property
    def task_run_id(self) -> str:
        return self.target.task_run_id

    @property
    def attempt_number(self) -> int:
        return self.target.attempt_number

    @property
    def idempotency_key(self) -> str:
        return self.target.idempotency_key

    def log(self, level: model.LogLevel, message: str) -> None:
        self.held_logs.append((level, message))

    def counter(self, name: str, value: float, tags: Any = None) -> None:
        self._metrics.append(("counter", name, value, tags))

    def timer(self, name: str, seconds: float, tags: Any = None) -> None:
        self._metrics.append(("timer", name, seconds, tags))

    async def drain(self) -> None:
        """Inline tasks never wait."""

    async def sleep(self, seconds: float) -> None:
        raise RuntimeError("an inline task cannot sleep")

    def process_started(self, pid: int) -> None:
        raise RuntimeError("an inline task cannot start a process")

    def release(self) -> None:
        """Hand what was held to the real attempt (on the engine loop)."""
        for level, message in self.held_logs:
            self.target.log(level, message)
        for kind, name, value, tags in self._metrics:
            if kind == "counter":
                self.target.counter(name, value, tags)
            else:
                self.target.timer(name, value, tags)


def try_on_loop(ctx: runner.AttemptContext) -> runner.AttemptResult | None:
    """Run an inline task within the loop's slice; None when it must run off the loop."""
    held = HeldContext(ctx, ctx.render)
    guard.open_slice()
    try:
        result = runner.run_inline(held)
    except errors.SliceExceeded:
        return None
    finally:
        guard.close_slice()
    held.release()
    return result


def render_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(RENDER_THREADS, thread_name_prefix="tercel-render")


async def run_off_loop(
    ctx: runner.AttemptContext,
    es: ExecutionState,
    run: model.TaskRun,
    before: int,
    pool: ThreadPoolExecutor,
) -> runner.AttemptResult:
    """Run an inline task's attempt on a render thread; kill arrives as cancellation."""
    try:
        values = _snapshot(es, run, before, ctx.task.properties)
    except Exception:  # a value that cannot be copied: render on the loop as before the slice
        return runner.run_inline(ctx)
    held = HeldContext(ctx, lambda value: expressions.render_value(value, values))
    _rendering(+1)
    try:
        result = await asyncio.get_running_loop().run_in_executor(pool, _on_thread, held)
    except asyncio.CancelledError:
        if not ctx.killed:
            raise
        return runner.AttemptResult(ctx.execution_id, ctx.task_run_id, ctx.attempt_number, S.KILLED)
    finally:
        _rendering(-1)
    held.release()
    return result


class _Switching:
    """A short GIL switch interval while render threads run, the usual one otherwise (the
    engine's own threads gain nothing from switching more often). Used on the loop only."""

    running = 0
    usual = sys.getswitchinterval()


def _rendering(change: int) -> None:
    if change > 0 and _Switching.running == 0:
        _Switching.usual = sys.getswitchinterval()
        sys.setswitchinterval(min(SWITCH_SECONDS, _Switching.usual))
    _Switching.running += change
    if _Switching.running == 0:
        sys.setswitchinterval(_Switching.usual)


def _on_thread(held: HeldContext) -> runner.AttemptResult:
    guard.set_spent(guard.LOOP_SLICE_SECONDS)
    try:
        return runner.run_inline(held)
    finally:
        guard.set_spent(0.0)


def _snapshot(es: ExecutionState, run: model.TaskRun, before: int, props: Any) -> dict[str, Any]:
    """The task's expression context as it is now: the engine keeps changing the live one
    (outputs merge in place) while the thread renders."""
    values = context.task_run_context(es, run, context.names_in(props), before)
    error_logs = list(es.error_logs)
    values["__errorLogs"] = lambda: error_logs
    return {key: copy.deepcopy(value) for key, value in values.items()}
