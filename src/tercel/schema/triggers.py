"""The trigger types of the API: `Trigger`, `Backfill` and the results of
`setTriggerDisabled` and `backfillTrigger`; their resolvers are in `resolvers/triggers.py`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from tercel.engine.triggers import operations as triggering
from tercel.schema import errors, types
from tercel.schema.scalars import DateTime

__all__ = ["Backfill", "BackfillResult", "Trigger", "TriggerResult"]


@strawberry.type(description="one trigger of a flow's latest revision")
class Trigger:
    namespace: str
    flow_id: str
    id: str
    type: str
    disabled: bool = strawberry.field(
        description="off in the flow YAML or through setTriggerDisabled"
    )
    next_date: DateTime | None = strawberry.field(
        description="a Schedule's next date (null for other types, or before its first look)"
    )
    last_execution_id: strawberry.ID | None

    @classmethod
    def from_domain(cls, info: triggering.TriggerInfo) -> Trigger:
        return cls(
            namespace=info.namespace,
            flow_id=info.flow_id,
            id=info.id,
            type=info.type,
            disabled=info.disabled,
            next_date=None if info.next_date is None else DateTime(info.next_date),
            last_execution_id=None
            if info.last_execution_id is None
            else strawberry.ID(info.last_execution_id),
        )


@strawberry.type(description="the executions a backfill created, oldest date first")
class Backfill:
    executions: list[types.Execution]


TriggerResult = Annotated[Trigger | errors.NotFoundError, strawberry.union("TriggerResult")]
BackfillResult = Annotated[
    Backfill | errors.NotFoundError | errors.InvalidStateError | errors.InvalidInputsError,
    strawberry.union("BackfillResult"),
]
