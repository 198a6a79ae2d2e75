"""The engine loop as its helpers see it: what commits, quarantine and recovery use of it.

`scheduler.Engine` satisfies `EngineLoop`; the helpers are typed with it instead of importing
the scheduler (which imports them), so the runtime's import graph has no cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from tercel import clock as clocks
from tercel.engine import faults, model
from tercel.engine.actions import dispatch
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime import flowcache, workers
from tercel.engine.store import Store, StoreReads

__all__ = ["EngineLoop"]

T = TypeVar("T")


class EngineLoop(Protocol):
    @property
    def clock(self) -> clocks.Clock: ...

    @property
    def db(self) -> Store: ...

    @property
    def loop_reads(self) -> StoreReads: ...

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
