"""What wakes the engine loop besides commands and attempt results: due timers and the ends of
subflow children. Both are in-memory indexes over the truth kept elsewhere (timer rows, the
children's committed states), rebuilt at start by recovery."""

from __future__ import annotations

import asyncio
import heapq
from datetime import datetime

from tercel import clock as clocks
from tercel.engine import changes, model

__all__ = ["SubflowLinks", "TimerQueue", "wait"]


async def wait(wake: asyncio.Event, timers: TimerQueue, clock: clocks.Clock) -> None:
    """Until `wake` is set or the next timer is due (on the engine's clock)."""
    delay = timers.seconds_until_next(clock.now())
    if delay is None:
        await wake.wait()
        return
    if delay <= 0:
        return
    await clocks.sleep_or_until(clock, delay, wake)


class TimerQueue:
    """Due dates of the timers of executions in memory: a heap, only a wake-up hint (a fired
    timer is looked up in its execution, which may have dropped it meanwhile)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, str, str]] = []

    def push(self, timer: changes.TimerRow) -> None:
        heapq.heappush(
            self._heap, (clocks.to_micros(timer.due) / 1e6, timer.id, timer.execution_id)
        )

    def seconds_until_next(self, now: datetime) -> float | None:
        """How long until the next due date (negative: overdue); None when nothing is due."""
        if not self._heap:
            return None
        return self._heap[0][0] - clocks.to_micros(now) / 1e6

    def pop_due(self, now: datetime) -> list[tuple[str, str]]:
        """(timer id, execution id) of every timer due at `now`, earliest first."""
        due = clocks.to_micros(now) / 1e6
        found: list[tuple[str, str]] = []
        while self._heap and self._heap[0][0] <= due:
            _, timer_id, execution_id = heapq.heappop(self._heap)
            found.append((timer_id, execution_id))
        return found


class SubflowLinks:
    """Waiting subflow task runs (`wait: true`) and the children whose end they wait for."""

    def __init__(self) -> None:
        #: child execution id -> (parent execution id, subflow task run id)
        self._parents: dict[str, tuple[str, str]] = {}
        self._ended: list[model.Execution] = []

    def link(self, child_id: str, parent_id: str, run_id: str) -> None:
        self._parents[child_id] = (parent_id, run_id)

    def unlink(self, child_id: str) -> str | None:
        """The parent execution waiting for this child, which is forgotten."""
        return self._parents.pop(child_id, ("", ""))[0] or None

    def waited_for(self, child_id: str) -> bool:
        return child_id in self._parents

    def ended(self, child: model.Execution) -> None:
        self._ended.append(child)

    def take_ended(self) -> list[tuple[model.Execution, str, str]]:
        """(child, parent execution id, task run id) of the children that ended since the last
        call; each link is forgotten (the parent id is empty when nothing waits any more)."""
        ended, self._ended = self._ended, []
        return [(child, *self._parents.pop(child.id, ("", ""))) for child in ended]
