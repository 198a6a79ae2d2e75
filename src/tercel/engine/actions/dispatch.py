"""Dispatch (semantics.md#dispatch): CREATED and RESTARTED task runs in list order. runIf is
rendered; a flowable starts (its plan is made and stored); a subflow creates its child; a
runnable waits for a worker slot, or, for an `inline` task type, runs within the pass (unless
its renders outgrow the loop's slice: then in a render process, see offloop). runIf, plans and
subflow properties that outgrow the slice park their task run until a render process answers
(see deferred)."""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from tercel.engine import expressions, model, rules, states, storable
from tercel.engine.actions import deferred, results, subflows
from tercel.engine.expressions import farm
from tercel.engine.run import plans
from tercel.engine.run.containers import Container
from tercel.engine.run.execution import ExecutionState
from tercel.engine.tasks import registry
from tercel.engine.types import Now, Plan

__all__ = ["Slots", "dispatch"]

S = states.StateType
L = model.LogLevel


@dataclass(slots=True)
class Slots:
    """Worker slots: at most `free` more attempts may start now."""

    free: int


def dispatch(es: ExecutionState, now: Now, slots: Slots) -> bool:
    """CREATED/RESTARTED task runs in list order; runnables wait for a worker slot in a
    position-ordered heap, so a long queue costs O(log n) per start, not a rescan."""
    current = es.ex.state.current
    if current is S.KILLING or current.is_terminated or not (es.pending or es.waiting):
        return False
    if es.manual_pause:  # held until resumeExecution lists them (semantics.md#pause-execution)
        es.pending, es.waiting = [], []
        return False
    fresh, es.pending = sorted(es.pending, key=lambda run: run.position), []
    changed = False
    for run in fresh:
        if run.state.current not in (S.CREATED, S.RESTARTED) or run.id not in es.by_id:
            continue
        task = es.tasks[run.task_id]
        if task.kind is model.TaskKind.RUNNABLE:
            heapq.heappush(es.waiting, (run.position, run.id))
            continue
        changed = True
        if task.run_if is not None and not _run_if(es, run, task, now):
            continue
        if task.kind is model.TaskKind.FLOWABLE:
            _start_flowable(es, run, task, now)
        elif es.hooks is not None:
            subflows.start(es, run, task, now, es.hooks)
        else:
            es.log(L.ERROR, "Subflow needs an engine to start its child execution", now(), run)
            es.set_run_state(run, S.FAILED, now())
    while es.waiting and slots.free > 0:
        _, run_id = heapq.heappop(es.waiting)
        queued = es.by_id.get(run_id)
        if queued is None or queued.state.current not in (S.CREATED, S.RESTARTED):
            continue
        run, changed = queued, True
        task = es.tasks[run.task_id]
        if task.run_if is not None and not _run_if(es, run, task, now):
            continue
        if is_inline(task):
            _run_inline(es, run, now, slots)
            continue
        slots.free -= 1
        attempt, before = es.start_attempt(run, now())
        es.to_start.append((run, attempt, before))
    return changed


def is_inline(task: model.TaskDef) -> bool:
    task_type = registry.get(task.type)
    return task_type is not None and task_type.inline and task.timeout is None


def _run_inline(es: ExecutionState, run: model.TaskRun, now: Now, slots: Slots) -> None:
    """A pure task runs now; its attempt commits with its result (see TaskType.inline). One
    whose renders outgrow the loop's slice takes the worker path instead (see offloop)."""
    attempt, before = es.start_attempt(run, now())
    # As on the worker path, the execution follows its task runs before the result lands
    # (RETRYING -> RUNNING when this was the retry, so a top-level failure reads FAILED, RETRYING).
    es.derive(now)
    result = es.hooks.run_inline(es, run, attempt, before) if es.hooks is not None else None
    if result is None:
        slots.free -= 1
        es.to_start.append((run, attempt, before))
    else:
        results.apply_result(es, result, now)


def _run_if(es: ExecutionState, run: model.TaskRun, task: model.TaskDef, now: Now) -> bool:
    """True when the task should run; otherwise the task run ended (`rules.state_after_run_if`)."""
    try:
        text = deferred.call(es, run, "runIf", farm.render_one, (task.run_if,), task.run_if)
        rendered: bool | None = expressions.truthy(str(text))
    except deferred.Parked:  # back in dispatch when the render process answers
        return False
    except expressions.ExpressionError as error:
        es.log(L.ERROR, str(error), now(), run)
        rendered = None
    state = rules.state_after_run_if(rendered)
    if state is None:
        return True
    es.set_run_state(run, state, now())
    return False


def _start_flowable(es: ExecutionState, run: model.TaskRun, task: model.TaskDef, now: Now) -> None:
    if run.id not in es.containers:
        try:
            plan = deferred.call(es, run, "plan", deferred.plan_job, (task,), task.properties)
        except deferred.Parked:  # back in dispatch when the render process answers
            return
        except (plans.PlanError, expressions.ExpressionError) as error:
            plan = Plan(failure=str(error))
        unstorable = storable.first_unstorable(plan, "plan")  # ForEach values become rows
        if unstorable is not None:
            plan = Plan(failure=" ".join(unstorable))
        if "failure" in plan:
            es.log(L.WARN if plan.get("warn") else L.ERROR, plan["failure"], now(), run)
        es.record_plan(run, plan)
        c = Container(run, task)
        plans.apply_plan(c, task, plan)
        es.containers[run.id] = c
    es.set_run_state(run, S.RUNNING, now())
    es.dirty.add(run.id)
