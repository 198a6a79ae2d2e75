"""Crash recovery at engine start (execution-model §5): end the process groups of a dead
engine, rebuild every active execution from SQLite, resubmit lost attempts, reload timers and
re-link waiting subflows. The in-memory state is only a cache of the database."""

from __future__ import annotations

import functools
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tercel.engine import states
from tercel.engine.run import rebuild
from tercel.engine.run.execution import ExecutionState
from tercel.engine.tasks import descendants, processgroups
from tercel.storage import flowstore, reader

if TYPE_CHECKING:
    from tercel.engine.runtime.scheduler import Engine

__all__ = ["recover"]

S = states.StateType


async def recover(engine: Engine) -> None:
    """§5 crash recovery: resubmit lost attempts, end orphan processes, reload timers."""
    conn = engine.db.conn
    timers = await engine.call(lambda: reader.load_timers(conn))
    ids = await engine.call(lambda: reader.active_execution_ids(conn))
    loaded = await engine.call(lambda: reader.load_executions(conn, ids))
    query = "SELECT task_run_id, attempt_number, pgid FROM processes"
    processes = await engine.call(lambda: conn.execute(query).fetchall())
    if processes:
        _end_leftovers(processes)
        await engine.call(lambda: conn.execute("DELETE FROM processes"))
    for row in await engine.call(lambda: flowstore.list_latest(conn)):
        await engine.flow(row.namespace, row.id, row.revision)
        if row.disabled:
            engine.flows.switched(row.namespace, row.id, True)
    now = engine.clock.now
    for ex in loaded.executions:
        flow = await engine.flow(ex.namespace, ex.flow_id, ex.flow_revision)
        if flow is None:
            continue
        mine = [t for t in timers if t.execution_id == ex.id]
        es = rebuild.rebuild(ex, flow, loaded.plans, mine)
        _resubmit_lost_attempts(es, now)
        engine.slots.free -= len(es.to_start)
        engine.track(es)
    await _recover_subflows(engine)


def _end_leftovers(processes: list[tuple[str, int, int]]) -> None:
    """SIGKILL what the attempts of a dead engine left: their process groups, and every process
    carrying their TERCEL_ATTEMPT mark (a `setsid` grandchild, re-parented to init)."""
    for _, _, pgid in processes:
        processgroups.signal_group(pgid, signal.SIGKILL)
    marks = [descendants.mark(run_id, number) for run_id, number, _ in processes]
    descendants.signal_all(descendants.find_marked(marks), signal.SIGKILL)


async def _recover_subflows(engine: Engine) -> None:
    """Re-link waiting subflow task runs to their children; finish those already ended."""
    for es in list(engine.active.values()):
        for run_id, child_id in es.subflow_children.items():
            run = es.by_id.get(run_id)
            if run is None or run.state.current not in (S.RUNNING, S.KILLING):
                continue
            engine._subflow_parents[child_id] = (es.ex.id, run_id)
            if child_id not in engine.active:
                load = functools.partial(reader.load_executions, engine.db.conn, [child_id])
                engine._child_ends.extend((await engine.call(load)).executions)
    if engine.active:
        engine.wake()


def _resubmit_lost_attempts(es: ExecutionState, now: Callable[[], Any]) -> None:
    killing = es.ex.state.current is S.KILLING
    for run in es.ex.task_runs:
        if not run.attempts or run.state.current not in (S.RUNNING, S.KILLING):
            continue
        last = run.attempts[-1]
        if last.state.current.is_terminated:
            continue
        if killing:
            if last.state.current is S.CREATED:
                es.set_attempt_state(run, last, S.RUNNING, now())
            es.set_attempt_state(run, last, S.KILLED, now())
            es.set_run_state(run, S.KILLED, now())
            continue
        es.set_attempt_state(run, last, S.RESUBMITTED, now())
        before = run.counted_attempts()
        attempt = es.add_attempt(run, now())
        es.set_attempt_state(run, attempt, S.RUNNING, now())
        es.to_start.append((run, attempt, before))
