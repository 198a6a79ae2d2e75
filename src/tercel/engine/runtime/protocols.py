"""The engine loop as its helpers see it: what commits, quarantine, recovery and the steps of an
iteration use of it.

`scheduler.Engine` satisfies `EngineLoop`; the helpers are typed with it instead of importing
the scheduler (which imports them), so the runtime's import graph has no cycle.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from tercel import clock as clocks
from tercel.engine import faults, model
from tercel.engine.actions import dispatch
from tercel.engine.changes import Batch
from tercel.engine.files import FileStorage
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime import flowcache, wakeups, workers
from tercel.engine.store import Store, StoreReads

__all__ = ["EngineLoop", "RunningLoop"]

T = TypeVar("T")


class EngineLoop(Protocol):
    @property
    def clock(self) -> clocks.Clock: ...

    @property
    def db(self) -> Store: ...

    @property
    def loop_reads(self) -> StoreReads: ...

    @property
    def files(self) -> FileStorage:
        """Internal storage (synced by each commit before it writes)."""

    @property
    def active(self) -> dict[str, ExecutionState]:
        """Executions in memory, by id."""

    @property
    def quarantined(self) -> set[str]:
        """Executions the engine is failing itself, until that failure is committed."""

    @property
    def flows(self) -> flowcache.FlowCache: ...

    @property
    def slots(self) -> dispatch.Slots: ...

    @property
    def workers(self) -> workers.Workers: ...

    async def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the writer thread."""

    async def flow(self, namespace: str, flow_id: str, revision: int) -> model.Flow | None: ...

    def track(self, es: ExecutionState) -> None: ...

    def wake(self) -> None:
        """Make the loop run another iteration."""

    def deleting(self, execution_id: str) -> bool: ...

    def unlink_subflow(self, child_id: str) -> str | None: ...

    def refuse_waiting(self, error: faults.EngineUnavailable) -> None: ...


class RunningLoop(EngineLoop, Protocol):
    """The loop as the steps of one iteration see it (`arrivals`, `aftercommit`)."""

    listeners: list[Callable[[Batch], None]]
    last_batches: collections.deque[Batch]
    published_state_seq: int
    published_log_seq: int

    @property
    def held(self) -> set[str]:
        """Executions whose passes wait for `release` (a bulk action's batches)."""

    @property
    def timer_queue(self) -> wakeups.TimerQueue: ...

    @property
    def subflow_links(self) -> wakeups.SubflowLinks: ...

    def touch(self, execution_id: str) -> None:
        """Run a pass over this execution at the next iteration."""

    def guarded(self, es: ExecutionState, step: Callable[..., Any], *args: Any) -> None:
        """Run one step on one execution: a bug in it fails that execution only."""
