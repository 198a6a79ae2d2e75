"""Mutation resolvers and the `Mutation` root. Domain outcomes are union members, never errors.

Engine services answer once their change is committed; the execution returned is read back from
the database (the engine's own objects keep changing in its loop after the commit).
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from tercel.engine import model, operations, service
from tercel.engine.flows import loader
from tercel.engine.flows.inputs import InputIssue
from tercel.resolvers import triggers
from tercel.resolvers.bulkops import bulk_executions
from tercel.schema import errors, types
from tercel.schema.bulk import BulkResult
from tercel.schema.context import Services, reset_loaders, services
from tercel.schema.enums import StateType
from tercel.schema.flowtypes import Flow
from tercel.schema.inputs import LabelInput
from tercel.schema.scalars import JSON
from tercel.schema.uploads import FileInput, files_of
from tercel.storage.read import flows as flow_reads

__all__ = ["Mutation"]

DeployFlowResult = Annotated[
    Flow | errors.FlowValidationError, strawberry.union("DeployFlowResult")
]
ValidateFlowResult = Annotated[
    "ValidFlow | errors.FlowValidationError", strawberry.union("ValidateFlowResult")
]
CreateExecutionResult = Annotated[
    types.Execution | errors.NotFoundError | errors.InvalidInputsError | errors.InvalidStateError,
    strawberry.union("CreateExecutionResult"),
]
ExecutionResult = Annotated[
    types.Execution | errors.NotFoundError | errors.InvalidStateError | errors.InvalidInputsError,
    strawberry.union("ExecutionResult"),
]
DeleteResult = Annotated[
    types.Execution | errors.NotFoundError | errors.InvalidStateError,
    strawberry.union("DeleteResult"),
]
DeleteFlowResult = Annotated[Flow | errors.NotFoundError, strawberry.union("DeleteFlowResult")]
Outcome = model.Execution | service.NotFound | service.InvalidState | service.InvalidInputs
Mapped = (
    types.Execution | errors.NotFoundError | errors.InvalidStateError | errors.InvalidInputsError
)


@strawberry.type(description="a flow source that validates (nothing was deployed)")
class ValidFlow:
    namespace: str
    id: str
    description: str | None


async def _mapped(info: strawberry.Info, outcome: Outcome) -> Mapped:
    if (refused := errors.refusal(outcome)) is not None:
        return refused
    assert isinstance(outcome, model.Execution)
    reset_loaders(info)
    # The engine answers with a snapshot taken at the mutation's own commit (KILLING,
    # RESTARTED, CREATED...): show exactly that, not whatever the passes did since.
    return types.Execution.from_domain(outcome)


async def deploy_flow(info: strawberry.Info, source: str) -> DeployFlowResult:
    svc = services(info)
    try:
        parsed = await service.deploy_flow(svc.engine, source)
    except loader.FlowValidationError as error:
        return errors.FlowValidationError.from_domain(error)
    row = await flow_reads.flow_get(svc.db, parsed.namespace, parsed.id, parsed.revision)
    assert row is not None, "a deployed revision is committed before deploy_flow returns"
    return Flow.from_row(row, parsed)


def validate_flow(source: str) -> ValidateFlowResult:
    try:
        parsed = loader.load_flow(source)
    except loader.FlowValidationError as error:
        return errors.FlowValidationError.from_domain(error)
    return ValidFlow(namespace=parsed.namespace, id=parsed.id, description=parsed.description)


async def create_execution(
    info: strawberry.Info,
    namespace: str,
    flow_id: str,
    inputs: JSON | None = None,
    labels: list[LabelInput] | None = None,
    files: list[FileInput] | None = None,
) -> CreateExecutionResult:
    if inputs is not None and not isinstance(inputs, dict):
        issue = InputIssue("inputs", "inputs must be a JSON object")
        return errors.InvalidInputsError.from_domain(service.InvalidInputs([issue]))
    uploads, refused = files_of(files)
    if refused:
        return errors.InvalidInputsError.from_domain(service.InvalidInputs(refused))
    given = [label.to_domain() for label in labels or ()]
    engine = services(info).engine
    try:
        created = await service.create_execution(
            engine, namespace, flow_id, inputs, given, uploads=uploads
        )
    finally:
        for upload in uploads:
            upload.source.close()
    return await _mapped(info, created)


async def kill_execution(info: strawberry.Info, id: strawberry.ID) -> ExecutionResult:
    return await _mapped(info, await service.kill_execution(services(info).engine, id))


async def restart_execution(info: strawberry.Info, id: strawberry.ID) -> ExecutionResult:
    return await _mapped(info, await service.restart_execution(services(info).engine, id))


async def resume_execution(
    info: strawberry.Info,
    id: strawberry.ID,
    inputs: JSON | None = None,
    files: list[FileInput] | None = None,
) -> ExecutionResult:
    uploads, refused = files_of(files)
    if refused:
        return errors.InvalidInputsError.from_domain(service.InvalidInputs(refused))
    try:
        resumed = await service.resume_execution(services(info).engine, id, inputs, uploads)
    finally:
        for upload in uploads:
            upload.source.close()
    return await _mapped(info, resumed)


async def replay_execution(
    info: strawberry.Info,
    id: strawberry.ID,
    task_run_id: strawberry.ID | None = None,
    revision: int | None = None,
    inputs: JSON | None = None,
    files: list[FileInput] | None = None,
) -> ExecutionResult:
    uploads, refused = files_of(files)
    if refused:
        return errors.InvalidInputsError.from_domain(service.InvalidInputs(refused))
    engine = services(info).engine
    try:
        outcome = await service.replay_execution(engine, id, task_run_id, revision, inputs, uploads)
    finally:
        for upload in uploads:
            upload.source.close()
    return await _mapped(info, outcome)


async def delete_execution(
    info: strawberry.Info,
    id: strawberry.ID,
    delete_logs: bool = True,
    delete_metrics: bool = True,
    delete_storage: bool = True,
) -> DeleteResult:
    outcome = await service.delete_execution(
        services(info).engine,
        id,
        keep_logs=not delete_logs,
        keep_metrics=not delete_metrics,
        keep_files=not delete_storage,
    )
    if isinstance(outcome, service.NotFound):
        return errors.NotFoundError.from_domain(outcome)
    if isinstance(outcome, service.InvalidState):
        return errors.InvalidStateError.from_domain(outcome)
    reset_loaders(info)
    return types.Execution.from_domain(outcome)


async def pause_execution(info: strawberry.Info, id: strawberry.ID) -> ExecutionResult:
    return await _mapped(info, await operations.pause_execution(services(info).engine, id))


async def set_task_run_state(
    info: strawberry.Info, execution_id: strawberry.ID, task_run_id: strawberry.ID, state: StateType
) -> ExecutionResult:
    engine = services(info).engine
    return await _mapped(
        info, await operations.set_task_run_state(engine, execution_id, task_run_id, state)
    )


async def set_execution_state(
    info: strawberry.Info, id: strawberry.ID, state: StateType
) -> ExecutionResult:
    return await _mapped(
        info, await operations.set_execution_state(services(info).engine, id, state)
    )


async def set_execution_labels(
    info: strawberry.Info, id: strawberry.ID, labels: list[LabelInput]
) -> ExecutionResult:
    given = [label.to_domain() for label in labels]
    engine = services(info).engine
    return await _mapped(info, await operations.set_execution_labels(engine, id, given))


async def unqueue_execution(
    info: strawberry.Info, id: strawberry.ID, state: StateType | None = None
) -> ExecutionResult:
    target = StateType.RUNNING if state is None else state
    engine = services(info).engine
    return await _mapped(info, await operations.unqueue_execution(engine, id, target))


async def force_run_execution(info: strawberry.Info, id: strawberry.ID) -> ExecutionResult:
    return await _mapped(info, await operations.force_run_execution(services(info).engine, id))


async def delete_flow(info: strawberry.Info, namespace: str, id: str) -> DeleteFlowResult:
    svc = services(info)
    return await _flow_answer(
        svc, await service.delete_flow(svc.engine, namespace, id), namespace, id
    )


async def set_flow_disabled(
    info: strawberry.Info, namespace: str, id: str, disabled: bool = True
) -> DeleteFlowResult:
    svc = services(info)
    outcome = await service.set_flow_disabled(svc.engine, namespace, id, disabled)
    return await _flow_answer(svc, outcome, namespace, id)


async def _flow_answer(
    svc: Services, outcome: int | service.NotFound, namespace: str, id: str
) -> DeleteFlowResult:
    if isinstance(outcome, service.NotFound):
        return errors.NotFoundError.from_domain(outcome)
    row = await flow_reads.flow_get(svc.db, namespace, id, outcome)
    if row is None:
        return errors.NotFoundError.from_domain(service.NotFound("flow", f"{namespace}.{id}"))
    return Flow.from_row(row)


@strawberry.type
class Mutation:
    deploy_flow: DeployFlowResult = strawberry.field(
        resolver=deploy_flow,
        description="a new revision, or the latest when the source is identical",
    )
    validate_flow: ValidateFlowResult = strawberry.field(
        resolver=validate_flow, description="validation only: nothing is deployed"
    )
    create_execution: CreateExecutionResult = strawberry.field(resolver=create_execution)
    kill_execution: ExecutionResult = strawberry.field(resolver=kill_execution)
    restart_execution: ExecutionResult = strawberry.field(resolver=restart_execution)
    resume_execution: ExecutionResult = strawberry.field(resolver=resume_execution)
    replay_execution: ExecutionResult = strawberry.field(
        resolver=replay_execution,
        description="the new execution (parentId = id); `revision`: on that revision of the "
        "flow; `inputs`: new inputs, validated like createExecution's; `files`: files of its "
        "FILE inputs (multipart, as createExecution's), stored under the new execution",
    )
    delete_execution: DeleteResult = strawberry.field(
        resolver=delete_execution,
        description="terminated executions only; returns it as it was. Kestra's purge options: "
        "deleteLogs / deleteMetrics false keep those rows; deleteStorage false keeps the "
        "execution's files in the internal storage",
    )
    pause_execution: ExecutionResult = strawberry.field(
        resolver=pause_execution,
        description="RUNNING -> PAUSED: running attempts finish, nothing new starts until "
        "resumeExecution",
    )
    set_task_run_state: ExecutionResult = strawberry.field(
        resolver=set_task_run_state,
        description="Kestra's markAs: SUCCESS, WARNING or FAILED on a terminated or paused task "
        "run of a terminated or paused execution, which then goes on (RESTARTED)",
    )
    set_execution_state: ExecutionResult = strawberry.field(
        resolver=set_execution_state,
        description="a terminated execution takes another terminal state",
    )
    set_execution_labels: ExecutionResult = strawberry.field(
        resolver=set_execution_labels,
        description="any state: replaces the labels whose key does not start with `system.`",
    )
    unqueue_execution: ExecutionResult = strawberry.field(
        resolver=unqueue_execution,
        description="a QUEUED execution: RUNNING (the default, started past the flow's "
        "concurrency limit), CANCELLED or FAILED",
    )
    force_run_execution: ExecutionResult = strawberry.field(
        resolver=force_run_execution,
        description="CREATED or QUEUED: RUNNING now, past the flow's concurrency limit; PAUSED:"
        " resumed; running: answered as it is; terminated: refused",
    )
    bulk_executions: BulkResult = strawberry.field(
        resolver=bulk_executions,
        description="one action over up to 10,000 executions by `ids` or `filter`: one item "
        "per execution (OK, SKIPPED with the reason, ERROR for an unknown id), known once "
        "committed; `dryRun` changes nothing",
    )
    delete_flow: DeleteFlowResult = strawberry.field(
        resolver=delete_flow, description="every revision; executions are kept"
    )
    set_flow_disabled: DeleteFlowResult = strawberry.field(
        resolver=set_flow_disabled,
        description="disable (or enable) the latest revision: a disabled flow cannot be executed",
    )
    set_trigger_disabled: triggers.TriggerResult = strawberry.field(
        resolver=triggers.set_trigger_disabled,
        description="turn one trigger off (or on again); the flow YAML is unchanged",
    )
    backfill_trigger: triggers.BackfillResult = strawberry.field(
        resolver=triggers.backfill_trigger,
        description="one execution per Schedule date in [start, end] (end: now), oldest first,"
        " labelled system.backfill=true",
    )
