"""A started flowable's plan, and the pairs each branch of a container may create
(semantics.md#derivation, semantics.md#creation).

What a flowable decides when it starts and how it runs its children are hooks of its task type
(`tasks/flowables.py`); here they are applied to a container. A plan is plain data, stored with
the task run when it starts, so recovery, restart and replay rebuild the same children without
rendering anything again.
"""

from __future__ import annotations

from tercel.engine import model
from tercel.engine.run import flowfacts
from tercel.engine.run.containers import Container, Mode, Pair
from tercel.engine.tasks import base, flowables, registry
from tercel.engine.types import Plan

__all__ = ["PlanError", "apply_plan", "apply_top_level", "make_plan"]

PlanError = base.PlanError


def _sequential(tasks: tuple[model.TaskDef, ...]) -> list[Pair]:
    return [Pair(t) for t in flowables.enabled(tasks)]


def apply_top_level(container: Container, flow: model.Flow) -> None:
    found = flowfacts.facts(flow)  # the pair lists are shared, read-only
    container.main.set_plan(found.main, Mode.SEQUENTIAL, 0)
    container.errors.set_plan(found.errors, Mode.SEQUENTIAL, 0)
    container.finally_.set_plan(found.finally_, Mode.SEQUENTIAL, 0)


def hooks_of(task: model.TaskDef) -> base.Flowable:
    """The flowable hooks of the task's type (a type without hooks runs its `tasks` in order)."""
    task_type = registry.get(task.type)
    found = task_type.flowable if task_type is not None else None
    return found if found is not None else flowables.SEQUENTIAL


def make_plan(task: model.TaskDef, render: base.Render) -> Plan:
    """What the flowable decides when it starts (its type's `plan` hook). Raises PlanError."""
    plan = hooks_of(task).plan
    return plan(task, render) if plan is not None else Plan()


def apply_plan(container: Container, task: model.TaskDef, plan: Plan) -> None:
    """Set the three branches' pairs of a started flowable from its plan."""
    container.errors.set_plan(_sequential(task.branch("errors")), Mode.SEQUENTIAL, 0)
    container.finally_.set_plan(_sequential(task.branch("finally")), Mode.SEQUENTIAL, 0)
    container.outputs = dict(plan.get("outputs") or {})
    if "failure" in plan:
        container.failure = plan["failure"]
        return
    main = hooks_of(task).layout(task, plan)
    pairs = [
        Pair(child, value, iteration, group) for child, value, iteration, group in main.children
    ]
    container.main.set_plan(pairs, main.mode, main.limit, group_size=main.group_size)
