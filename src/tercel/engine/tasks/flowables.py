"""The built-in flowables' hooks (semantics.md#flowables, semantics.md#creation).

Each flowable `TaskType` carries a `Flowable`: what it decides when it starts (`plan`: loop
values, the If or Switch branch), how its main branch runs from that plan (`layout`), and the
flags the pass reads (`pauses`, `absorbs_failure`). The engine calls these hooks and never
compares type names, so a new flowable is a new `Flowable` here and an entry in the registry.
"""

from __future__ import annotations

import json
from typing import Any

from tercel.engine import model
from tercel.engine.tasks.base import Child, Flowable, MainBranch, PlanError, Render
from tercel.engine.types import Mode, Plan

__all__ = [
    "ALLOW_FAILURE",
    "EACH_PARALLEL",
    "EACH_SEQUENTIAL",
    "FOR_EACH",
    "IF",
    "PARALLEL",
    "PAUSE",
    "SEQUENTIAL",
    "SWITCH",
    "java_string",
    "loop_values",
]


def enabled(tasks: tuple[model.TaskDef, ...]) -> list[model.TaskDef]:
    return [task for task in tasks if not task.disabled]


def _in_order(task: model.TaskDef, branch: str = "tasks") -> MainBranch:
    """The tasks of one branch, one after the other."""
    return MainBranch([(t, None, None, 0) for t in enabled(task.branch(branch))])


def _parallel(task: model.TaskDef, _: Plan) -> MainBranch:
    children = [(t, None, None, 0) for t in enabled(task.branch("tasks"))]
    return MainBranch(children, Mode.PARALLEL, int(task.properties.get("concurrent", 0)))


def _sequential(task: model.TaskDef, _: Plan) -> MainBranch:
    return _in_order(task)


def _chosen_branch(task: model.TaskDef, plan: Plan) -> MainBranch:
    """If and Switch: the branch the plan chose (a Switch case, its defaults, then, else)."""
    branch = plan.get("branch", "tasks")
    if branch == "case":
        chosen = task.cases.get(plan["case"], ())
        return MainBranch([(t, None, None, 0) for t in enabled(chosen)])
    return _in_order(task, branch)


def _loop_children(task: model.TaskDef, plan: Plan) -> tuple[list[model.TaskDef], list[Child]]:
    children = enabled(task.branch("tasks"))
    pairs: list[Child] = [
        (child, value, i, i) for i, value in enumerate(plan["values"]) for child in children
    ]
    return children, pairs


def _for_each(task: model.TaskDef, plan: Plan) -> MainBranch:
    """ForEach: one group per value; `concurrencyLimit` 1 runs them in order, 0 all at once."""
    children, pairs = _loop_children(task, plan)
    limit = int(task.properties.get("concurrencyLimit", 1))
    mode = Mode.SEQUENTIAL if limit == 1 else Mode.GROUPED
    return MainBranch(pairs, mode, limit, len(children))


def _each_parallel(task: model.TaskDef, plan: Plan) -> MainBranch:
    _, pairs = _loop_children(task, plan)
    return MainBranch(pairs, Mode.PARALLEL, int(task.properties.get("concurrent", 0)))


def _each_sequential(task: model.TaskDef, plan: Plan) -> MainBranch:
    _, pairs = _loop_children(task, plan)
    return MainBranch(pairs, Mode.SEQUENTIAL)


def _plan_loop(prop: str) -> Any:
    def plan(task: model.TaskDef, render: Render) -> Plan:
        return Plan(values=loop_values(task.properties[prop], render))

    return plan


def _plan_if(task: model.TaskDef, render: Render) -> Plan:
    text = _render_text(task.properties["condition"], render)
    result = text not in ("false", "0", "-0", "")
    return Plan(branch="then" if result else "else", outputs={"evaluationResult": result})


def _plan_switch(task: model.TaskDef, render: Render) -> Plan:
    value = _render_text(task.properties["value"], render)
    if value in task.cases:
        return Plan(branch="case", case=value, outputs={"value": value, "defaults": False})
    outputs = {"value": value, "defaults": True}
    if "defaults" in task.branches:
        return Plan(branch="defaults", outputs=outputs)
    return Plan(failure=f"No task found for value '{value}'", warn=True, outputs=outputs)


SEQUENTIAL = Flowable(layout=_sequential)
PARALLEL = Flowable(layout=_parallel)
FOR_EACH = Flowable(layout=_for_each, plan=_plan_loop("values"))
EACH_SEQUENTIAL = Flowable(layout=_each_sequential, plan=_plan_loop("value"))
EACH_PARALLEL = Flowable(layout=_each_parallel, plan=_plan_loop("value"))
IF = Flowable(layout=_chosen_branch, plan=_plan_if)
SWITCH = Flowable(layout=_chosen_branch, plan=_plan_switch)
PAUSE = Flowable(layout=_sequential, pauses=True)
ALLOW_FAILURE = Flowable(layout=_sequential, absorbs_failure=True)


def _render_text(value: Any, render: Render) -> str:
    rendered = render(value)
    return rendered if isinstance(rendered, str) else json.dumps(rendered)


def loop_values(raw: Any, render: Render) -> list[str]:
    """Render, parse, refuse nulls, stringify, de-duplicate (semantics.md#creation)."""
    if isinstance(raw, str):
        text = render(raw)
        try:
            values = json.loads(text)
        except ValueError:
            values = None
        if not isinstance(values, list):
            raise PlanError(f"Unable to parse values as a JSON array: {text}")
    elif isinstance(raw, list):
        values = [render(v) if isinstance(v, str | dict | list) else v for v in raw]
    else:
        raise PlanError(f"Unable to parse values as a JSON array: {raw}")
    nulls = sum(1 for v in values if v is None)
    if nulls:
        raise PlanError(f"Found '{nulls}' null values on Each, with values={java_string(values)}")
    seen: dict[str, None] = {}
    for value in values:
        text = value if isinstance(value, str) else _compact(value)
        seen.setdefault(text, None)
    return list(seen)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def java_string(value: Any) -> str:
    """Java's `toString` of a list or map (`[1, null, {key=my-key, value=my-value}]`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(java_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_string(v)}" for k, v in value.items()) + "}"
    return str(value)
