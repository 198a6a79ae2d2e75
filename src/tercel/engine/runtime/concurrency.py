"""The flow concurrency gate of the engine loop (docs/semantics.md#concurrency).

A flow with `concurrency: {limit: n}` never has more than `n` executions that are neither
terminal nor QUEUED, counted over every revision of the flow. The count is made inside the
loop, the one writer, from the executions it holds in memory (`engine.active` holds every
non-terminal execution: recovery loads them all from SQLite), so it holds across crashes: what
is committed is what the next engine counts.

Once per loop iteration, before the passes, `Gate.admit` looks at the flows of the touched
executions that wait for it (new ones, QUEUED ones): first the QUEUED executions of the flow
start while a slot is free, oldest first (creation date, then id: the order recovery loads
them in), then each new execution starts, or takes its flow's behavior (QUEUED, CANCELLED,
FAILED). After the passes, `Gate.after_passes` notes the flows where an execution ended and
wakes the loop: their queued executions are looked at in the *next* iteration, so the commit
of an end always precedes the commit of the start it makes room for, and the state-change log
never shows more than `n` at any point.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tercel.engine import rules, states
from tercel.engine.actions import queueing
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime.protocols import RunningLoop

__all__ = ["FlowKey", "Gate"]

S = states.StateType
FlowKey = tuple[str, str]
FREED = " (a slot of the flow's concurrency limit freed)"


def _key(es: ExecutionState) -> FlowKey:
    return (es.ex.namespace, es.ex.flow_id)


def _created(es: ExecutionState) -> tuple[object, str]:
    return (es.ex.state.start_date, es.ex.id)


def _waits(es: ExecutionState) -> bool:
    """Waits for the gate: its revision is limited and it is new or QUEUED."""
    if es.flow.concurrency is None:
        return False
    return es.ex.state.current is S.QUEUED or queueing.is_new(es)


class _Flow:
    """One limited flow as the gate finds it in memory."""

    def __init__(self) -> None:
        self.running = 0
        self.queued: list[ExecutionState] = []
        self.new: list[ExecutionState] = []


class Gate:
    def __init__(self) -> None:
        #: flows that may have QUEUED executions (never misses one; a stale key costs a look)
        self.queued_flows: set[FlowKey] = set()
        #: flows where an execution ended: their queue is looked at in the next iteration
        self._recheck: set[FlowKey] = set()

    def admit(self, engine: RunningLoop, touched: set[str]) -> set[str]:
        """Decide the new executions and start the queued ones of the flows concerned; answers
        the queued executions it started (their passes run in this iteration too)."""
        keys, self._recheck = self._recheck, set()
        for execution_id in touched:
            es = engine.active.get(execution_id)
            if es is not None and _waits(es):
                keys.add(_key(es))
        if not keys:
            return set()
        flows = _census(engine.active.values(), keys, touched)
        started: set[str] = set()
        for key, flow in flows.items():
            started.update(_settle(engine, flow))
            if flow.queued or any(es.ex.state.current is S.QUEUED for es in flow.new):
                self.queued_flows.add(key)
            else:
                self.queued_flows.discard(key)
        return started

    def after_passes(self, engine: RunningLoop, touched: Iterable[str]) -> None:
        """Flows with queued executions where one ended: looked at in the next iteration."""
        if not self.queued_flows:
            return
        for execution_id in touched:
            es = engine.active.get(execution_id)
            if es is None or not es.ex.state.current.is_terminated:
                continue
            if _key(es) in self.queued_flows:
                self._recheck.add(_key(es))
        if self._recheck:
            engine.wake()


def _settle(engine: RunningLoop, flow: _Flow) -> list[str]:
    """Start the flow's queued executions while a slot is free, oldest first, then decide its
    new ones in creation order; answers the queued ones it started."""
    now = engine.clock.now
    started: list[str] = []
    for es in sorted(flow.queued, key=_created) if _room(flow) else ():
        limit = es.flow.concurrency
        if limit is not None and not rules.queued_may_start(flow.running, limit.limit):
            break
        if _safely(engine, es, queueing.start, es, FREED, now):
            flow.running += 1
            started.append(es.ex.id)
    flow.queued = [es for es in flow.queued if es.ex.state.current is S.QUEUED]
    for es in sorted(flow.new, key=_created):
        limit = es.flow.concurrency
        assert limit is not None, "only limited revisions wait for the gate"
        target = rules.execution_over_limit(limit.behavior, flow.running, limit.limit)
        if target is None:
            flow.running += _safely(engine, es, queueing.start, es, "", now)
        else:
            _safely(engine, es, queueing.over_limit, es, target, limit.limit, now)
    return started


def _room(flow: _Flow) -> bool:
    """Whether a queued execution of the flow may start (no need to order them otherwise)."""
    return any(
        es.flow.concurrency is None
        or rules.queued_may_start(flow.running, es.flow.concurrency.limit)
        for es in flow.queued
    )


def _safely(engine: RunningLoop, es: ExecutionState, step: Any, *args: Any) -> bool:
    """Apply one step to one execution through `engine.guarded` (a bug in it fails that
    execution only, never the loop); answers whether it was applied."""
    engine.guarded(es, step, *args)
    return engine.active.get(es.ex.id) is es


def _census(
    active: Iterable[ExecutionState], keys: set[FlowKey], touched: set[str]
) -> dict[FlowKey, _Flow]:
    """One walk over the executions in memory: per flow, how many count as running (neither
    terminal nor QUEUED, nor new and about to be decided), the QUEUED ones and the new ones."""
    flows = {key: _Flow() for key in keys}
    for es in active:
        key = _key(es)
        if key not in keys:
            continue
        current = es.ex.state.current
        if current.is_terminated:
            continue
        if current is S.QUEUED:
            flows[key].queued.append(es)
        elif es.ex.id in touched and es.flow.concurrency is not None and queueing.is_new(es):
            flows[key].new.append(es)
        else:
            flows[key].running += 1
    return flows
