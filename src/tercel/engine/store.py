"""The engine's store: everything the engine writes and reads back, as a protocol.

The engine commits one `ChangeSet` per transaction, reads its active executions, timers and
leftover processes back at start, deploys and looks up flows, and keeps the triggers' state.
It sees storage only through `Store` (and `StoreReads` for the loop's own read-only
connection), so the actions and passes can be run against
`tercel.storage.memory.MemoryStore` in a unit test, with no thread and no file, while the
engine runs on `tercel.storage.sqlite.Database`. `tests/unit/storage/` runs one contract
against both so they cannot drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from tercel.engine import changes, model, states

__all__ = [
    "ExecutionEnd",
    "FlowHead",
    "FlowRow",
    "Loaded",
    "Store",
    "StoreReads",
    "StoredTrigger",
    "TriggerKey",
]

#: (namespace, flow id, trigger id)
TriggerKey = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class FlowRow:
    """One stored revision of a flow."""

    namespace: str
    id: str
    revision: int
    source: str
    disabled: bool
    updated: datetime


@dataclass(frozen=True, slots=True)
class FlowHead:
    """The latest revision of a flow, without its source (what the trigger runners look at
    every second; the parsed flow comes from the engine's cache)."""

    namespace: str
    id: str
    revision: int
    disabled: bool


@dataclass(frozen=True, slots=True)
class StoredTrigger:
    """A trigger's stored state, with the switch of `setTriggerDisabled`."""

    row: changes.TriggerStateRow
    disabled: bool


@dataclass(frozen=True, slots=True)
class ExecutionEnd:
    """An execution end of the state-change log, with what a Flow trigger passes on."""

    seq: int
    id: str
    namespace: str
    flow_id: str
    flow_revision: int
    state: states.StateType
    outputs: dict[str, Any] | None


@dataclass(slots=True)
class Loaded:
    """Executions read back from the store, with the plans of their flowable task runs."""

    executions: list[model.Execution]
    #: task run id -> plan recorded when its flowable started
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)


class StoreReads(Protocol):
    """What the engine reads back: at start (recovery), and to fail one execution."""

    def load_executions(self, ids: Sequence[str]) -> Loaded:
        """The executions with these ids (unknown ids left out), in the order given."""

    def active_execution_ids(self) -> list[str]:
        """Ids of every execution not in a terminal state, oldest first."""

    def load_timers(self, execution_id: str | None = None) -> list[changes.TimerRow]:
        """Every timer (or those of one execution), earliest due first."""

    def flow(self, namespace: str, flow_id: str, revision: int) -> FlowRow | None:
        """One revision, deleted or not."""

    def latest_flow(self, namespace: str, flow_id: str) -> FlowRow | None:
        """The latest revision of a flow that is not deleted."""

    def latest_flows(self, namespace: str | None = None) -> list[FlowRow]:
        """The latest revision of every flow that is not deleted, by namespace and id (of
        `namespace` and its sub-namespaces when given)."""

    def latest_flow_heads(self) -> list[FlowHead]:
        """`latest_flows` without the sources."""

    def trigger_states(self) -> dict[TriggerKey, StoredTrigger]:
        """Every trigger's stored state."""

    def switched_off_triggers(self) -> set[TriggerKey]:
        """The triggers turned off by `setTriggerDisabled`."""

    def executions_ended_since(self, seq: int) -> list[ExecutionEnd]:
        """Every execution end of the state-change log after `seq`, in `seq` order (executions
        deleted since are left out)."""


class Store(StoreReads, Protocol):
    """The engine's writer side: one instance, used from one thread."""

    @property
    def last_state_seq(self) -> int:
        """The `seq` of the last state-change row committed (0 when there is none)."""

    @property
    def last_log_seq(self) -> int:
        """The `seq` of the last log row committed (0 when there is none)."""

    def commit(self, cs: changes.ChangeSet) -> None:
        """Write one change set atomically; assigns `seq` to its state and log rows in list
        order (left 0, and the counters unmoved, when the commit fails)."""

    def leftover_processes(self) -> list[tuple[str, int, int]]:
        """(task run id, attempt number, process group id) recorded by attempts of an engine
        that is gone."""

    def forget_processes(self) -> None:
        """Drop every process record once recovery ended what they name."""

    def deploy_flow(
        self, namespace: str, flow_id: str, source: str, disabled: bool, now: datetime
    ) -> FlowRow:
        """Store `source` as revision n+1, unless it equals the latest revision's source."""

    def set_flow_disabled(self, namespace: str, flow_id: str, disabled: bool) -> int | None:
        """Disable or enable a flow; its latest revision, or None when there is no such flow."""

    def delete_flow(self, namespace: str, flow_id: str) -> int | None:
        """Mark every revision deleted; the latest revision, or None when there is none."""

    def save_trigger_states(self, rows: Sequence[changes.TriggerStateRow]) -> None:
        """Write trigger states in a transaction of their own (a first date, a skipped date, a
        watermark): as `commit` writes a change set's `trigger_states`."""

    def set_trigger_disabled(
        self, namespace: str, flow_id: str, trigger_id: str, disabled: bool
    ) -> None:
        """The switch of `setTriggerDisabled`; turning off forgets a Schedule's next date."""

    def close(self) -> None: ...
