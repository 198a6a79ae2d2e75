"""Flow triggers: an execution of another flow ends → start this flow (execution-model §25.3).

A listener on the engine's commits: for every execution a commit left terminated, each enabled
Flow trigger of another flow whose conditions all hold starts an execution with
`trigger.executionId`, `namespace`, `flowId`, `flowRevision`, `state` and `outputs`. The start is
a command of its own after the end's commit (a crash between the two commits loses it: see the
README's Limits).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from tercel.engine import faults, model, states
from tercel.engine.flows import conditiondefs, triggerdefs
from tercel.engine.runtime.flowindex import FlowIndex
from tercel.engine.runtime.scheduler import Batch, Engine
from tercel.engine.runtime.triggers import start_triggered
from tercel.storage import triggerstate

__all__ = ["FlowTriggerListener", "condition_holds"]


def condition_holds(condition: conditiondefs.Condition, ended: model.Execution) -> bool:
    """Kestra's ExecutionStatus, ExecutionFlow and ExecutionNamespace conditions."""
    if condition.kind == "STATUS":
        current = ended.state.current
        if condition.states_in and current not in condition.states_in:
            return False
        return current not in condition.states_not_in
    if condition.kind == "FLOW":
        return (ended.namespace, ended.flow_id) == (condition.namespace, condition.flow_id)
    if condition.comparison == "PREFIX":
        return ended.namespace.startswith(condition.namespace or "")
    return ended.namespace == condition.namespace


def _variables(ended: model.Execution) -> dict[str, Any]:
    return {
        "executionId": ended.id,
        "namespace": ended.namespace,
        "flowId": ended.flow_id,
        "flowRevision": ended.flow_revision,
        "state": ended.state.current.value,
        "outputs": ended.outputs or {},
    }


class FlowTriggerListener:
    def __init__(self, engine: Engine, index: FlowIndex) -> None:
        self.engine, self.index = engine, index
        self._tasks: set[asyncio.Task[None]] = set()

    def __call__(self, batch: Batch) -> None:
        """Called after each commit (synchronously): find the executions it ended."""
        ended_ids = {
            row.execution_id
            for row in batch.changes.states
            if row.entity is states.Entity.EXECUTION and row.state.is_terminated
        }
        if not ended_ids:
            return
        by_id = {ex.id: ex for ex in batch.executions}
        by_id.update(batch.changes.executions)
        for execution_id in ended_ids:
            ended = by_id.get(execution_id)
            if ended is None or not ended.state.current.is_terminated:
                continue
            starts = self._matching(ended)
            if starts:
                task = asyncio.create_task(self._start(starts, _variables(ended)))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    def _matching(
        self, ended: model.Execution
    ) -> list[tuple[model.Flow, triggerdefs.FlowTriggerDef]]:
        found = []
        for flow in self.index.flows():
            if (flow.namespace, flow.id) == (ended.namespace, ended.flow_id):
                continue  # another flow's end only (no trigger loops on itself)
            if self.index.disabled(flow):
                continue
            for trigger in flow.triggers:
                if (
                    isinstance(trigger, triggerdefs.FlowTriggerDef)
                    and not trigger.disabled
                    and all(condition_holds(c, ended) for c in trigger.conditions)
                ):
                    found.append((flow, trigger))
        return found

    async def _start(
        self,
        starts: list[tuple[model.Flow, triggerdefs.FlowTriggerDef]],
        variables: dict[str, Any],
    ) -> None:
        switched_off = triggerstate.switched_off(self.engine.loop_reader)
        for flow, trigger in starts:
            key = (flow.namespace, flow.id, trigger.id)
            if key in switched_off:
                continue
            why: str | None = None
            try:
                outcome = await start_triggered(
                    self.engine, flow, trigger, trigger.inputs, variables
                )
                if not isinstance(outcome, model.Execution):
                    why = outcome.message
            except faults.EngineUnavailable as error:  # the engine stops, the disk is full
                why = str(error)
            if why is not None:
                print(
                    f"tercel: WARN trigger {'.'.join(key)} on the end of "
                    f"{variables['executionId']}: not started: {why}",
                    file=sys.stderr,
                )
