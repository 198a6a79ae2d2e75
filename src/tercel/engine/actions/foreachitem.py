"""ForEachItem (semantics.md#foreachitem): split a file into batches, one subflow execution
per batch.

Tercel runs it as ONE task run (Kestra expands it into `_split`, `_items` and `_merge` task
runs): when it starts it reads `items` from internal storage, writes each batch of
`batch.rows` lines as a file of this task run, renders `inputs` per batch with
`taskrun.items` (the batch URI) and `taskrun.iteration` (from 1), and creates every child
before spawning any, so a bad batch fails the task run with no child started. With `wait` it
ends when every child ended; the counts per state live in its outputs (`iterations`).
"""

from __future__ import annotations

import io
from typing import Any

from tercel.engine import expressions, filereach, files, model, rules, states
from tercel.engine.actions import children, itemoutputs
from tercel.engine.batches import BatchError, split_batches
from tercel.engine.flows import inputs
from tercel.engine.run import context, creation
from tercel.engine.run.execution import EngineHooks, ExecutionState
from tercel.engine.types import Now, Plan

__all__ = ["TYPE", "child_ended", "recount", "start"]

S = states.StateType
L = model.LogLevel
TYPE = "io.kestra.plugin.core.flow.ForEachItem"
_RENDERED = ("items", "batch", "namespace", "flowId", "revision", "labels")
_COUNTED = ("CREATED", "RUNNING", "SUCCESS", "WARNING", "FAILED", "KILLED")


class _Refused(Exception):
    """The task run fails with this message; no child was created."""


def start(
    es: ExecutionState, run: model.TaskRun, task: model.TaskDef, now: Now, hooks: EngineHooks
) -> None:
    """Split, create one child per batch, spawn them; RUNNING (or SUCCESS/FAILED)."""
    try:
        made = _children(es, run, task, now, hooks)
    except _Refused as refusal:
        es.log(L.ERROR, str(refusal), now(), run)
        es.set_run_state(run, S.FAILED, now())
        return
    if not made:
        es.set_run_state(run, S.RUNNING, now())
        es.set_run_state(run, S.SUCCESS, now())
        return
    es.record_plan(run, Plan(children=[child.ex.id for child in made]))
    for i, child in enumerate(made):
        es.subflow_children[f"{run.id}#{i}"] = child.ex.id  # the kill cascade finds them
    es.set_run_state(run, S.RUNNING, now())
    wait = bool(task.properties.get("wait", True))
    for child in made:
        hooks.spawn(child, (es.ex.id, run.id) if wait else None)
    es.record_outputs(run, _outputs(len(made), {"CREATED": len(made)}))
    if not wait:
        es.set_run_state(run, S.SUCCESS, now())


def _children(
    es: ExecutionState, run: model.TaskRun, task: model.TaskDef, now: Now, hooks: EngineHooks
) -> list[ExecutionState]:
    props = _render(es, run, {k: task.properties.get(k) for k in _RENDERED})
    namespace, flow_id = str(props["namespace"]), str(props["flowId"])
    flow = hooks.find_flow(namespace, flow_id, props.get("revision"))
    if flow is None:
        raise _Refused(f"Unable to find flow `{namespace}.{flow_id}`")
    if flow.disabled:
        raise _Refused(f"Flow `{namespace}.{flow_id}` is disabled")
    inherit = bool(task.properties.get("inheritLabels"))
    labels, refused = children.labels_of(es, inherit, props.get("labels"))
    if refused:
        raise _Refused("; ".join(refused))
    parts = _split(_read(es, hooks, props["items"]), props.get("batch"))
    extension = _extension(str(props["items"]))
    trigger = children.trigger_of(es, task)
    created = []
    for iteration, batch in enumerate(parts, 1):
        uri = files.task_uri(
            es.ex.namespace, es.ex.flow_id, es.ex.id, task.id, run.id, f"{iteration}{extension}"
        )
        hooks.files.put(uri, io.BytesIO(batch))
        given = _render(es, run, task.properties.get("inputs") or {}, uri, iteration)
        resolved = inputs.resolve(flow.inputs, given, namespace=flow.namespace)
        if resolved.issues:
            raise _Refused("; ".join(i.message for i in resolved.issues))
        values = resolved.values if flow.inputs else None
        hidden = children.variables_of(es)
        created.append(
            creation.new_execution(flow, values, labels, now(), trigger=trigger, variables=hidden)
        )
    return created


def _render(
    es: ExecutionState, run: model.TaskRun, value: Any, uri: str = "", iteration: int = 0
) -> Any:
    """Rendered in `run`'s context, with `taskrun.items` / `taskrun.iteration` of a batch."""
    extra = None
    if uri:
        base = context.task_run_context(es, run, frozenset({"taskrun"}), None)["taskrun"]
        extra = {"taskrun": {**base, "items": uri, "iteration": iteration}}
    try:
        return context.render(es, run, value, variables=extra)
    except expressions.ExpressionError as error:
        raise _Refused(str(error)) from None


def _extension(uri: str) -> str:
    """The batch files keep the extension of `items` (`.tmp` without one), as in Kestra."""
    name = uri.rsplit("/", 1)[-1]
    return name[name.rindex(".") :] if "." in name else ".tmp"


def _split(data: bytes, batch: Any) -> list[bytes]:
    try:
        return split_batches(data, batch if isinstance(batch, dict) else {})
    except BatchError as error:
        raise _Refused(str(error)) from None


def _read(es: ExecutionState, hooks: EngineHooks, uri: Any) -> bytes:
    """The whole `items` file, if this execution may read it."""
    try:
        with filereach.open_of_execution(hooks.files, es.ex, es.flow.inputs, str(uri)) as handle:
            return handle.read()
    except (files.FileRefused, files.FileMissing, OSError) as error:
        raise _Refused(f"items: {error}") from None


def _outputs(batches: int, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "numberOfBatches": batches,
        "iterations": {state: counts.get(state, 0) for state in _COUNTED},
    }


def _merged_outputs(
    es: ExecutionState, run: model.TaskRun, child: model.Execution, batches: int, *, done: bool
) -> str | None:
    """Keep this child's flow outputs; the merged file's URI once the last child ended."""
    children = es.plans.get(run.id, Plan()).get("children", [])
    if es.hooks is None or child.id not in children:
        return None
    itemoutputs.keep(es.hooks.files, es, run, child, children.index(child.id) + 1)
    return itemoutputs.merge(es.hooks.files, es, run, batches) if done else None


def recount(es: ExecutionState, run: model.TaskRun) -> None:
    """After a restart every child counts as not ended again: recovery re-links the running
    ones and applies the end of every ended one, so each is counted once."""
    batches = int((run.outputs or {}).get("numberOfBatches", 0))
    if batches:
        es.record_outputs(run, _outputs(batches, {"CREATED": batches}))


def child_ended(es: ExecutionState, run: model.TaskRun, child: model.Execution, now: Now) -> None:
    """Count the child's end; when the last child ended the task run ends: FAILED when one
    failed (or was killed) and `transmitFailed`, as `rules.subflow_state_on_child_end`."""
    if run.state.current is S.KILLING:
        es.set_run_state(run, S.KILLED, now())
    if run.state.current is not S.RUNNING or not run.outputs:
        return
    counts = dict(run.outputs["iterations"])
    batches = int(run.outputs["numberOfBatches"])
    ended = child.state.current.value
    counts["CREATED"] -= 1
    counts[ended] = counts.get(ended, 0) + 1
    outputs = _outputs(batches, counts)
    try:
        merged = _merged_outputs(es, run, child, batches, done=counts["CREATED"] <= 0)
    except (OSError, files.FileRefused, files.FileMissing) as error:
        es.log(L.ERROR, f"subflowOutputs: cannot store them: {error}", now(), run)
        es.set_run_state(run, S.FAILED, now())
        return
    if merged:
        outputs["subflowOutputs"] = merged
    es.record_outputs(run, outputs)
    if counts["CREATED"] > 0:
        return
    worst = S.SUCCESS
    for bad in (S.WARNING, S.FAILED, S.KILLED):
        if counts.get(bad.value, 0):
            worst = bad
    task = es.tasks[run.task_id]
    state = rules.subflow_state_on_child_end(
        run.state.current,
        worst,
        transmit_failed=bool(task.properties.get("transmitFailed", True)),
        allow_failure=task.allow_failure,
        allow_warning=task.allow_warning,
    )
    if state is not None:
        es.set_run_state(run, state, now())
