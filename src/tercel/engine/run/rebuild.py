"""Rebuild an `ExecutionState` from a loaded execution (recovery, restart, replay)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, cast

from tercel.engine import changes, model, states
from tercel.engine.run import flowfacts, plans
from tercel.engine.run.containers import Branch, Container
from tercel.engine.run.execution import ExecutionState
from tercel.engine.types import Plan, TimerKind

__all__ = ["branch_of", "rebuild"]

S = states.StateType


def branch_of(flow: model.Flow) -> Mapping[str, Branch]:
    """Which branch of its container each task belongs to."""
    return flowfacts.facts(flow).branches


def rebuild(
    ex: model.Execution,
    flow: model.Flow,
    task_plans: Mapping[str, Mapping[str, Any]],
    timers: list[changes.TimerRow],
) -> ExecutionState:
    es = ExecutionState(ex, flow)
    plans.apply_top_level(es.containers[None], flow)
    branches = branch_of(flow)
    for run in ex.task_runs:
        es.index_task_run(run, run.parent_task_run_id, branches.get(run.task_id, Branch.MAIN))
        task = es.tasks.get(run.task_id)
        plan = cast(Plan, task_plans.get(run.id))  # as stored by ExecutionState.record_plan
        if task is not None and task.kind is model.TaskKind.FLOWABLE and plan is not None:
            c = Container(run, task)
            plans.apply_plan(c, task, plan)
            es.containers[run.id] = c
            es.plans[run.id] = plan
        elif task is not None and task.kind is model.TaskKind.SUBFLOW and plan is not None:
            if "child" in plan:
                es.subflow_children[run.id] = str(plan["child"])
            for i, child_id in enumerate(plan.get("children", ())):  # ForEachItem
                es.subflow_children[f"{run.id}#{i}"] = str(child_id)
            es.plans[run.id] = plan
        es.merge_outputs(run)
        if run.state.current.is_created:
            es.pending.append(run)
    for c in es.containers.values():
        c.main.touched_groups = set(range(c.main.groups_started))
        es.dirty.add(None if c.run is None else c.run.id)
    for timer in timers:
        es.timers[timer.id] = dataclasses.replace(timer, kind=TimerKind(timer.kind))
    # A committed PAUSED execution with no PAUSED task run was paused by `pauseExecution`: a
    # Pause task's end moves it to RESTARTED in the same commit.
    es.manual_pause = ex.state.current is S.PAUSED and es.paused == 0
    return es
