"""Bulk actions on executions (execution-model §25.1 "Bulk"): one action over up to 10,000
executions given by id or by a filter, with a dry run.

Every execution gets the same rules as its single mutation; a refusal is an item SKIPPED with
the reason, an unknown id an item ERROR. The executions are handled in batches of `BATCH`: one
engine command per batch, which loads the batch's executions in one read, applies the action to
each and commits them in one transaction, so the loop answers other work between batches and
the call answers once every batch is committed. A dry run decides the same way on the same state
and changes nothing.
"""

from __future__ import annotations

import asyncio
import enum
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tercel.engine import model, service, states
from tercel.engine.actions import lifecycle, operate, operations
from tercel.engine.run import rebuild
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime import quarantine
from tercel.engine.runtime.scheduler import Engine
from tercel.storage import reader

__all__ = [
    "BATCH",
    "MAX_EXECUTIONS",
    "Action",
    "BulkAnswer",
    "BulkItem",
    "BulkOutcome",
    "run_bulk",
    "too_many",
    "unique_ids",
]

S = states.StateType
#: the most executions one call may act on (a filter matching more is refused with its count)
MAX_EXECUTIONS = 10_000
#: executions per engine command
BATCH = 500
REPLAYED = "replayed as "
NO_CONCURRENCY = "no QUEUED executions: flow concurrency is not implemented yet"


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


# ---------------------------------------------------------------------------- the rules


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
    if action in (Action.UNQUEUE, Action.FORCE_RUN):
        return NO_CONCURRENCY
    if action is Action.KILL:
        return "Execution is already finished, can't kill it" if current.is_terminated else None
    if action is Action.RESTART:
        return lifecycle.restart_refusal(es)
    if action in (Action.REPLAY, Action.DELETE) and not current.is_terminated:
        verb = "replayed" if action is Action.REPLAY else "deleted"
        return f"Execution must be terminated to be {verb}, current state is '{current.value}'"
    if action is Action.RESUME:
        return operate.resume_refusal(current, es.manual_pause, False)
    if action is Action.PAUSE:
        return operate.pause_refusal(current)
    return None


def item_of(execution_id: str, outcome: service.Outcome, dry: bool = False) -> BulkItem:
    """The item of one execution from its single-mutation outcome."""
    if isinstance(outcome, service.NotFound):
        return BulkItem(execution_id, BulkOutcome.ERROR, outcome.message)
    if isinstance(outcome, service.InvalidState):
        return BulkItem(execution_id, BulkOutcome.SKIPPED, outcome.message, outcome.state)
    if isinstance(outcome, service.InvalidInputs):
        return BulkItem(execution_id, BulkOutcome.SKIPPED, outcome.message)
    message = None
    if outcome.id != execution_id:  # a replay answers the new execution
        message = REPLAYED + outcome.id
    if dry:
        message = "would be done (dry run)"
    return BulkItem(execution_id, BulkOutcome.OK, message, outcome.state.current)


# ---------------------------------------------------------------------------- in the loop

Apply = Callable[[Engine, ExecutionState], service.Outcome]


def _applier(action: Action, labels: Sequence[model.Label]) -> Apply:
    if action is Action.KILL:
        return lifecycle.kill
    if action is Action.RESTART:
        return lifecycle.restart
    if action is Action.REPLAY:
        return lambda engine, es: lifecycle.replay_one(engine, es)
    if action is Action.RESUME:
        return lambda engine, es: lifecycle.resume(engine, es, None)
    if action is Action.PAUSE:
        return operations.pause
    if action is Action.DELETE:
        return lambda engine, es: lifecycle.delete(engine, es)
    if action is Action.SET_LABELS:
        return lambda engine, es: operations.relabel(engine, es, labels)
    return lambda engine, es: service.InvalidState(NO_CONCURRENCY, es.ex.state.current)


def load_states(engine: Engine, ids: Sequence[str]) -> dict[str, ExecutionState | service.NotFound]:
    """The loop's own state of each execution: the active one, else one read of the batch."""
    found: dict[str, ExecutionState | service.NotFound] = {}
    missing: list[str] = []
    for execution_id in ids:
        es = engine.active.get(execution_id)
        if es is not None:
            found[execution_id] = es
        elif engine.deleting(execution_id):
            found[execution_id] = service.NotFound("execution", execution_id)
        else:
            missing.append(execution_id)
    conn = engine.loop_reader
    loaded = reader.load_executions(conn, missing)
    for ex in loaded.executions:
        flow = quarantine.flow_now(engine, conn, ex.namespace, ex.flow_id, ex.flow_revision)
        if flow is None:
            what = f"{ex.namespace}.{ex.flow_id} revision {ex.flow_revision}"
            found[ex.id] = service.NotFound("flow", what)
            continue
        timers = [] if ex.state.current.is_terminated else reader.load_timers(conn, ex.id)
        found[ex.id] = rebuild.rebuild(ex, flow, loaded.plans, timers)
    for execution_id in missing:
        found.setdefault(execution_id, service.NotFound("execution", execution_id))
    return found


def _batch_command(
    engine: Engine,
    action: Action,
    ids: Sequence[str],
    dry: bool,
    labels: Sequence[model.Label],
    held: list[str],
) -> Callable[[], list[BulkItem]]:
    apply = _applier(action, labels)

    def command() -> list[BulkItem]:
        items: list[BulkItem] = []
        loaded = load_states(engine, ids)
        for execution_id in ids:
            es = loaded[execution_id]
            if isinstance(es, service.NotFound):
                items.append(item_of(execution_id, es))
            elif dry:
                why = dry_refusal(action, es)
                state = es.ex.state.current
                would = service.InvalidState(why, state) if why is not None else es.ex
                items.append(item_of(execution_id, would, dry=True))
            else:
                outcome = apply(engine, es)
                if isinstance(outcome, model.Execution):  # see run_bulk
                    changed = {execution_id, outcome.id}  # a replay: the new one too
                    engine.hold(changed)
                    held.extend(changed)
                items.append(item_of(execution_id, outcome))
        return items

    return command


async def run_bulk(
    engine: Engine,
    action: Action,
    ids: Sequence[str],
    *,
    dry: bool = False,
    labels: Sequence[model.Label] = (),
    matched: int | None = None,
) -> BulkAnswer:
    """Apply `action` to `ids` (already de-duplicated and within the limit), batch by batch;
    answers once every batch is committed. `matched`: how many a filter matched (default: the
    number of ids).

    The passes over the executions it changed are held until every batch is committed (the
    answer does not wait for them to run again), then released one batch per loop iteration
    (the loop never runs 10,000 executions' passes in one go)."""
    items: list[BulkItem] = []
    held: list[str] = []
    try:
        for start in range(0, len(ids), BATCH):
            command = _batch_command(engine, action, ids[start : start + BATCH], dry, labels, held)
            items += await engine.submit(command)
    finally:  # also when the call is cancelled: what a committed batch holds is released
        if held:
            task = asyncio.create_task(_release(engine, held), name="tercel-bulk-release")
            _RELEASING.add(task)
            task.add_done_callback(_RELEASING.discard)
    return BulkAnswer(dry, len(ids) if matched is None else matched, items)


#: release tasks still running (a reference keeps them alive)
_RELEASING: set[asyncio.Task[None]] = set()


async def _release(engine: Engine, execution_ids: list[str]) -> None:
    """Release held executions one batch per loop iteration (the no-op command's answer comes
    after the iteration that ran the released batch's passes)."""
    try:
        for start in range(0, len(execution_ids), BATCH):
            engine.release(execution_ids[start : start + BATCH])
            await engine.submit(_nothing)
    except Exception as error:  # the engine stopped: recovery carries them on at the next start
        engine.release(execution_ids)
        print(f"tercel: bulk release stopped: {error}", file=sys.stderr)


def _nothing() -> None:
    """A command that changes nothing: its answer marks one loop iteration."""
