"""Crash recovery at engine start (architecture.md#recovery, semantics.md#durability): end the
process groups of a dead engine, rebuild every active execution from SQLite, resubmit lost
attempts, reload timers and re-link waiting subflows. The in-memory state is only a cache of
the database."""

from __future__ import annotations

import functools
import signal
from dataclasses import dataclass, field

from tercel.engine import model, rules, states
from tercel.engine.actions import foreachitem
from tercel.engine.run import rebuild
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime.protocols import EngineLoop
from tercel.engine.tasks import descendants, processgroups
from tercel.engine.types import Now

__all__ = ["Recovered", "recover"]

S = states.StateType


@dataclass(slots=True)
class Recovered:
    """What recovery found, for the engine to apply through its public methods."""

    #: every active execution, rebuilt, with its lost attempts resubmitted (in `to_start`)
    executions: list[ExecutionState] = field(default_factory=list)
    #: child execution id -> (parent execution id, subflow task run id) of waiting subflows
    subflow_links: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: children that ended while their waiting parent was not in memory
    child_ends: list[model.Execution] = field(default_factory=list)


async def recover(engine: EngineLoop) -> Recovered:
    """Crash recovery, before the loop runs: end orphan processes, load the flows, rebuild
    the active executions, resubmit lost attempts, find waiting subflows."""
    db = engine.db
    timers = await engine.call(db.load_timers)
    ids = await engine.call(db.active_execution_ids)
    loaded = await engine.call(lambda: db.load_executions(ids))
    processes = await engine.call(db.leftover_processes)
    if processes:
        _end_leftovers(processes)
        await engine.call(db.forget_processes)
    for row in await engine.call(db.latest_flows):
        await engine.flow(row.namespace, row.id, row.revision)
        if row.disabled:
            engine.flows.switched(row.namespace, row.id, True)
    found = Recovered()
    for ex in loaded.executions:
        flow = await engine.flow(ex.namespace, ex.flow_id, ex.flow_revision)
        if flow is None:
            continue
        mine = [t for t in timers if t.execution_id == ex.id]
        es = rebuild.rebuild(ex, flow, loaded.plans, mine)
        _resubmit_lost_attempts(es, engine.clock.now)
        found.executions.append(es)
    await _find_subflows(engine, found)
    return found


def _end_leftovers(processes: list[tuple[str, int, int]]) -> None:
    """SIGKILL what the attempts of a dead engine left: their process groups, and every process
    carrying their TERCEL_ATTEMPT mark (a `setsid` grandchild, re-parented to init)."""
    for _, _, pgid in processes:
        processgroups.signal_group(pgid, signal.SIGKILL)
    marks = [descendants.mark(run_id, number) for run_id, number, _ in processes]
    descendants.signal_all(descendants.find_marked(marks), signal.SIGKILL)


async def _find_subflows(engine: EngineLoop, found: Recovered) -> None:
    """Waiting subflow task runs and their children; the ends of children not in memory."""
    recovered = {es.ex.id for es in found.executions}
    missing: list[str] = []
    for es in found.executions:
        for key, child_id in es.subflow_children.items():
            run_id = key.partition("#")[0]  # ForEachItem keys its children `{run id}#{n}`
            run = es.by_id.get(run_id)
            if run is None or run.state.current not in (S.RUNNING, S.KILLING):
                continue
            if key != run_id:
                foreachitem.recount(es, run)  # every child's end is applied again below
            found.subflow_links[child_id] = (es.ex.id, run_id)
            if child_id not in recovered:
                missing.append(child_id)
    for child_id in missing:
        load = functools.partial(engine.db.load_executions, [child_id])
        found.child_ends.extend((await engine.call(load)).executions)


def _resubmit_lost_attempts(es: ExecutionState, now: Now) -> None:
    """Attempts the dead engine left CREATED or RUNNING (`rules.recovered_attempt_path`):
    KILLED with their task run when the execution was being killed, else RESUBMITTED and
    followed by a new attempt, started after the recovery's commit."""
    killing = es.ex.state.current is S.KILLING
    for run in es.ex.task_runs:
        if not run.attempts or run.state.current not in (S.RUNNING, S.KILLING):
            continue
        last = run.attempts[-1]
        path = rules.recovered_attempt_path(last.state.current, killing=killing)
        for state in path:
            es.set_attempt_state(run, last, state, now())
        if not path:
            continue
        if killing:
            es.set_run_state(run, S.KILLED, now())
        else:
            attempt, before = es.start_attempt(run, now())
            es.to_start.append((run, attempt, before))
