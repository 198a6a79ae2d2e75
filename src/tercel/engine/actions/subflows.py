"""The Subflow task (semantics.md#subflow): a child execution, and its end."""

from __future__ import annotations

from tercel.engine import expressions, model, rules, states
from tercel.engine.actions import children, deferred, foreachitem
from tercel.engine.expressions import farm
from tercel.engine.flows import inputs
from tercel.engine.run import creation
from tercel.engine.run.execution import EngineHooks, ExecutionState
from tercel.engine.types import Now, Plan

__all__ = ["child_ended", "start"]

S = states.StateType
L = model.LogLevel


def start(
    es: ExecutionState, run: model.TaskRun, task: model.TaskDef, now: Now, hooks: EngineHooks
) -> None:
    """Create the child execution; the subflow task run goes RUNNING (or FAILED)."""
    if task.type == foreachitem.TYPE:
        return foreachitem.start(es, run, task, now, hooks)
    reads = {k: v for k, v in task.properties.items() if k != "wait"}
    try:
        props = deferred.call(es, run, "subflow", farm.render_one, (reads,), reads)
    except deferred.Parked:  # back in dispatch when the render process answers
        return None
    except expressions.ExpressionError as error:
        return _fail(es, run, str(error), now)
    namespace, flow_id = str(props["namespace"]), str(props["flowId"])
    flow = hooks.find_flow(namespace, flow_id, props.get("revision"))
    if flow is None:
        return _fail(es, run, f"Unable to find flow `{namespace}.{flow_id}`", now)
    if flow.disabled:
        return _fail(es, run, f"Flow `{namespace}.{flow_id}` is disabled", now)
    resolved = inputs.resolve(flow.inputs, props.get("inputs") or {}, namespace=flow.namespace)
    if resolved.issues:
        return _fail(es, run, "; ".join(i.message for i in resolved.issues), now)
    labels, refused = children.labels_of(es, bool(props.get("inheritLabels")), props.get("labels"))
    if refused:
        return _fail(es, run, "; ".join(refused), now)
    trigger = children.trigger_of(es, task)
    child = creation.new_execution(
        flow,
        resolved.values if flow.inputs else None,
        labels,
        now(),
        trigger=trigger,
        variables=children.variables_of(es),
    )
    es.record_plan(run, Plan(child=child.ex.id))
    es.subflow_children[run.id] = child.ex.id
    es.set_run_state(run, S.RUNNING, now())
    if task.properties.get("wait", True):
        hooks.spawn(child, (es.ex.id, run.id))
        return None
    hooks.spawn(child, None)
    es.record_outputs(run, {"executionId": child.ex.id, "state": "CREATED"})
    es.set_run_state(run, S.SUCCESS, now())
    return None


def _fail(es: ExecutionState, run: model.TaskRun, message: str, now: Now) -> None:
    es.log(L.ERROR, message, now(), run)
    es.set_run_state(run, S.FAILED, now())


def child_ended(es: ExecutionState, run_id: str, child: model.Execution, now: Now) -> None:
    """The subflow task run takes the child's outcome (`rules.subflow_state_on_child_end`)."""
    run = es.by_id.get(run_id)
    if run is None:
        return
    task = es.tasks[run.task_id]
    if task.type == foreachitem.TYPE:
        return foreachitem.child_ended(es, run, child, now)
    state = rules.subflow_state_on_child_end(
        run.state.current,
        child.state.current,
        transmit_failed=bool(task.properties.get("transmitFailed", True)),
        allow_failure=task.allow_failure,
        allow_warning=task.allow_warning,
    )
    if state is None:
        return
    if run.state.current is S.RUNNING:
        outputs = {"executionId": child.id, "state": child.state.current.value}
        es.record_outputs(run, {**outputs, "outputs": child.outputs})
    es.set_run_state(run, state, now())
