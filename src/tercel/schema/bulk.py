"""GraphQL types of `bulkExecutions` (docs/semantics.md#bulk): the action and outcome enums are
the engine's own (same member names), the result and its items plain types."""

from __future__ import annotations

import strawberry

from tercel.engine.actions import bulk
from tercel.schema import enums

__all__ = ["BulkAction", "BulkItem", "BulkOutcome", "BulkResult"]

strawberry.enum(bulk.Action, name="BulkAction")
strawberry.enum(bulk.BulkOutcome, name="BulkOutcome")
BulkAction = bulk.Action
BulkOutcome = bulk.BulkOutcome


@strawberry.type(description="what happened (or, in a dry run, would happen) to one execution")
class BulkItem:
    execution_id: strawberry.ID
    outcome: BulkOutcome
    message: str | None = strawberry.field(
        description="why it was skipped or is an error; a replay names the new execution"
    )
    state: enums.StateType | None = strawberry.field(
        description="its state after the action (its state as it is when skipped or dry)"
    )

    @classmethod
    def from_domain(cls, item: bulk.BulkItem) -> BulkItem:
        return cls(
            execution_id=strawberry.ID(item.execution_id),
            outcome=item.outcome,
            message=item.message,
            state=item.state,
        )


@strawberry.type(description="one item per execution, in the order given (ids) or newest first")
class BulkResult:
    dry_run: bool
    matched: int = strawberry.field(description="how many executions the ids or filter named")
    items: list[BulkItem]

    @classmethod
    def from_domain(cls, answer: bulk.BulkAnswer) -> BulkResult:
        items = [BulkItem.from_domain(item) for item in answer.items]
        return cls(dry_run=answer.dry_run, matched=answer.matched, items=items)
