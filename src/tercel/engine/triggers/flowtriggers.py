"""Flow triggers: an execution of another flow ends → start this flow
(docs/semantics.md#flow-trigger).

Each execution end is a row of the state-change log with its `seq`. One worker takes the ends in
`seq` order (from a commit listener while the server runs, from the log itself at start) and, for
each enabled Flow trigger of another flow whose conditions all hold, starts an execution with
`trigger.executionId`, `namespace`, `flowId`, `flowRevision`, `state` and `outputs`. The
trigger's *watermark* (the `seq` of the last end it started for) is written in the creation's own
commit, and the log is read again from the lowest watermark at start: an end whose start was
lost to a crash starts after the restart, one whose start was committed does not start twice.
A trigger counts ends from the moment its watermark is first stored (within a second of its
deploy).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any

from tercel import failpoints
from tercel.engine import changes, faults, model, states
from tercel.engine.changes import Batch
from tercel.engine.flows import conditiondefs, triggerdefs
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime.scheduler import Engine
from tercel.engine.store import ExecutionEnd
from tercel.engine.triggers.flowindex import FlowIndex
from tercel.engine.triggers.schedules import start_triggered

__all__ = ["FlowTriggerListener", "condition_holds", "trigger_variables"]

Key = tuple[str, str, str]
#: the longest wait before new Flow triggers get their first watermark
LOOK_SECONDS = 1.0
#: how far (in state-change rows) a watermark may lag the handled ends before it is moved up
STALE_ENDS = 10_000


def trigger_variables(ended: ExecutionEnd) -> dict[str, Any]:
    """`trigger.*` of the execution a Flow trigger starts for `ended`."""
    return {
        "executionId": ended.id,
        "namespace": ended.namespace,
        "flowId": ended.flow_id,
        "flowRevision": ended.flow_revision,
        "state": ended.state.value,
        "outputs": ended.outputs or {},
    }


def condition_holds(condition: conditiondefs.Condition, ended: ExecutionEnd) -> bool:
    """Kestra's ExecutionStatus, ExecutionFlow and ExecutionNamespace conditions."""
    if condition.kind == "STATUS":
        if condition.states_in and ended.state not in condition.states_in:
            return False
        return ended.state not in condition.states_not_in
    if condition.kind == "FLOW":
        return (ended.namespace, ended.flow_id) == (condition.namespace, condition.flow_id)
    if condition.comparison == "PREFIX":
        return ended.namespace.startswith(condition.namespace or "")
    return ended.namespace == condition.namespace


class FlowTriggerListener:
    def __init__(self, engine: Engine, index: FlowIndex) -> None:
        self.engine, self.index = engine, index
        self.watermarks: dict[Key, int] = {}
        self._pending: list[ExecutionEnd] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Register, then read the ends the log has past the lowest watermark (no await in
        between: every later end comes through the listener, none twice)."""
        stored = await self.engine.call(self.engine.db.trigger_states)
        self.watermarks = {
            key: found.row.watermark
            for key, found in stored.items()
            if found.row.watermark is not None
        }
        self.engine.listeners.append(self)
        if self.watermarks:
            since = min(self.watermarks.values())
            self._pending.extend(self.engine.loop_reads.executions_ended_since(since))
        self._task = asyncio.create_task(self._run(), name="tercel-flow-triggers")

    async def stop(self) -> None:
        if self in self.engine.listeners:
            self.engine.listeners.remove(self)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def __call__(self, batch: Batch) -> None:
        """Called after each commit (synchronously): queue the ends it wrote."""
        by_id = {ex.id: ex for ex in batch.executions}
        by_id.update(batch.changes.executions)
        by_id.update(batch.changes.new_executions)
        for row in batch.changes.states:
            if row.entity is not states.Entity.EXECUTION or not row.state.is_terminated:
                continue
            ex = by_id.get(row.execution_id)
            if ex is not None:
                self._pending.append(_ended(row.seq, ex, row.state))
                self._wake.set()

    async def _run(self) -> None:
        while self.engine.stopped_reason is None:
            try:
                await self._first_watermarks()
                await self._drain()
            except faults.EngineUnavailable:
                pass  # the ends stay in the log past the watermarks: read again at start
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), LOOK_SECONDS)
            self._wake.clear()

    async def _first_watermarks(self) -> None:
        """A Flow trigger seen for the first time counts the ends after now."""
        await self.index.refresh()
        head = self.engine.published_state_seq
        new = [
            changes.TriggerStateRow(*key, None, "", None, head)
            for key in self._flow_trigger_keys()
            if key not in self.watermarks
        ]
        if new:
            await self._save(new)
            for row in new:
                self.watermarks[(row.namespace, row.flow_id, row.trigger_id)] = head

    def _flow_trigger_keys(self) -> list[Key]:
        return [
            (flow.namespace, flow.id, trigger.id)
            for flow in self.index.flows()
            for trigger in flow.triggers
            if isinstance(trigger, triggerdefs.FlowTriggerDef)
        ]

    async def _drain(self) -> None:
        taken, self._pending = sorted(self._pending, key=lambda e: e.seq), []
        for position, ended in enumerate(taken):
            try:
                await self._starts_for(ended)
            except BaseException:
                self._pending[:0] = taken[position:]  # not started yet: try again later
                raise
        if taken:
            await self._advance(taken[-1].seq)

    async def _advance(self, done: int) -> None:
        """Every end up to `done` is handled: move watermarks far behind it there, so the
        log read at start stays short for triggers whose conditions rarely hold."""
        stale = [key for key, mark in self.watermarks.items() if mark < done - STALE_ENDS]
        if not stale:
            return
        await self._save([changes.TriggerStateRow(*key, None, "", None, done) for key in stale])
        for key in stale:
            self.watermarks[key] = done

    async def _save(self, rows: list[changes.TriggerStateRow]) -> None:
        db = self.engine.db
        await self.engine.call(lambda: db.save_trigger_states(rows))

    async def _starts_for(self, ended: ExecutionEnd) -> None:
        switched_off = self.engine.loop_reads.switched_off_triggers()
        for flow, trigger in self._matching(ended):
            key = (flow.namespace, flow.id, trigger.id)
            mark = self.watermarks.get(key)
            if mark is None or ended.seq <= mark:
                continue
            if self.index.disabled(flow) or trigger.disabled or key in switched_off:
                await self._skip(key, ended.seq)  # an end while it is off never starts it
                continue
            outcome = await start_triggered(
                self.engine, flow, trigger, trigger.inputs, trigger_variables(ended),
                _recorder(key, ended.seq),
            )  # fmt: skip
            self.watermarks[key] = ended.seq
            if isinstance(outcome, model.Execution):
                failpoints.hit("after_flow_trigger_commit")
            else:
                print(
                    f"tercel: WARN trigger {'.'.join(key)} on the end of {ended.id}: "
                    f"not started: {outcome.message}",
                    file=sys.stderr,
                )

    async def _skip(self, key: Key, seq: int) -> None:
        await self._save([changes.TriggerStateRow(*key, None, "", None, seq)])
        self.watermarks[key] = seq

    def _matching(self, ended: ExecutionEnd) -> list[tuple[model.Flow, triggerdefs.FlowTriggerDef]]:
        """The Flow triggers of other flows whose conditions all hold, on or off."""
        found = []
        for flow in self.index.flows():
            if (flow.namespace, flow.id) == (ended.namespace, ended.flow_id):
                continue  # another flow's end only (no trigger loops on itself)
            for trigger in flow.triggers:
                if isinstance(trigger, triggerdefs.FlowTriggerDef) and all(
                    condition_holds(c, ended) for c in trigger.conditions
                ):
                    found.append((flow, trigger))
        return found


def _recorder(key: Key, seq: int) -> Any:
    """The trigger's last execution and new watermark, in the creation's own commit."""

    def record(es: ExecutionState) -> None:
        es.changes.trigger_states.append(changes.TriggerStateRow(*key, None, "", es.ex.id, seq))
        failpoints.hit("before_flow_trigger_commit")

    return record


def _ended(seq: int, ex: model.Execution, state: states.StateType) -> ExecutionEnd:
    outputs = None if ex.outputs is None else dict(ex.outputs)
    return ExecutionEnd(seq, ex.id, ex.namespace, ex.flow_id, ex.flow_revision, state, outputs)
