"""The flow revisions of `MemoryStore`, with what `flowstore.py` and `flowadmin.py` do on
SQLite: a deploy makes revision n+1 unless the source is the latest one's, a disable switches
every revision, a delete marks every revision deleted (still readable by number)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from tercel.engine.store import FlowHead, FlowRow

__all__ = ["MemoryFlows"]


class MemoryFlows:
    """The `Store`'s flow methods over a list of revisions."""

    def __init__(self) -> None:
        #: every flow revision, with its deleted flag
        self._flows: list[tuple[FlowRow, bool]] = []

    def flow(self, namespace: str, flow_id: str, revision: int) -> FlowRow | None:
        for row, _ in self._flows:
            if (row.namespace, row.id, row.revision) == (namespace, flow_id, revision):
                return row
        return None

    def latest_flow(self, namespace: str, flow_id: str) -> FlowRow | None:
        live = [
            r for r, gone in self._flows if not gone and (r.namespace, r.id) == (namespace, flow_id)
        ]
        return max(live, key=lambda r: r.revision, default=None)

    def latest_flows(self, namespace: str | None = None) -> list[FlowRow]:
        keys = sorted({_key(r) for r, _ in self._flows})
        if namespace:
            keys = [k for k in keys if k[0] == namespace or k[0].startswith(namespace + ".")]
        return [row for ns, i in keys if (row := self.latest_flow(ns, i)) is not None]

    def latest_flow_heads(self) -> list[FlowHead]:
        return [FlowHead(r.namespace, r.id, r.revision, r.disabled) for r in self.latest_flows()]

    def deploy_flow(
        self, namespace: str, flow_id: str, source: str, disabled: bool, now: datetime
    ) -> FlowRow:
        current = self.latest_flow(namespace, flow_id)
        if current is not None and current.source == source:
            return current
        top = max(
            (r.revision for r, _ in self._flows if (r.namespace, r.id) == (namespace, flow_id)),
            default=0,
        )
        row = FlowRow(namespace, flow_id, top + 1, source, disabled, now)
        self._flows.append((row, False))
        return row

    def set_flow_disabled(self, namespace: str, flow_id: str, disabled: bool) -> int | None:
        current = self.latest_flow(namespace, flow_id)
        if current is None:
            return None
        self._flows = [
            (
                dataclasses.replace(r, disabled=disabled)
                if (r.namespace, r.id) == (namespace, flow_id)
                else r,
                d,
            )
            for r, d in self._flows
        ]
        return current.revision

    def delete_flow(self, namespace: str, flow_id: str) -> int | None:
        current = self.latest_flow(namespace, flow_id)
        if current is None:
            return None
        self._flows = [
            (r, d or (r.namespace, r.id) == (namespace, flow_id)) for r, d in self._flows
        ]
        return current.revision


def _key(row: FlowRow) -> tuple[str, str]:
    return (row.namespace, row.id)
