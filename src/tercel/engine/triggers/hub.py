"""Starts and stops what runs a server's triggers: the flow index, the Schedule runner and the
Flow-trigger listener (Webhook triggers are served by the HTTP route, `tercel.webhooks`)."""

from __future__ import annotations

from tercel.engine.runtime.scheduler import Engine
from tercel.engine.triggers.flowindex import FlowIndex
from tercel.engine.triggers.flowtriggers import FlowTriggerListener
from tercel.engine.triggers.schedules import ScheduleRunner

__all__ = ["TriggerHub"]


class TriggerHub:
    def __init__(self, engine: Engine) -> None:
        self.index = FlowIndex(engine)
        self.schedules = ScheduleRunner(engine, self.index)
        self.listener = FlowTriggerListener(engine, self.index)
        self._engine = engine

    async def start(self) -> None:
        """Quick: the flows are read by the runners' own loops, not before `/health` is up."""
        await self.listener.start()
        await self.schedules.start()

    async def stop(self) -> None:
        await self.schedules.stop()
        await self.listener.stop()
