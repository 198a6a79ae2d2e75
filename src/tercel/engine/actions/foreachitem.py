"""ForEachItem's `{id}_items` task run (semantics.md#foreachitem), Kestra's
`ForEachItemExecutable`: one subflow execution per batch file that `{id}_split` wrote.

When it starts it reads the split's list of batch URIs, renders `inputs` per batch with
`taskrun.items` (the batch URI) and `taskrun.iteration` (from 1), and creates every child before
spawning any, so a bad batch fails the task run with no child started. `iterations` counts the
children per state as Kestra's `ExecutableUtils.manageIterations` does (only the states seen):
RUNNING once spawned, then the state each ended in. With `wait` it ends when every child
ended; each child's flow outputs are kept for `{id}_merge` as they end.
"""

from __future__ import annotations

import io
import json
from typing import Any

from tercel.engine import expressions, filereach, files, model, states
from tercel.engine.actions import children
from tercel.engine.flows import inputs
from tercel.engine.run import context, creation
from tercel.engine.run.execution import EngineHooks, ExecutionState
from tercel.engine.tasks import itemfiles, itemtasks
from tercel.engine.types import Now, Plan

__all__ = ["TYPE", "child_ended", "recount", "start"]

S = states.StateType
L = model.LogLevel
TYPE = itemtasks.ITEMS
_RENDERED = ("namespace", "flowId", "revision", "labels")


class _Refused(Exception):
    """The task run fails with this message; no child was created."""


def start(
    es: ExecutionState, run: model.TaskRun, task: model.TaskDef, now: Now, hooks: EngineHooks
) -> None:
    """Create one child per batch, spawn them; RUNNING (or SUCCESS/FAILED)."""
    try:
        made = _children(es, run, task, now, hooks)
    except _Refused as refusal:
        es.log(L.ERROR, str(refusal), now(), run)
        es.set_run_state(run, S.RUNNING, now())
        _end(es, run, S.FAILED, now)
        return
    es.set_run_state(run, S.RUNNING, now())
    if not made:  # no batch: no child, no outputs (as Kestra)
        es.set_run_state(run, S.SUCCESS, now())
        return
    es.record_plan(run, Plan(children=[child.ex.id for child in made]))
    for i, child in enumerate(made):
        es.subflow_children[f"{run.id}#{i}"] = child.ex.id  # the kill cascade finds them
    wait = bool(task.properties.get("wait", True))
    for child in made:
        hooks.spawn(child, (es.ex.id, run.id) if wait else None)
    if wait:
        es.record_outputs(run, _outputs(len(made), {"CREATED": 0, "RUNNING": len(made)}))
        return
    # Kestra sends every child's end at once when it does not wait: RUNNING -> SUCCESS
    es.record_outputs(run, _outputs(len(made), {"RUNNING": 0, "SUCCESS": len(made)}))
    _end(es, run, S.SUCCESS, now)


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
    trigger = children.trigger_of(es, task)
    created = []
    for iteration, uri in enumerate(_splits(es, run, hooks), 1):
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


def _splits(es: ExecutionState, run: model.TaskRun, hooks: EngineHooks) -> list[str]:
    """The batch URIs `{id}_split` listed (its `splits` output: one small line a batch)."""
    split_id = run.task_id[: -len("_items")] + "_split"
    container = es.containers.get(run.parent_task_run_id)
    found = [r for r in container.main.runs if r.task_id == split_id] if container else []
    listing = (found[-1].outputs or {}).get("splits") if found else None
    if not isinstance(listing, str):
        raise _Refused(f"`{split_id}` has no `splits` output")
    try:
        with filereach.open_of_execution(hooks.files, es.ex, es.flow.inputs, listing) as handle:
            return handle.read().decode().split()
    except (files.FileRefused, files.FileMissing, OSError) as error:
        raise _Refused(f"splits: {error}") from None


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


def _outputs(batches: int, counts: dict[str, int]) -> dict[str, Any]:
    return {"numberOfBatches": batches, "iterations": counts}


def _end(es: ExecutionState, run: model.TaskRun, state: S, now: Now) -> None:
    """The task run ends with one attempt in its final state, as Kestra's executable task
    runs do (`ExecutableUtils.subflowExecutionResult`)."""
    attempt = es.add_attempt(run, now())
    es.set_attempt_state(run, attempt, S.RUNNING, now())
    es.set_attempt_state(run, attempt, state, now())
    es.set_run_state(run, state, now())


def _keep_outputs(es: ExecutionState, run: model.TaskRun, child: model.Execution) -> None:
    """Keep the child's flow outputs for `{id}_merge` (a subflow without flow outputs keeps
    none, as in Kestra); a restart that applies the end again writes the same file."""
    ids = es.plans.get(run.id, Plan()).get("children", [])
    if es.hooks is None or child.outputs is None or child.id not in ids:
        return
    parent = es.by_id.get(run.parent_task_run_id or "")
    if parent is None:
        return
    ex = es.ex
    where = itemfiles.outputs_prefix(ex.namespace, ex.flow_id, ex.id, parent.task_id, parent.id)
    text = json.dumps(child.outputs, separators=(",", ":"), ensure_ascii=False)
    uri = itemfiles.child_outputs_uri(where, ids.index(child.id) + 1)
    es.hooks.files.put(uri, io.BytesIO(text.encode()))


def recount(es: ExecutionState, run: model.TaskRun) -> None:
    """After a restart of the engine every child counts as running again: recovery re-links
    the running ones and applies the end of every ended one, so each is counted once."""
    batches = int((run.outputs or {}).get("numberOfBatches", 0))
    if batches:
        es.record_outputs(run, _outputs(batches, {"CREATED": 0, "RUNNING": batches}))


def child_ended(es: ExecutionState, run: model.TaskRun, child: model.Execution, now: Now) -> None:
    """Count the child's end; when the last child ended the task run ends: with
    `transmitFailed`, FAILED over KILLED over WARNING (Kestra's `findTerminalState`)."""
    if run.state.current is S.KILLING:
        es.set_run_state(run, S.KILLED, now())
    if run.state.current is not S.RUNNING or not run.outputs:
        return
    counts = dict(run.outputs["iterations"])
    ended = child.state.current.value
    counts["RUNNING"] = counts.get("RUNNING", 0) - 1
    counts[ended] = counts.get(ended, 0) + 1
    es.record_outputs(run, _outputs(int(run.outputs["numberOfBatches"]), counts))
    try:
        _keep_outputs(es, run, child)
    except (OSError, files.FileRefused) as error:
        es.log(L.ERROR, f"subflowOutputs: cannot store them: {error}", now(), run)
        _end(es, run, S.FAILED, now)
        return
    if counts["RUNNING"] > 0:
        return
    state = S.SUCCESS
    if es.tasks[run.task_id].properties.get("transmitFailed", True):
        state = next(
            (bad for bad in (S.FAILED, S.KILLED, S.WARNING) if counts.get(bad.value)), S.SUCCESS
        )
    _end(es, run, state, now)
