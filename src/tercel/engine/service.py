"""Engine services: the commands the CLI and the GraphQL resolvers call.

Each returns a domain object or a domain error value (never raises for an expected outcome).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tercel.engine import model, states, storable
from tercel.engine.flows import inputs, loader
from tercel.engine.run import creation
from tercel.engine.runtime.scheduler import Engine
from tercel.storage import flowstore, reader

__all__ = [
    "InvalidInputs",
    "InvalidState",
    "NotFound",
    "create_execution",
    "delete_execution",
    "delete_flow",
    "deploy_flow",
    "get_execution",
    "kill_execution",
    "pause_execution",
    "replay_execution",
    "restart_execution",
    "resume_execution",
    "set_execution_labels",
    "set_execution_state",
    "set_flow_disabled",
    "set_task_run_state",
]

S = states.StateType


@dataclass(frozen=True, slots=True)
class NotFound:
    kind: str
    id: str

    @property
    def message(self) -> str:
        return f"{self.kind} `{self.id}` not found"


@dataclass(frozen=True, slots=True)
class InvalidState:
    message: str
    state: S | None = None


@dataclass(frozen=True, slots=True)
class InvalidInputs:
    issues: list[inputs.InputIssue]

    @property
    def message(self) -> str:
        return "; ".join(issue.message for issue in self.issues)


Outcome = model.Execution | NotFound | InvalidState | InvalidInputs


async def deploy_flow(engine: Engine, source: str, file: str | None = None) -> model.Flow:
    """Validate and store a flow; raises loader.FlowValidationError."""
    parsed = loader.load_flow(source, file=file)
    now = engine.clock.now()
    row = await engine.call(
        lambda: flowstore.deploy(
            engine.db.conn, parsed.namespace, parsed.id, source, parsed.disabled, now
        )
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
) -> model.Execution | NotFound | InvalidInputs | InvalidState:
    row = await engine.call(lambda: flowstore.latest(engine.db.conn, namespace, flow_id))
    if row is None:
        return NotFound("flow", f"{namespace}.{flow_id}")
    flow = await engine.flow(namespace, flow_id, row.revision)
    if flow is None:
        return NotFound("flow", f"{namespace}.{flow_id}")
    if flow.disabled or row.disabled:
        return InvalidState(f"flow `{namespace}.{flow_id}` is disabled")
    resolved = inputs.resolve(flow.inputs, given or {}, from_text=from_text)
    refused = storable.label_problems(labels)
    issues = [*resolved.issues, *(inputs.InputIssue("labels", line) for line in refused)]
    if issues:
        return InvalidInputs(issues)

    def command() -> model.Execution:
        values = resolved.values if flow.inputs else None
        es = creation.new_execution(flow, values, labels, engine.clock.now())
        for name in resolved.undeclared:
            es.log(
                model.LogLevel.WARN,
                f"Input `{name}` is not declared by the flow: ignored",
                engine.clock.now(),
            )
        engine.track(es)
        return es.ex

    return await engine.submit(command)


async def get_execution(engine: Engine, execution_id: str) -> model.Execution | None:
    loaded = await engine.call(lambda: reader.load_executions(engine.db.conn, [execution_id]))
    return loaded.executions[0] if loaded.executions else None


async def kill_execution(engine: Engine, execution_id: str) -> Outcome:
    from tercel.engine.actions import lifecycle

    return await lifecycle.kill_execution(engine, execution_id)


async def resume_execution(engine: Engine, execution_id: str, given: Any) -> Outcome:
    from tercel.engine.actions import lifecycle

    if given is not None and not isinstance(given, dict):
        return InvalidInputs([inputs.InputIssue("inputs", "Invalid inputs: expected an object")])
    return await lifecycle.resume_execution(engine, execution_id, given)


async def restart_execution(engine: Engine, execution_id: str) -> Outcome:
    from tercel.engine.actions import lifecycle

    return await lifecycle.restart_execution(engine, execution_id)


async def replay_execution(
    engine: Engine,
    execution_id: str,
    task_run_id: str | None,
    revision: int | None = None,
    given: Any = None,
) -> Outcome:
    """Replay (§18); with `revision`, on that revision of the flow; with `given` inputs, those
    instead of the old ones, resolved like createExecution's (every problem at once)."""
    from tercel.engine.actions import lifecycle

    if revision is None and given is None:
        return await lifecycle.replay_execution(engine, execution_id, task_run_id)
    if given is not None and not isinstance(given, dict):
        return InvalidInputs([inputs.InputIssue("inputs", "inputs must be a JSON object")])
    old = await get_execution(engine, execution_id)
    if old is None:
        return NotFound("execution", execution_id)
    wanted = old.flow_revision if revision is None else revision
    flow = await engine.flow(old.namespace, old.flow_id, wanted)
    if flow is None:
        return NotFound("flow", f"{old.namespace}.{old.flow_id} revision {wanted}")
    values = None
    if given is not None:
        resolved = inputs.resolve(flow.inputs, given)
        if resolved.issues:
            return InvalidInputs(resolved.issues)
        values = resolved.values if flow.inputs else None
    return await lifecycle.replay_execution(engine, execution_id, task_run_id, flow, values)


async def delete_execution(
    engine: Engine, execution_id: str, *, keep_logs: bool = False, keep_metrics: bool = False
) -> model.Execution | NotFound | InvalidState:
    """Delete a terminal execution (see lifecycle.delete_execution), keeping its logs or
    metrics when asked (Kestra's purge options)."""
    from tercel.engine.actions import lifecycle

    keep = frozenset(
        name for name, kept in (("logs", keep_logs), ("metrics", keep_metrics)) if kept
    )
    outcome = await lifecycle.delete_execution(engine, execution_id, keep)
    assert not isinstance(outcome, InvalidInputs), "deleting takes no inputs"
    return outcome


async def pause_execution(engine: Engine, execution_id: str) -> Outcome:
    from tercel.engine.actions import operations

    return await operations.pause_execution(engine, execution_id)


async def set_task_run_state(
    engine: Engine, execution_id: str, task_run_id: str, state: S
) -> Outcome:
    from tercel.engine.actions import operations

    return await operations.set_task_run_state(engine, execution_id, task_run_id, state)


async def set_execution_state(engine: Engine, execution_id: str, state: S) -> Outcome:
    from tercel.engine.actions import operations

    return await operations.set_execution_state(engine, execution_id, state)


async def set_execution_labels(
    engine: Engine, execution_id: str, labels: Sequence[model.Label]
) -> Outcome:
    from tercel.engine.actions import operations

    return await operations.set_execution_labels(engine, execution_id, labels)


async def set_flow_disabled(
    engine: Engine, namespace: str, flow_id: str, disabled: bool
) -> int | NotFound:
    """Disable or enable a flow's latest revision; returns that revision."""
    from tercel.storage import flowadmin

    conn = engine.db.conn
    revision = await engine.call(lambda: flowadmin.set_disabled(conn, namespace, flow_id, disabled))
    if revision is None:
        return NotFound("flow", f"{namespace}.{flow_id}")
    engine.flows.switched(namespace, flow_id, disabled)
    return revision


async def delete_flow(engine: Engine, namespace: str, flow_id: str) -> int | NotFound:
    """Delete every revision of a flow (its executions are kept); returns the latest."""
    from tercel.storage import flowadmin

    conn = engine.db.conn
    revision = await engine.call(lambda: flowadmin.delete_flow(conn, namespace, flow_id))
    if revision is None:
        return NotFound("flow", f"{namespace}.{flow_id}")
    engine.flows.deleted(namespace, flow_id)
    return revision
