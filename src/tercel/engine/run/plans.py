"""What a flowable decides when it starts (loop values, the If/Switch branch), and the pairs
each branch of a container may create (execution-model §7.4, §8).

A plan is plain data, stored with the task run when it starts, so recovery, restart and replay
rebuild the same children without rendering anything again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tercel.engine import model
from tercel.engine.run.containers import Container, Mode, Pair

__all__ = ["PlanError", "apply_plan", "apply_top_level", "java_string", "make_plan"]

CORE = "io.kestra.plugin.core.flow."
LOOPS = {
    CORE + "ForEach": "values",
    CORE + "EachSequential": "value",
    CORE + "EachParallel": "value",
}

Render = Callable[[Any], Any]


class PlanError(Exception):
    """A property could not be evaluated: the flowable fails at once with this message logged."""


def enabled(tasks: tuple[model.TaskDef, ...]) -> list[model.TaskDef]:
    return [task for task in tasks if not task.disabled]


def apply_top_level(container: Container, flow: model.Flow) -> None:
    container.main.set_plan([Pair(t) for t in enabled(flow.tasks)], Mode.SEQUENTIAL, 0)
    container.errors.set_plan([Pair(t) for t in enabled(flow.errors)], Mode.SEQUENTIAL, 0)
    container.finally_.set_plan([Pair(t) for t in enabled(flow.finally_)], Mode.SEQUENTIAL, 0)


def make_plan(task: model.TaskDef, render: Render) -> dict[str, Any]:
    """Evaluate the flowable's dynamic properties. Raises PlanError."""
    kind = task.type
    if kind in LOOPS:
        return {"values": loop_values(task.properties[LOOPS[kind]], render)}
    if kind == CORE + "If":
        text = _render_text(task.properties["condition"], render)
        result = text not in ("false", "0", "-0", "")
        return {"branch": "then" if result else "else", "outputs": {"evaluationResult": result}}
    if kind == CORE + "Switch":
        value = _render_text(task.properties["value"], render)
        if value in task.cases:
            return {"branch": "case", "case": value, "outputs": {"value": value, "defaults": False}}
        outputs = {"value": value, "defaults": True}
        if "defaults" in task.branches:
            return {"branch": "defaults", "outputs": outputs}
        return {"failure": f"No task found for value '{value}'", "warn": True, "outputs": outputs}
    return {}


def apply_plan(container: Container, task: model.TaskDef, plan: dict[str, Any]) -> None:
    """Set the three branches' pairs of a started flowable from its plan."""
    container.errors.set_plan([Pair(t) for t in enabled(task.branch("errors"))], Mode.SEQUENTIAL, 0)
    container.finally_.set_plan(
        [Pair(t) for t in enabled(task.branch("finally"))], Mode.SEQUENTIAL, 0
    )
    container.outputs = dict(plan.get("outputs") or {})
    if "failure" in plan:
        container.failure = plan["failure"]
        return
    kind, props = task.type, task.properties
    if kind in LOOPS:
        children = enabled(task.branch("tasks"))
        pairs = [
            Pair(child, value, i, i) for i, value in enumerate(plan["values"]) for child in children
        ]
        if kind == CORE + "ForEach":
            limit = int(props.get("concurrencyLimit", 1))
            mode = Mode.SEQUENTIAL if limit == 1 else Mode.GROUPED
            container.main.set_plan(pairs, mode, limit, group_size=len(children))
        elif kind == CORE + "EachParallel":
            container.main.set_plan(pairs, Mode.PARALLEL, int(props.get("concurrent", 0)))
        else:
            container.main.set_plan(pairs, Mode.SEQUENTIAL, 0)
        return
    if kind == CORE + "Parallel":
        tasks = enabled(task.branch("tasks"))
        container.main.set_plan(
            [Pair(t) for t in tasks], Mode.PARALLEL, int(props.get("concurrent", 0))
        )
        return
    branch = plan.get("branch", "tasks")
    chosen = task.cases.get(plan["case"], ()) if branch == "case" else task.branch(branch)
    container.main.set_plan([Pair(t) for t in enabled(chosen)], Mode.SEQUENTIAL, 0)


def _render_text(value: Any, render: Render) -> str:
    rendered = render(value)
    return rendered if isinstance(rendered, str) else json.dumps(rendered)


def loop_values(raw: Any, render: Render) -> list[str]:
    """§8.5: render, parse, refuse nulls, stringify, de-duplicate."""
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
