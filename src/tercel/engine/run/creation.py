"""Creating a new execution's in-memory state (API, CLI, subflow children, replays)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tercel import ids
from tercel.engine import model, states
from tercel.engine.run import plans
from tercel.engine.run.execution import ExecutionState

__all__ = ["fresh_state", "new_execution"]


def new_execution(
    flow: model.Flow,
    values: dict[str, Any] | None,
    labels: Sequence[model.Label],
    now: datetime,
    *,
    trigger: dict[str, Any] | None = None,
    correlation_id: str | None = None,
    execution_id: str | None = None,
    variables: dict[str, Any] | None = None,
) -> ExecutionState:
    """A CREATED execution: flow labels overridden by `labels`, then `system.correlationId`.
    `execution_id`: chosen beforehand (its input files are stored under it first)."""
    execution_id = execution_id or ids.new_id()
    merged = {label.key: label.value for label in flow.labels}
    merged.update({label.key: label.value for label in labels})
    merged.setdefault("system.correlationId", correlation_id or execution_id)
    ex = model.Execution(
        id=execution_id,
        namespace=flow.namespace,
        flow_id=flow.id,
        flow_revision=flow.revision,
        state=states.State.new(states.StateType.CREATED, now),
        inputs=values,
        labels=[model.Label(k, v) for k, v in merged.items()],
        original_id=execution_id,
        original_created_date=now,
        trigger=trigger,
        variables=variables or {},
    )
    return fresh_state(ex, flow)


def fresh_state(ex: model.Execution, flow: model.Flow) -> ExecutionState:
    """The skeleton of every new execution (created, a subflow's child, a replay from the
    start, a new-execution retry's replacement): its top level planned, its row and first
    history entry to insert."""
    es = ExecutionState(ex, flow)
    plans.apply_top_level(es.containers[None], flow)
    es.changes.new_executions[ex.id] = ex
    es.record_created()
    return es
