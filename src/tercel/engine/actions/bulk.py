"""Bulk actions on executions (docs/semantics.md#bulk): the pure part.

One action over up to 10,000 executions given by id or by a filter, with a dry run. Every
execution gets the same rules as its single mutation; a refusal is an item SKIPPED with the
reason, an unknown id an item ERROR. Here: the vocabulary (actions, outcomes, items), the
limits, what a dry run answers, and the item of an outcome. The batches that run them in the
engine loop are `engine/operations.py`'s.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from tercel.engine import model, rules, states
from tercel.engine.actions import operate, queueing
from tercel.engine.outcomes import InvalidInputs, InvalidState, NotFound
from tercel.engine.run.execution import ExecutionState

__all__ = [
    "BATCH",
    "MAX_EXECUTIONS",
    "Action",
    "BulkAnswer",
    "BulkItem",
    "BulkOutcome",
    "dry_refusal",
    "item_of",
    "too_many",
    "unique_ids",
]

S = states.StateType
#: the most executions one call may act on (a filter matching more is refused with its count)
MAX_EXECUTIONS = 10_000
#: executions per engine command
BATCH = 500
REPLAYED = "replayed as "


class Action(enum.Enum):
    KILL = "KILL"
    RESTART = "RESTART"
    REPLAY = "REPLAY"
    RESUME = "RESUME"
    PAUSE = "PAUSE"
    DELETE = "DELETE"
    SET_LABELS = "SET_LABELS"
    UNQUEUE = "UNQUEUE"
    FORCE_RUN = "FORCE_RUN"


class BulkOutcome(enum.Enum):
    OK = "OK"
    SKIPPED = "SKIPPED"
    ERROR = "ERROR"


@dataclass(frozen=True, slots=True)
class BulkItem:
    execution_id: str
    outcome: BulkOutcome
    message: str | None = None
    #: the execution's state after the action (its current state when skipped or dry)
    state: S | None = None


@dataclass(frozen=True, slots=True)
class BulkAnswer:
    dry_run: bool
    matched: int
    items: list[BulkItem]


def unique_ids(ids: Sequence[str]) -> list[str]:
    """The ids in their first order, each once."""
    return list(dict.fromkeys(ids))


def too_many(count: int) -> str | None:
    """Why a call over `count` executions is refused (None: it is not)."""
    if count <= MAX_EXECUTIONS:
        return None
    return (
        f"{count:,} executions match: a bulk action takes at most {MAX_EXECUTIONS:,}; "
        "narrow the filter"
    )


def dry_refusal(action: Action, es: ExecutionState) -> str | None:
    """What the action would answer for this execution, without doing it (None: OK)."""
    current = es.ex.state.current
    if action is Action.UNQUEUE:
        return rules.unqueue_refusal(current, S.RUNNING)
    if action is Action.FORCE_RUN:
        return queueing.force_run_refusal(current)
    if action is Action.KILL:
        return operate.kill_refusal(current)
    if action is Action.RESTART:
        return operate.restart_refusal(es)
    if action is Action.REPLAY:
        return operate.replay_refusal(current)
    if action is Action.DELETE:
        return operate.delete_refusal(es.ex.id, current)
    if action is Action.RESUME:
        return operate.resume_refusal(current, es.manual_pause, False)
    if action is Action.PAUSE:
        return operate.pause_refusal(current)
    return None


Outcome = model.Execution | NotFound | InvalidState | InvalidInputs


def item_of(execution_id: str, outcome: Outcome, dry: bool = False) -> BulkItem:
    """The item of one execution from its single-mutation outcome."""
    if isinstance(outcome, NotFound):
        return BulkItem(execution_id, BulkOutcome.ERROR, outcome.message)
    if isinstance(outcome, InvalidState):
        return BulkItem(execution_id, BulkOutcome.SKIPPED, outcome.message, outcome.state)
    if isinstance(outcome, InvalidInputs):
        return BulkItem(execution_id, BulkOutcome.SKIPPED, outcome.message)
    message = None
    if outcome.id != execution_id:  # a replay answers the new execution
        message = REPLAYED + outcome.id
    if dry:
        message = "would be done (dry run)"
    return BulkItem(execution_id, BulkOutcome.OK, message, outcome.state.current)
