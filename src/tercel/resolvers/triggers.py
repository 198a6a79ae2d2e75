"""Triggers over GraphQL (docs/semantics.md#triggers): `triggers(namespace)`,
`setTriggerDisabled` and `backfillTrigger`. Kept apart from the roots: `queries.Query` and
`mutations.Mutation` only name these resolvers."""

from __future__ import annotations

from datetime import datetime

import strawberry

from tercel.engine import service
from tercel.engine.flows.inputs import InputIssue
from tercel.engine.triggers import operations as triggering
from tercel.schema import errors, types
from tercel.schema.context import reset_loaders, services
from tercel.schema.scalars import JSON, DateTime
from tercel.schema.triggers import Backfill, BackfillResult, Trigger, TriggerResult

__all__ = ["BackfillResult", "Trigger", "TriggerResult", "backfill_trigger", "set_trigger_disabled"]


async def triggers(info: strawberry.Info, namespace: str | None = None) -> list[Trigger]:
    found = await triggering.list_triggers(services(info).engine, namespace)
    return [Trigger.from_domain(item) for item in found]


async def set_trigger_disabled(
    info: strawberry.Info, namespace: str, flow_id: str, trigger_id: str, disabled: bool
) -> TriggerResult:
    engine = services(info).engine
    outcome = await triggering.set_trigger_disabled(
        engine, namespace, flow_id, trigger_id, disabled
    )
    if isinstance(outcome, service.NotFound):
        return errors.NotFoundError.from_domain(outcome)
    return Trigger.from_domain(outcome)


async def backfill_trigger(
    info: strawberry.Info,
    namespace: str,
    flow_id: str,
    trigger_id: str,
    start: DateTime,
    end: DateTime | None = None,
    inputs: JSON | None = None,
) -> BackfillResult:
    if inputs is not None and not isinstance(inputs, dict):
        issue = InputIssue("inputs", "inputs must be a JSON object")
        return errors.InvalidInputsError.from_domain(service.InvalidInputs([issue]))
    assert isinstance(start, datetime)
    engine = services(info).engine
    outcome = await triggering.backfill(engine, namespace, flow_id, trigger_id, start, end, inputs)
    if (refused := errors.refusal(outcome)) is not None:
        return refused
    assert isinstance(outcome, list), outcome
    reset_loaders(info)
    # copies taken by the backfill's own command (CREATED), as other mutations answer
    return Backfill(executions=[types.Execution.from_domain(ex) for ex in outcome])
