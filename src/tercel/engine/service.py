"""Engine services: the commands the CLI and the GraphQL resolvers call.

Each returns a domain object or a domain error value (never raises for an expected outcome).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tercel import failpoints, ids
from tercel.engine import files, model, states, storable
from tercel.engine.actions import lifecycle, operate, replay
from tercel.engine.flows import fileinputs, inputs, loader, replayinputs
from tercel.engine.outcomes import InvalidInputs, InvalidState, NotFound, Outcome
from tercel.engine.run import creation
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime import quarantine
from tercel.engine.runtime.scheduler import Engine

__all__ = [
    "InvalidInputs",
    "InvalidState",
    "NotFound",
    "Outcome",
    "create_execution",
    "delete_execution",
    "delete_files",
    "delete_flow",
    "delete_one",
    "deploy_flow",
    "get_execution",
    "kill_execution",
    "kill_one",
    "on_state",
    "replay_execution",
    "replay_one",
    "restart_execution",
    "restart_one",
    "resume_execution",
    "resume_one",
    "set_flow_disabled",
]

S = states.StateType


async def deploy_flow(engine: Engine, source: str, file: str | None = None) -> model.Flow:
    """Validate and store a flow; raises loader.FlowValidationError."""
    parsed = loader.load_flow(source, file=file)
    now = engine.clock.now()
    db = engine.db
    row = await engine.call(
        lambda: db.deploy_flow(parsed.namespace, parsed.id, source, parsed.disabled, now)
    )
    flow = dataclasses.replace(parsed, revision=row.revision)
    engine.flows.remember(flow)
    return flow


async def create_execution(
    engine: Engine,
    namespace: str,
    flow_id: str,
    given: Mapping[str, Any] | None = None,
    labels: Sequence[model.Label] = (),
    *,
    from_text: bool = False,
    trigger: dict[str, Any] | None = None,
    on_created: Callable[[ExecutionState], None] | None = None,
    uploads: Sequence[fileinputs.Upload] = (),
) -> model.Execution | NotFound | InvalidInputs | InvalidState:
    """`trigger` is what started it (semantics.md#triggers); `on_created` adds to the creation's
    commit (a trigger's next date); `uploads` are the files of its FILE inputs, stored (and
    synced) before the execution is committed, removed again if it is not."""
    row = await engine.call(lambda: engine.db.latest_flow(namespace, flow_id))
    if row is None:
        return NotFound("flow", f"{namespace}.{flow_id}")
    flow = await engine.flow(namespace, flow_id, row.revision)
    if flow is None:
        return NotFound("flow", f"{namespace}.{flow_id}")
    if flow.disabled or row.disabled:
        return InvalidState(f"flow `{namespace}.{flow_id}` is disabled")
    execution_id = ids.new_id()
    stored = await fileinputs.store(engine.files, flow, execution_id, uploads)
    if not isinstance(stored, dict):
        return InvalidInputs(stored)
    if stored:
        failpoints.hit("before_upload_commit")
    values_given = {**(given or {}), **stored}
    resolved = inputs.resolve(
        flow.inputs, values_given, from_text=from_text, namespace=flow.namespace
    )
    refused = storable.label_problems(labels)
    issues = [*resolved.issues, *(inputs.InputIssue("labels", line) for line in refused)]
    if issues:
        await fileinputs.drop(engine.files, flow, execution_id, any_stored=bool(stored))
        return InvalidInputs(issues)

    def command() -> model.Execution:
        values = resolved.values if flow.inputs else None
        es = creation.new_execution(
            flow, values, labels, engine.clock.now(), trigger=trigger, execution_id=execution_id
        )
        if on_created is not None:
            on_created(es)
        for name in resolved.undeclared:
            es.log(
                model.LogLevel.WARN,
                f"Input `{name}` is not declared by the flow: ignored",
                engine.clock.now(),
            )
        engine.track(es)
        return es.ex

    try:
        created = await engine.submit(command)
    except BaseException:
        await fileinputs.drop(engine.files, flow, execution_id, any_stored=bool(stored))
        raise
    await fileinputs.settled(engine.files, execution_id, any_stored=bool(stored))
    return created


async def get_execution(engine: Engine, execution_id: str) -> model.Execution | None:
    loaded = await engine.call(lambda: engine.db.load_executions([execution_id]))
    return loaded.executions[0] if loaded.executions else None


async def on_state(
    engine: Engine, execution_id: str, decide: Callable[[ExecutionState], Outcome]
) -> Outcome:
    """Run `decide` inside the loop on the execution's state as the loop owns it (the active
    one, or the last commit read by the loop itself), so concurrent commands on one execution
    see each other's changes; its changes commit in one transaction."""

    def command() -> Outcome:
        es = quarantine.load_state(engine, execution_id)
        if isinstance(es, tuple):
            return NotFound(*es)
        return decide(es)

    return await engine.submit(command)


# ---------------------------------------------------------------------------- one execution
# Each `*_one` runs inside the loop on one execution's state, answers a domain value or error
# value, and `track`s what it changed; the commands below and the bulk actions (operations.py)
# call them.


def kill_one(engine: Engine, es: ExecutionState) -> Outcome:
    current = es.ex.state.current
    refusal = operate.kill_refusal(current)
    if refusal is not None:
        return InvalidState(refusal, current)
    if current is not S.KILLING:
        _kill(engine, es)
    return es.ex


def _kill(engine: Engine, es: ExecutionState) -> None:
    """Kill one execution, cascading to the children of its subflows."""
    lifecycle.kill(es, engine.clock.now)
    engine.track(es)
    for child_id in es.subflow_children.values():
        child = engine.active.get(child_id)
        if child is not None and child.ex.state.current.is_active:
            if child.ex.state.current is not S.KILLING:
                _kill(engine, child)


def resume_one(engine: Engine, es: ExecutionState, given: dict[str, Any] | None) -> Outcome:
    """A Pause's resume (with its onResume inputs), or the end of a manual pause
    (semantics.md#pause-execution)."""
    if es.manual_pause:
        refusal = operate.resume_refusal(es.ex.state.current, True, bool(given))
        if refusal is not None:
            return InvalidInputs([inputs.InputIssue("inputs", refusal)])
        operate.apply_resume(es, engine.clock.now)
    else:
        refused = lifecycle.resume(es, given, engine.clock.now)
        if refused is not None:
            return refused
    engine.track(es)
    return es.ex


def restart_one(engine: Engine, es: ExecutionState) -> Outcome:
    refused = lifecycle.restart(es, engine.clock.now)
    if refused is not None:
        return refused
    engine.track(es)
    return es.ex


def replay_one(
    engine: Engine,
    es: ExecutionState,
    task_run_id: str | None = None,
    flow: model.Flow | None = None,
    values: dict[str, Any] | None = None,
    new_id: str | None = None,
) -> Outcome:
    """Replay into a new execution (optionally on another revision `flow`, with new input
    `values`, with the id `new_id` its files were stored under); answers the new one."""
    if task_run_id is not None and task_run_id not in es.by_id:
        return NotFound("task run", task_run_id)
    current = es.ex.state.current
    refusal = operate.replay_refusal(current)
    if refusal is not None:
        return InvalidState(refusal, current)
    if flow is not None and task_run_id is not None:
        missing = sorted({r.task_id for r in es.ex.task_runs} - {t.id for t in flow.all_tasks()})
        if missing:
            return InvalidState(
                f"Revision {flow.revision} of the flow has no task `{missing[0]}` of this "
                "execution: replay it from the start (no taskRunId) or on its own revision",
                current,
            )
    new = replay.replay(es, task_run_id, engine.clock.now, flow, values, new_id)
    engine.track(new)
    return new.ex


def delete_one(engine: Engine, es: ExecutionState, keep: frozenset[str] = frozenset()) -> Outcome:
    """Delete a terminated or QUEUED execution (but the rows of the tables in `keep`: logs,
    metrics)."""
    current = es.ex.state.current
    refusal = operate.delete_refusal(es.ex.id, current)
    if refusal is not None:
        return InvalidState(refusal, current)
    engine.delete(es, keep)
    return es.ex


# ---------------------------------------------------------------------------- the commands


async def kill_execution(engine: Engine, execution_id: str) -> Outcome:
    return await on_state(engine, execution_id, lambda es: kill_one(engine, es))


async def resume_execution(
    engine: Engine, execution_id: str, given: Any, uploads: Sequence[fileinputs.Upload] = ()
) -> Outcome:
    """`uploads`: files of the waiting Pause's `onResume` FILE inputs, stored (synced) under
    the execution before the resume is submitted."""
    if given is not None and not isinstance(given, dict):
        return InvalidInputs([inputs.InputIssue("inputs", "Invalid inputs: expected an object")])
    if uploads or given:
        ex = await get_execution(engine, execution_id)
        if ex is None:
            return NotFound("execution", execution_id)
        flow = await engine.flow(ex.namespace, ex.flow_id, ex.flow_revision)
        if flow is None:
            return NotFound("flow", f"{ex.namespace}.{ex.flow_id} revision {ex.flow_revision}")
        resolved = await fileinputs.for_resume(engine.files, flow, ex, given or {}, uploads)
        if not isinstance(resolved, dict):
            return InvalidInputs(resolved)
        given = resolved
    return await on_state(engine, execution_id, lambda es: resume_one(engine, es, given))


async def restart_execution(engine: Engine, execution_id: str) -> Outcome:
    return await on_state(engine, execution_id, lambda es: restart_one(engine, es))


async def replay_execution(
    engine: Engine,
    execution_id: str,
    task_run_id: str | None,
    revision: int | None = None,
    given: Any = None,
    uploads: Sequence[fileinputs.Upload] = (),
) -> Outcome:
    """Replay; with `revision`, on that revision of the flow; with `given` inputs (and
    `uploads`, files of FILE inputs stored under the new execution first), those instead of
    the old ones, resolved like createExecution's (every problem at once)."""
    flow, values, new_id = None, None, ids.new_id()
    new_inputs = given is not None or bool(uploads)
    if revision is not None or new_inputs:
        if given is not None and not isinstance(given, dict):
            return InvalidInputs([inputs.InputIssue("inputs", "inputs must be a JSON object")])
        old = await get_execution(engine, execution_id)
        if old is None:
            return NotFound("execution", execution_id)
        wanted = old.flow_revision if revision is None else revision
        flow = await engine.flow(old.namespace, old.flow_id, wanted)
        if flow is None:
            return NotFound("flow", f"{old.namespace}.{old.flow_id} revision {wanted}")
        if new_inputs:
            found = await replayinputs.for_replay(engine.files, flow, new_id, given, uploads)
            if isinstance(found, list):
                return InvalidInputs(found)
            values = found
    outcome = await on_state(
        engine, execution_id, lambda es: replay_one(engine, es, task_run_id, flow, values, new_id)
    )
    if uploads and flow is not None and not isinstance(outcome, model.Execution):
        await fileinputs.drop(engine.files, flow, new_id, any_stored=True)
    await fileinputs.settled(engine.files, new_id, any_stored=bool(uploads))
    return outcome


async def delete_execution(
    engine: Engine,
    execution_id: str,
    *,
    keep_logs: bool = False,
    keep_metrics: bool = False,
    keep_files: bool = False,
) -> model.Execution | NotFound | InvalidState:
    """Delete a terminal execution with every row of its child tables (logs and metrics kept
    when asked: Kestra's purge options), in the loop's commit; open streams complete; then its
    files (unless `keep_files`). Answers it as it was."""
    keep = frozenset(
        name for name, kept in (("logs", keep_logs), ("metrics", keep_metrics)) if kept
    )
    outcome = await on_state(engine, execution_id, lambda es: delete_one(engine, es, keep))
    assert not isinstance(outcome, InvalidInputs), "deleting takes no inputs"
    if isinstance(outcome, model.Execution) and not keep_files:
        await delete_files(engine, [outcome])
    return outcome


async def delete_files(engine: Engine, deleted: Sequence[model.Execution]) -> int:
    """Remove the internal-storage files of executions whose deletion is committed."""
    keys = [(ex.namespace, ex.flow_id, ex.id) for ex in deleted]
    return await asyncio.to_thread(files.delete_all, engine.files, keys)


async def set_flow_disabled(
    engine: Engine, namespace: str, flow_id: str, disabled: bool
) -> int | NotFound:
    """Disable or enable a flow's latest revision; returns that revision."""
    db = engine.db
    revision = await engine.call(lambda: db.set_flow_disabled(namespace, flow_id, disabled))
    if revision is None:
        return NotFound("flow", f"{namespace}.{flow_id}")
    engine.flows.switched(namespace, flow_id, disabled)
    return revision


async def delete_flow(engine: Engine, namespace: str, flow_id: str) -> int | NotFound:
    """Delete every revision of a flow (its executions are kept); returns the latest."""
    db = engine.db
    revision = await engine.call(lambda: db.delete_flow(namespace, flow_id))
    if revision is None:
        return NotFound("flow", f"{namespace}.{flow_id}")
    engine.flows.deleted(namespace, flow_id)
    return revision
