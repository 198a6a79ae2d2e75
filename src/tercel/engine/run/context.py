"""Expression contexts (docs/semantics.md#expression-variables), built only with the variables a
template uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tercel.engine import expressions, filereach, model
from tercel.engine.flows import inputs
from tercel.engine.run.execution import ExecutionState

__all__ = ["execution_context", "render", "task_run_context"]


def names_in(value: Any) -> frozenset[str]:
    return _names(value) or frozenset()


def _names(value: Any) -> frozenset[str] | None:
    """The root variables the templates of `value` read; None when it holds no template (a
    render returns it unchanged): one walk decides both."""
    found: set[str] = set()
    templated = False
    for text in expressions.texts_in(value):
        if expressions.is_template(text):
            templated = True
            found |= expressions.variables(text)
    return frozenset(found) if templated else None


def render(
    es: ExecutionState,
    run: model.TaskRun | None,
    value: Any,
    attempts_before: int | None = None,
    variables: Mapping[str, Any] | None = None,
) -> Any:
    """Render `value` in the context of `run` (or of the execution when `run` is None), with
    a task's own `variables` on top (`workingDir`, `outputDir` of a shell attempt)."""
    names = _names(value)
    if names is None:
        return value
    ctx = task_run_context(es, run, names, attempts_before) if run else execution_context(es, names)
    if variables:
        ctx.update(variables)
    return expressions.render_value(value, ctx)


def execution_context(es: ExecutionState, names: frozenset[str]) -> dict[str, Any]:
    ex, flow = es.ex, es.flow
    ctx: dict[str, Any] = {
        "flow": {"id": flow.id, "namespace": flow.namespace, "revision": ex.flow_revision},
        "execution": {"id": ex.id, "startDate": ex.state.start_date, "originalId": ex.original_id},
        "labels": {label.key: label.value for label in ex.labels},
        "__errorLogs": lambda: list(es.error_logs),
    }
    if "outputs" in names or "render" in names or "currentEachOutput" in names:
        ctx["outputs"] = es.outputs_tree
    else:
        ctx["outputs"] = {}
    if ex.inputs is not None:
        ctx["inputs"] = inputs.for_expressions(flow.inputs, ex.inputs)
    if flow.variables:
        ctx["vars"] = flow.variables
    if ex.trigger and ex.trigger.get("variables") is not None:
        ctx["trigger"] = ex.trigger["variables"]
    if "tasks" in names or "render" in names:
        ctx["tasks"] = _tasks(es)
    if "__readFile" in names and es.hooks is not None:
        ctx["__readFile"] = filereach.Reader.of(es.hooks.files, ex, flow.inputs)
    return ctx


def task_run_context(
    es: ExecutionState,
    run: model.TaskRun,
    names: frozenset[str],
    attempts_before: int | None = None,
) -> dict[str, Any]:
    ctx = execution_context(es, names)
    task = es.tasks[run.task_id]
    ctx["task"] = {"id": task.id, "type": task.written_type}
    taskrun: dict[str, Any] = {
        "id": run.id,
        "startDate": run.state.start_date,
        "attemptsCount": run.counted_attempts() if attempts_before is None else attempts_before,
    }
    if run.parent_task_run_id is not None:
        taskrun["parentId"] = run.parent_task_run_id
    if run.value is not None:
        taskrun["value"] = run.value
    if run.iteration is not None:
        taskrun["iteration"] = run.iteration
    ctx["taskrun"] = taskrun
    parents = _parents(es, run)
    ctx["parents"] = parents
    if parents:
        ctx["parent"] = parents[0]
    return ctx


def _parents(es: ExecutionState, run: model.TaskRun) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for ancestor in es.ancestors(run):
        entry: dict[str, Any] = {}
        if ancestor.value is not None:
            entry["taskrun"] = {"value": ancestor.value}
        if ancestor.outputs:
            entry["outputs"] = ancestor.outputs
        if entry:
            found.append(entry)
    return found


def _tasks(es: ExecutionState) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for run in es.ex.task_runs:
        if run.value is None:
            found[run.task_id] = {"state": run.state.current.value}
        else:
            found.setdefault(run.task_id, {})[run.value] = {"state": run.state.current.value}
    return found
