"""The latest revision of every flow that has triggers, for the trigger runners.

Refreshed from the latest revisions without their sources (`StoreReads.latest_flow_heads` on
the loop's read-only connection; parsed revisions come from the engine's flow cache), so a
deploy, a disable or a delete made by any path is seen at the next refresh.
"""

from __future__ import annotations

from tercel.engine import model
from tercel.engine.runtime.scheduler import Engine

__all__ = ["FlowIndex"]


class FlowIndex:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._flows: dict[tuple[str, str], model.Flow] = {}
        self._switched_off: set[tuple[str, str]] = set()

    async def refresh(self) -> None:
        heads = self.engine.loop_reads.latest_flow_heads()
        flows: dict[tuple[str, str], model.Flow] = {}
        switched_off: set[tuple[str, str]] = set()
        for head in heads:
            flow = await self.engine.flow(head.namespace, head.id, head.revision)
            if flow is None or not flow.triggers:
                continue
            flows[(head.namespace, head.id)] = flow
            if head.disabled:
                switched_off.add((head.namespace, head.id))
        self._flows, self._switched_off = flows, switched_off

    def flows(self) -> list[model.Flow]:
        return list(self._flows.values())

    def find(self, namespace: str, flow_id: str) -> model.Flow | None:
        return self._flows.get((namespace, flow_id))

    def disabled(self, flow: model.Flow) -> bool:
        """Disabled in its YAML or through the API: its triggers do not fire."""
        return flow.disabled or (flow.namespace, flow.id) in self._switched_off
