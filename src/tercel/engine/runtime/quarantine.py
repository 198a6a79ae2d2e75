"""When one execution cannot go on, the engine fails it and goes on with all other work.

Two causes: a bug in a pass (an exception while the engine applied a result, fired a timer or
ran passes over that execution), and changes that cannot be stored (the commit refused them).
Either way its in-memory state is not to be trusted: it is dropped, the execution is read back
as last committed, failed with the reason in its logs, and that failure is committed.
"""

from __future__ import annotations

import sys

from tercel.engine import faults, model, rules, states
from tercel.engine.run import rebuild
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime.protocols import EngineLoop
from tercel.engine.store import StoreReads
from tercel.engine.types import Now

__all__ = ["fail_execution", "flow_now", "load_state", "quarantine", "stop_attempts"]

S = states.StateType


def load_state(engine: EngineLoop, execution_id: str) -> ExecutionState | tuple[str, str]:
    """The execution's state as the loop owns it: the active one, else read from the database;
    (kind, id) of what is missing when there is none.

    Runs inside the loop with no commit in flight, so what it reads is the last commit."""
    found = engine.active.get(execution_id)
    if found is not None:
        return found
    if engine.deleting(execution_id):  # deleted by an earlier command of this commit
        return ("execution", execution_id)
    reads = engine.loop_reads
    loaded = reads.load_executions([execution_id])
    if not loaded.executions:
        return ("execution", execution_id)
    ex = loaded.executions[0]
    flow = flow_now(engine, reads, ex.namespace, ex.flow_id, ex.flow_revision)
    if flow is None:
        return ("flow", f"{ex.namespace}.{ex.flow_id} revision {ex.flow_revision}")
    timers = reads.load_timers(execution_id)
    return rebuild.rebuild(ex, flow, loaded.plans, timers)


def flow_now(
    engine: EngineLoop, reads: StoreReads, namespace: str, flow_id: str, revision: int
) -> model.Flow | None:
    """A flow revision from the engine's cache, or read (synchronously) through `reads`."""
    cached = engine.flows.get(namespace, flow_id, revision)
    if cached is not None:
        return cached
    return engine.flows.from_row(reads.flow(namespace, flow_id, revision))


def quarantine(engine: EngineLoop, execution_id: str, reason: str) -> None:
    """Drop the execution's in-memory state and fail it as last committed (see module doc)."""
    print(f"tercel: execution {execution_id} failed by the engine: {reason}", file=sys.stderr)
    old = engine.active.pop(execution_id, None)
    if old is not None:
        stop_attempts(engine, old)
    if execution_id in engine.quarantined:  # failing it did not store either: give up on it
        return
    engine.quarantined.add(execution_id)
    try:
        fresh = load_state(engine, execution_id)
        if isinstance(fresh, tuple):  # never committed: nothing to fail but who waits for it
            parent = engine.unlink_subflow(execution_id)
            if parent is not None:
                why = f"its subflow execution {execution_id} could not be stored: {reason}"
                quarantine(engine, parent, why)
            return
        fail_execution(fresh, f"Internal error, execution failed: {reason}", engine.clock.now)
    except Exception as error:  # its stored rows cannot even be read back: leave them
        print(f"tercel: execution {execution_id}: {faults.describe(error)}", file=sys.stderr)
        return
    engine.track(fresh)


def stop_attempts(engine: EngineLoop, es: ExecutionState) -> None:
    """Cancel the attempts of an execution the engine drops from memory."""
    engine.slots.free += len(es.to_start)  # created, never started: their slots come back
    es.to_start = []
    es.to_cancel = [r.id for r in es.ex.task_runs if r.state.current is S.RUNNING]
    try:
        engine.workers.start(es)  # delivers the cancellations
    except Exception as error:
        print(f"tercel: cannot cancel attempts: {faults.describe(error)}", file=sys.stderr)


def fail_execution(es: ExecutionState, reason: str, now: Now) -> None:
    """End every active part of the execution FAILED (KILLING ones KILLED), with an ERROR log."""
    es.log(model.LogLevel.ERROR, reason, now())
    for run in reversed(es.ex.task_runs):  # children before their parents
        for attempt in run.attempts or ():
            for state in rules.attempt_path_on_quarantine(attempt.state.current):
                es.set_attempt_state(run, attempt, state, now())
        to = rules.task_run_on_quarantine(run.state.current)
        if to is not None:
            es.set_run_state(run, to, now())
    for timer_id in list(es.timers):
        es.remove_timer(timer_id)
    es.pending, es.waiting, es.to_start, es.to_cancel = [], [], [], []
    es.retry_pending, es.replacements = None, []
    for state in rules.execution_path_on_quarantine(es.ex.state.current):
        es.set_state(state, now())
    es.dirty.clear()
