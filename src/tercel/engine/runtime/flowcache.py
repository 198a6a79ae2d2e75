"""The flows the engine knows: every revision it has loaded, the latest of each flow, and the
flows disabled through the API (a flow's source may also say `disabled: true`)."""

from __future__ import annotations

import dataclasses

from tercel.engine import model
from tercel.engine.flows import loader
from tercel.storage import flowstore

__all__ = ["FlowCache"]


class FlowCache:
    def __init__(self) -> None:
        self._flows: dict[tuple[str, str, int], model.Flow] = {}
        self._latest: dict[tuple[str, str], model.Flow] = {}
        self._disabled: set[tuple[str, str]] = set()

    def get(self, namespace: str, flow_id: str, revision: int) -> model.Flow | None:
        """One revision, if loaded."""
        return self._flows.get((namespace, flow_id, revision))

    def from_row(self, row: flowstore.FlowRow | None) -> model.Flow | None:
        """Load and remember a stored revision; None when absent or no longer valid."""
        if row is None:
            return None
        try:
            flow = loader.load_flow(row.source, revision=row.revision)
        except loader.FlowValidationError:
            return None  # stored under an older, laxer validator
        self.remember(flow)
        return flow

    def remember(self, flow: model.Flow) -> None:
        self._flows[(flow.namespace, flow.id, flow.revision)] = flow
        latest = self._latest.get((flow.namespace, flow.id))
        if latest is None or latest.revision <= flow.revision:
            self._latest[(flow.namespace, flow.id)] = flow

    def switched(self, namespace: str, flow_id: str, disabled: bool) -> None:
        """A flow was disabled or enabled through the API (not through its source)."""
        if disabled:
            self._disabled.add((namespace, flow_id))
        else:
            self._disabled.discard((namespace, flow_id))

    def deleted(self, namespace: str, flow_id: str) -> None:
        self._latest.pop((namespace, flow_id), None)

    def find(self, namespace: str, flow_id: str, revision: int | None) -> model.Flow | None:
        """A revision, or the latest; disabled through the API shows as `disabled`."""
        if revision is None:
            found = self._latest.get((namespace, flow_id))
        else:
            found = self._flows.get((namespace, flow_id, int(revision)))
        if found is not None and (namespace, flow_id) in self._disabled:
            return dataclasses.replace(found, disabled=True)
        return found
