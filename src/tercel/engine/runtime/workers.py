"""The worker side of the engine: running attempts as asyncio tasks within the worker slots.

Attempts start only after the commit that recorded them (at-least-once); their results, logs
and process records come back to the engine loop through `results` and the wake-up callables.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from tercel import clock as clocks
from tercel import failpoints
from tercel.engine.actions import dispatch
from tercel.engine.files import FileStorage
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime import offloop, runner
from tercel.engine.tasks.base import EngineServices

__all__ = ["LOG_FLUSH_SECONDS", "Workers"]

#: how long a log line may wait for the next commit before one is made for it
LOG_FLUSH_SECONDS = 0.05

_Running = tuple[asyncio.Task[runner.AttemptResult], runner.AttemptContext]


class Workers:
    def __init__(
        self, clock: clocks.Clock, slots: int, wake: Callable[[], None], files: FileStorage
    ) -> None:
        self.clock, self.slots, self._wake = clock, dispatch.Slots(slots), wake
        #: the internal storage the attempts read and write through (`RunContext.files`)
        self.files = files
        #: results of finished attempts, applied by the engine loop
        self.results: list[runner.AttemptResult] = []
        self._running: dict[tuple[str, int], _Running] = {}
        self._flush: asyncio.TimerHandle | None = None
        #: where renders that outgrew the loop's slice run (see offloop, deferred)
        self._render_pool = offloop.render_pool()
        #: what the engine does for a task on other executions (set by the engine)
        self.services: EngineServices | None = None

    @property
    def render_pool(self) -> offloop.RenderPool:
        """Where renders that outgrew the loop's slice run (offloop, deferred)."""
        return self._render_pool

    def start(self, es: ExecutionState) -> None:
        """Start the attempts the last commit recorded; deliver kill requests."""
        starting, es.to_start = es.to_start, []
        for run, attempt, before in starting:
            failpoints.hit("after_attempt_commit")
            ctx = runner.AttemptContext(
                es, run, attempt, before, self.clock, self._wake_soon, self.files, self.services
            )
            if dispatch.is_inline(ctx.task):
                body = offloop.run_off_loop(ctx, es, run, before, self._render_pool)
            else:
                body = runner.run_attempt(ctx)
            task = asyncio.create_task(body)
            key = (run.id, attempt.number)
            self._running[key] = (task, ctx)
            task.add_done_callback(functools.partial(self._done, key))
        for task_run_id in es.to_cancel:
            for (run_id, _), (task, ctx) in self._running.items():
                if run_id == task_run_id:
                    ctx.killed = True
                    task.cancel()
        es.to_cancel = []

    def running_for(self, es: ExecutionState) -> bool:
        return any(key[0] in es.by_id for key in self._running)

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def close_slots(self) -> None:
        """No attempt starts any more (stopping)."""
        self.slots.free -= 1 << 30

    async def cancel_all(self) -> None:
        """Cancel what still runs: those attempts stay RUNNING and are resubmitted at start."""
        if self._flush is not None:
            self._flush.cancel()
        tasks: list[asyncio.Task[Any]] = [task for task, _ in self._running.values()]
        tasks += self._render_pool.parked  # renders of passes: their task runs stay CREATED
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        # a render thread waits for its render process until the deadline and its grace
        await asyncio.get_running_loop().run_in_executor(None, self._render_pool.shutdown)

    def _done(self, key: tuple[str, int], task: asyncio.Task[runner.AttemptResult]) -> None:
        self._running.pop(key, None)
        self.slots.free += 1
        if task.cancelled() or task.exception() is not None:
            return  # engine stopping: the attempt stays RUNNING and is resubmitted at start
        failpoints.hit("before_result_commit")
        self.results.append(task.result())
        self._wake()

    def _wake_soon(self) -> None:
        """Logs and process records ride with the next commit, or are flushed within 50 ms."""
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(LOG_FLUSH_SECONDS, self._flushed)

    def _flushed(self) -> None:
        self._flush = None
        self._wake()
