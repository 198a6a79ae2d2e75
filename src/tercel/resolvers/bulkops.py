"""The `bulkExecutions` resolver: checks its arguments, turns a filter into ids (refusing more
than 10,000 with the count) and hands the ids to the engine's bulk action (engine/actions/bulk.py).
Argument problems are GraphQL errors with BAD_USER_INPUT (the result is no union: per-execution
refusals are its items)."""

from __future__ import annotations

import strawberry

from tercel.engine import model, operations, storable
from tercel.engine.actions import bulk, operate
from tercel.schema import errors
from tercel.schema.bulk import BulkAction, BulkResult
from tercel.schema.context import Services, reset_loaders, services
from tercel.schema.inputs import ExecutionFilter, LabelInput
from tercel.storage.read import executions as queries

__all__ = ["bulk_executions"]


async def bulk_executions(
    info: strawberry.Info,
    action: BulkAction,
    ids: list[strawberry.ID] | None = None,
    filter: ExecutionFilter | None = None,
    dry_run: bool | None = False,
    labels: list[LabelInput] | None = None,
) -> BulkResult:
    svc = services(info)
    if (ids is None) == (filter is None):
        raise errors.BadUserInput("give either `ids` or `filter`, not both and not neither")
    given = _labels(action, labels)
    chosen, matched = await _chosen(svc, ids, filter)
    refusal = bulk.too_many(matched)
    if refusal is not None:
        raise errors.BadUserInput(refusal)
    answer = await operations.run_bulk(
        svc.engine, action, chosen, dry=bool(dry_run), labels=given, matched=matched
    )
    reset_loaders(info)
    return BulkResult.from_domain(answer)


def _labels(action: BulkAction, labels: list[LabelInput] | None) -> list[model.Label]:
    given = [label.to_domain() for label in labels or ()]
    if action is BulkAction.SET_LABELS:
        problems = operate.label_problems(given) + storable.label_problems(given)
        if labels is None or problems:
            raise errors.BadUserInput("; ".join(problems) or "SET_LABELS needs `labels`")
    elif labels is not None:
        raise errors.BadUserInput("`labels` is only for the SET_LABELS action")
    return given


async def _chosen(
    svc: Services, ids: list[strawberry.ID] | None, filter: ExecutionFilter | None
) -> tuple[list[str], int]:
    """The execution ids to act on, and how many matched."""
    if ids is not None:
        chosen = bulk.unique_ids([str(i) for i in ids])
        return chosen, len(chosen)
    assert filter is not None
    flt = filter.to_filter(svc.engine.clock.now())
    chosen = await queries.execution_ids(svc.db, flt, bulk.MAX_EXECUTIONS + 1)
    if len(chosen) > bulk.MAX_EXECUTIONS:
        return chosen, await queries.count_executions(svc.db, flt)
    return chosen, len(chosen)
