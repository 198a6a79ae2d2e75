"""Replay (semantics.md#replay): a NEW execution copied from a terminal one, optionally from a
chosen task run, with `parentId` pointing back and the same `originalId`."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tercel import ids
from tercel.engine import model, states
from tercel.engine.actions import lifecycle
from tercel.engine.run import creation, rebuild
from tercel.engine.run.containers import Branch, Mode
from tercel.engine.run.execution import ExecutionState
from tercel.engine.types import Plan

__all__ = ["replay"]

S = states.StateType
E = states.Entity


def replay(
    old: ExecutionState,
    task_run_id: str | None,
    now: Callable[[], datetime],
    flow: model.Flow | None = None,
    values: dict[str, Any] | None = None,
    new_id: str | None = None,
) -> ExecutionState:
    """Build the new execution's state; its change set holds every row to insert. `flow`: run
    another revision of the flow; `values`: new resolved inputs (else the old ones); `new_id`:
    chosen beforehand (its input files are stored under it first)."""
    src = old.ex
    flow = flow or old.flow
    new_id = new_id or ids.new_id()
    ex = model.Execution(
        id=new_id,
        namespace=src.namespace,
        flow_id=src.flow_id,
        flow_revision=flow.revision,
        state=states.State.new(S.CREATED, now()),
        inputs=copy.deepcopy(src.inputs) if values is None else values,
        labels=list(src.labels),
        parent_id=src.id,
        original_id=src.original_id,
        attempt_number=src.attempt_number + 1,
        original_created_date=src.original_created_date or src.state.start_date,
        trigger=copy.deepcopy(src.trigger),
        variables=dict(src.variables),
    )
    if task_run_id is None:
        return creation.fresh_state(ex, flow)
    chosen = old.by_id[task_run_id]
    dropped = _dropped(old, chosen)
    ex.state = states.State(src.state.histories)
    id_map = {run.id: ids.new_id() for run in src.task_runs if run.id not in dropped}
    task_plans: dict[str, Plan] = {}
    for run in src.task_runs:
        if run.id in dropped:
            continue
        clone = copy.deepcopy(run)
        clone.id, clone.execution_id = id_map[run.id], new_id
        clone.parent_task_run_id = id_map.get(run.parent_task_run_id or "")
        clone.position = len(ex.task_runs)
        ex.task_runs.append(clone)
        if run.id in old.containers and old.containers[run.id].task is not None:
            task_plans[clone.id] = old.plans[run.id]  # the plan as stored: nothing re-rendered
    es = rebuild.rebuild(ex, flow, task_plans, [])
    es.pending = []
    _write_copy(es, task_plans)
    es.set_state(S.RESTARTED, now())
    target = es.by_id[id_map[chosen.id]]
    for ancestor in reversed(es.ancestors(target)):
        es.set_run_state(ancestor, S.RUNNING, now())
    lifecycle.restart_task_run(es, target, now)
    es.dirty.add(None)
    return es


def _dropped(old: ExecutionState, chosen: model.TaskRun) -> set[str]:
    """Descendants of the chosen (flowable) run, its successors at every level, errors/finally."""
    dropped: set[str] = set()
    if chosen.id in old.containers:
        dropped |= _subtree(old, chosen.id)
    node: model.TaskRun | None = chosen
    while node is not None:
        key, branch = old.place[node.id]
        progress = old.containers[key].branch(branch)
        index = progress.pair_index(node)
        if index is not None and progress.mode is not Mode.PARALLEL:
            for other in progress.runs:
                other_index = progress.pair_index(other)
                if other_index is None or other_index <= index:
                    continue
                same_group = other_index // progress.group_size == index // progress.group_size
                if progress.mode is Mode.SEQUENTIAL or same_group:
                    dropped.add(other.id)
                    dropped |= _subtree(old, other.id)
        node = old.by_id.get(key) if key is not None else None
    for run in old.ex.task_runs:
        if old.place[run.id][1] is not Branch.MAIN or run.parent_task_run_id in dropped:
            dropped.add(run.id)
    return dropped


def _subtree(old: ExecutionState, run_id: str) -> set[str]:
    found: set[str] = set()
    for run in old.ex.task_runs:
        if run.parent_task_run_id == run_id or run.parent_task_run_id in found:
            found.add(run.id)
    return found


def _write_copy(es: ExecutionState, task_plans: dict[str, Plan]) -> None:
    """Insert the copied rows, histories written to the new state-change log in order."""
    ex = es.ex
    es.changes.new_executions[ex.id] = ex
    _replay_histories(es)
    for run in ex.task_runs:
        es.changes.task_runs[run.id] = run
        for attempt in run.attempts or ():
            es.changes.attempts[(run.id, attempt.number)] = (run, attempt)
    for run_id, plan in task_plans.items():
        es.changes.plans[run_id] = Plan(**plan)


def _replay_histories(es: ExecutionState) -> None:
    """Write every copied history entry as state-change rows of the new execution, in order."""
    ex = es.ex
    previous: S | None = None
    for entry in ex.state.histories:
        es.row(E.EXECUTION, None, None, entry.state, previous, entry.date)
        previous = entry.state
    for run in ex.task_runs:
        previous = None
        attempts, run.attempts = run.attempts, None  # TASK_RUN rows carry the count at the time
        for entry in run.state.histories:
            es.row(E.TASK_RUN, run, None, entry.state, previous, entry.date)
            previous = entry.state
        run.attempts = attempts
        for attempt in attempts or ():
            previous = None
            for entry in attempt.state.histories:
                es.row(E.ATTEMPT, run, attempt.number, entry.state, previous, entry.date)
                previous = entry.state
