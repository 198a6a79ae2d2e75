"""What arrived while the engine loop waited, applied at the start of an iteration: due timers
fire, ended child executions reach the subflow task runs waiting for them, finished attempts'
results are applied. Each through `guarded` (a bug fails that one execution, never the loop);
the executions they touched get a pass in the same iteration. Commands come after these, in the
loop itself (`scheduler.Engine._apply_inputs`)."""

from __future__ import annotations

from tercel.engine.actions import results, subflows, timers
from tercel.engine.runtime.protocols import RunningLoop

__all__ = ["apply_arrivals"]


def apply_arrivals(engine: RunningLoop) -> set[str]:
    """Apply what arrived; the ids of the executions it touched."""
    now = engine.clock.now
    touched: set[str] = set()
    for timer_id, execution_id in engine.timer_queue.pop_due(now()):
        es = engine.active.get(execution_id)
        if es is not None and timer_id in es.timers:
            engine.guarded(es, timers.fire_timer, es, timer_id, now)
            touched.add(execution_id)
    for child, parent_id, run_id in engine.subflow_links.take_ended():
        parent = engine.active.get(parent_id)
        if parent is not None:
            engine.guarded(parent, subflows.child_ended, parent, run_id, child, now)
            touched.add(parent_id)
    taken, engine.workers.results = engine.workers.results, []
    for result in taken:
        es = engine.active.get(result.execution_id)
        if es is not None:
            engine.guarded(es, results.apply_result, es, result, now)
            touched.add(result.execution_id)
    return touched
