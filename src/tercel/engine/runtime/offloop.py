"""Inline tasks whose renders outgrow the event loop's slice finish off the loop.

An inline task (Return, Log, ...) runs inside the engine pass, on the event loop that also
serves HTTP and websockets. It first runs there under `guard.open_slice`: the inline renders of
one turn share `guard.LOOP_SLICE_SECONDS`. The one that outgrows the slice is abandoned (its
logs and metrics were held back, so nothing of it is kept) and the task run takes the worker
path: its RUNNING attempt is committed, then the task runs again on a render thread whose
renders go to a render process (`expressions.farm`: out of the server's GIL, killed at the
deadline) against a snapshot of its expression context, each with what the slice left of the
render's deadline. Its result comes back like any worker's (`Workers.results` and a wake-up),
so the engine loop stays the only writer. Renders are pure functions of their context; `now()`
is read again.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

from tercel.engine import model, states
from tercel.engine.actions import deferred
from tercel.engine.expressions import errors, farm, guard
from tercel.engine.files import FileStorage
from tercel.engine.run import context
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime import runner

__all__ = ["HeldContext", "RenderPool", "render_pool", "run_off_loop", "try_on_loop"]

S = states.StateType


class RenderPool(ThreadPoolExecutor):
    """Threads that wait on the render processes (one per process: a thread only packs the
    request and waits for the answer, without the GIL), and the processes (`farm`)."""

    def __init__(self) -> None:
        super().__init__(farm.WORKERS, thread_name_prefix="tercel-render")
        self.farm = farm.Farm(farm.WORKERS, preload=(deferred.__name__,))
        #: renders of engine passes waiting for their answer (see actions/deferred.py)
        self.parked: set[asyncio.Task[None]] = set()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait, cancel_futures=cancel_futures)
        self.farm.close()


class HeldContext:
    """A RunContext that holds logs and metrics back until `release` (an abandoned run
    leaves nothing) and renders with `render_fn` (the live context, or a snapshot). Every
    inline task runs through one: plain attributes, no properties."""

    __slots__ = (
        "_metrics",
        "attempt_number",
        "execution_id",
        "held_logs",
        "render",
        "target",
        "task",
        "task_run_id",
    )

    def __init__(self, target: runner.AttemptContext, render: Any) -> None:
        self.target, self.render = target, render
        self.task: model.TaskDef = target.task
        self.execution_id: str = target.execution_id
        self.task_run_id: str = target.task_run_id
        self.attempt_number: int = target.attempt_number
        self.held_logs: list[tuple[model.LogLevel, str]] = []
        self._metrics: list[tuple[str, str, float, Any]] = []

    @property
    def idempotency_key(self) -> str:
        return self.target.idempotency_key

    @property
    def files(self) -> FileStorage:
        return self.target.files

    def open_file(self, uri: str) -> BinaryIO:
        return self.target.open_file(uri)

    def store_file(self, name: str, source: BinaryIO) -> str:
        raise RuntimeError("an inline task cannot store a file")

    @property
    def namespace(self) -> str:
        return self.target.namespace

    @property
    def flow_id(self) -> str:
        return self.target.flow_id

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

    @property
    def services(self) -> None:
        """Inline tasks act on their own execution only."""

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
    """Run an inline task within the loop's slice; None when it must run off the loop. One
    whose properties hold no template runs directly: its renders return their values as
    written, so none can outgrow the slice and nothing needs holding back."""
    if ctx.renders_as_written:
        return runner.run_inline(ctx)
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


def render_pool() -> RenderPool:
    return RenderPool()


async def run_off_loop(
    ctx: runner.AttemptContext,
    es: ExecutionState,
    run: model.TaskRun,
    before: int,
    pool: RenderPool,
) -> runner.AttemptResult:
    """Run an inline task's attempt on a render thread, its renders in a render process; kill
    arrives as cancellation."""
    try:
        values = _snapshot(es, run, before, ctx.task.properties)
    except Exception:  # a value that cannot be copied: render on the loop as before the slice
        return runner.run_inline(ctx)
    held = HeldContext(
        ctx, lambda value: farm.render_away(pool.farm, value, values, guard.LOOP_SLICE_SECONDS)
    )
    try:
        result = await asyncio.get_running_loop().run_in_executor(pool, runner.run_inline, held)
    except asyncio.CancelledError:
        if not ctx.killed:
            raise
        return runner.AttemptResult(ctx.execution_id, ctx.task_run_id, ctx.attempt_number, S.KILLED)
    held.release()
    return result


def _snapshot(es: ExecutionState, run: model.TaskRun, before: int, props: Any) -> bytes:
    """The task's expression context as it is now, packed for the render process: the engine
    keeps changing the live one (outputs merge in place) while the task renders."""
    return farm.pack(context.task_run_context(es, run, context.names_in(props), before))
