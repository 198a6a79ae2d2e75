"""The commands of docs/semantics.md#operating and the bulk actions: pause, `setTaskRunState`,
`setExecutionState`, `setExecutionLabels`, `unqueueExecution`, `forceRunExecution` (flow
concurrency, docs/semantics.md#concurrency), `bulkExecutions`.

Like the lifecycle commands of `service`, each runs inside the engine loop on the loop's own state
of the execution (so concurrent commands see each other), decides with the pure rules of
`actions/operate.py` and `actions/bulk.py`, and answers once its changes are committed.

A bulk action runs one engine command per batch of `bulk.BATCH` executions: one read of the
batch, the same per-execution action as the single mutation, one commit. The executions a batch
changed are held (no pass runs over them) until every batch is committed, so the answer does not
wait for them to run again; then they are released one batch per loop iteration.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence

from tercel.engine import model, rules, service, states, storable
from tercel.engine.actions import bulk, operate, queueing
from tercel.engine.flows import inputs
from tercel.engine.outcomes import InvalidInputs, InvalidState, NotFound, Outcome
from tercel.engine.run import rebuild
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime import quarantine
from tercel.engine.runtime.scheduler import Engine

__all__ = [
    "force_run_execution",
    "force_run_one",
    "pause_execution",
    "pause_one",
    "relabel_one",
    "run_bulk",
    "set_execution_labels",
    "set_execution_state",
    "set_task_run_state",
    "unqueue_execution",
    "unqueue_one",
]

S = states.StateType


def pause_one(engine: Engine, es: ExecutionState) -> Outcome:
    """RUNNING -> PAUSED with no task run PAUSED, or say why not."""
    current = es.ex.state.current
    refusal = operate.pause_refusal(current)
    if refusal is not None:
        return InvalidState(refusal, current)
    operate.apply_pause(es, engine.clock.now)
    engine.track(es)
    return es.ex


async def pause_execution(engine: Engine, execution_id: str) -> Outcome:
    return await service.on_state(engine, execution_id, lambda es: pause_one(engine, es))


async def set_task_run_state(
    engine: Engine, execution_id: str, task_run_id: str, target: S
) -> Outcome:
    """Kestra's markAs (semantics.md#mark-task-run)."""

    def command(es: ExecutionState) -> Outcome:
        run = es.by_id.get(task_run_id)
        if run is None:
            return NotFound("task run", task_run_id)
        current = es.ex.state.current
        refusal = operate.mark_refusal(
            current, run.state.current, target, operate.previous_end(es, run)
        )
        if refusal is not None:
            return InvalidState(refusal, current)
        operate.apply_mark(es, run, target, engine.clock.now)
        engine.track(es)
        return es.ex

    return await service.on_state(engine, execution_id, command)


def _set_state_one(engine: Engine, es: ExecutionState, target: S) -> Outcome:
    current = es.ex.state.current
    refusal = operate.set_state_refusal(current, target)
    if refusal is not None:
        return InvalidState(refusal, current)
    es.set_state(target, engine.clock.now())
    engine.track(es)
    return es.ex


async def set_execution_state(engine: Engine, execution_id: str, target: S) -> Outcome:
    """A terminated execution takes another terminal state."""
    return await service.on_state(
        engine, execution_id, lambda es: _set_state_one(engine, es, target)
    )


def relabel_one(engine: Engine, es: ExecutionState, labels: Sequence[model.Label]) -> Outcome:
    """Replace the non-`system.` labels (no state entry; the commit streams a new snapshot and
    tells filtered streams the new labels)."""
    es.ex.labels = operate.relabelled(es.ex.labels, labels)
    es.changes.relabelled[es.ex.id] = es.ex
    engine.track(es)
    return es.ex


async def set_execution_labels(
    engine: Engine, execution_id: str, labels: Sequence[model.Label]
) -> Outcome:
    problems = operate.label_problems(labels) + storable.label_problems(labels)
    if problems:
        return InvalidInputs([inputs.InputIssue("labels", line) for line in problems])
    return await service.on_state(engine, execution_id, lambda es: relabel_one(engine, es, labels))


# ---------------------------------------------------------------------------- concurrency

PAST_LIMIT = " (forced past the flow's concurrency limit)"


def unqueue_one(engine: Engine, es: ExecutionState, target: S = S.RUNNING) -> Outcome:
    """QUEUED -> RUNNING past the flow's limit, or CANCELLED, or FAILED
    (semantics.md#concurrency)."""
    current = es.ex.state.current
    refusal = rules.unqueue_refusal(current, target)
    if refusal is not None:
        return InvalidState(refusal, current)
    queueing.unqueue_to(es, target, engine.clock.now)
    engine.track(es)
    return es.ex


def force_run_one(engine: Engine, es: ExecutionState) -> Outcome:
    """Kestra's forceRun: CREATED and QUEUED start now, PAUSED resumes, what runs is answered
    as it is, a terminated execution is refused."""
    current = es.ex.state.current
    refusal = queueing.force_run_refusal(current)
    if refusal is not None:
        return InvalidState(refusal, current)
    step = rules.force_run_step(current)
    if step is rules.ForceRun.RESUME:
        return service.resume_one(engine, es, None)
    if step is not rules.ForceRun.AS_IS:
        why = PAST_LIMIT if step is rules.ForceRun.UNQUEUE else " (forced)"
        queueing.start(es, why, engine.clock.now)
        engine.track(es)
    return es.ex


async def unqueue_execution(engine: Engine, execution_id: str, target: S = S.RUNNING) -> Outcome:
    return await service.on_state(engine, execution_id, lambda es: unqueue_one(engine, es, target))


async def force_run_execution(engine: Engine, execution_id: str) -> Outcome:
    return await service.on_state(engine, execution_id, lambda es: force_run_one(engine, es))


# ---------------------------------------------------------------------------- bulk

Apply = Callable[[Engine, ExecutionState], Outcome]


def _applier(action: bulk.Action, labels: Sequence[model.Label]) -> Apply:
    """The single mutation's per-execution action."""
    found: dict[bulk.Action, Apply] = {
        bulk.Action.KILL: service.kill_one,
        bulk.Action.RESTART: service.restart_one,
        bulk.Action.REPLAY: lambda engine, es: service.replay_one(engine, es),
        bulk.Action.RESUME: lambda engine, es: service.resume_one(engine, es, None),
        bulk.Action.PAUSE: pause_one,
        bulk.Action.DELETE: lambda engine, es: service.delete_one(engine, es),
        bulk.Action.SET_LABELS: lambda engine, es: relabel_one(engine, es, labels),
        bulk.Action.UNQUEUE: unqueue_one,
        bulk.Action.FORCE_RUN: force_run_one,
    }
    return found[action]


def load_states(engine: Engine, ids: Sequence[str]) -> dict[str, ExecutionState | NotFound]:
    """The loop's own state of each execution: the active one, else one read of the batch."""
    found: dict[str, ExecutionState | NotFound] = {}
    missing: list[str] = []
    for execution_id in ids:
        es = engine.active.get(execution_id)
        if es is not None:
            found[execution_id] = es
        elif engine.deleting(execution_id):
            found[execution_id] = NotFound("execution", execution_id)
        else:
            missing.append(execution_id)
    reads = engine.loop_reads
    loaded = reads.load_executions(missing)
    for ex in loaded.executions:
        flow = quarantine.flow_now(engine, reads, ex.namespace, ex.flow_id, ex.flow_revision)
        if flow is None:
            what = f"{ex.namespace}.{ex.flow_id} revision {ex.flow_revision}"
            found[ex.id] = NotFound("flow", what)
            continue
        timers = [] if ex.state.current.is_terminated else reads.load_timers(ex.id)
        found[ex.id] = rebuild.rebuild(ex, flow, loaded.plans, timers)
    for execution_id in missing:
        found.setdefault(execution_id, NotFound("execution", execution_id))
    return found


def _batch_command(
    engine: Engine,
    action: bulk.Action,
    ids: Sequence[str],
    dry: bool,
    labels: Sequence[model.Label],
    held: list[str],
    deleted: list[model.Execution],
) -> Callable[[], list[bulk.BulkItem]]:
    apply = _applier(action, labels)

    def command() -> list[bulk.BulkItem]:
        items: list[bulk.BulkItem] = []
        loaded = load_states(engine, ids)
        for execution_id in ids:
            es = loaded[execution_id]
            if isinstance(es, NotFound):
                items.append(bulk.item_of(execution_id, es))
            elif dry:
                why = bulk.dry_refusal(action, es)
                state = es.ex.state.current
                would = InvalidState(why, state) if why is not None else es.ex
                items.append(bulk.item_of(execution_id, would, dry=True))
            else:
                outcome = apply(engine, es)
                if isinstance(outcome, model.Execution):
                    if action is bulk.Action.DELETE:
                        deleted.append(outcome)
                    changed = {execution_id, outcome.id}  # a replay: the new one too
                    engine.hold(changed)
                    held.extend(changed)
                items.append(bulk.item_of(execution_id, outcome))
        return items

    return command


async def run_bulk(
    engine: Engine,
    action: bulk.Action,
    ids: Sequence[str],
    *,
    dry: bool = False,
    labels: Sequence[model.Label] = (),
    matched: int | None = None,
) -> bulk.BulkAnswer:
    """Apply `action` to `ids` (already de-duplicated and within the limit), batch by batch;
    answers once every batch is committed. `matched`: how many a filter matched (default: the
    number of ids)."""
    items: list[bulk.BulkItem] = []
    held: list[str] = []
    try:
        for start in range(0, len(ids), bulk.BATCH):
            batch = ids[start : start + bulk.BATCH]
            deleted: list[model.Execution] = []
            command = _batch_command(engine, action, batch, dry, labels, held, deleted)
            items += await engine.submit(command)
            if deleted:
                await service.delete_files(engine, deleted)
    finally:  # also when the call is cancelled: what a committed batch holds is released
        if held:
            task = asyncio.create_task(_release(engine, held), name="tercel-bulk-release")
            _RELEASING.add(task)
            task.add_done_callback(_RELEASING.discard)
    return bulk.BulkAnswer(dry, len(ids) if matched is None else matched, items)


#: release tasks still running (a reference keeps them alive)
_RELEASING: set[asyncio.Task[None]] = set()


async def _release(engine: Engine, execution_ids: list[str]) -> None:
    """Release held executions one batch per loop iteration (the no-op command's answer comes
    after the iteration that ran the released batch's passes)."""
    try:
        for start in range(0, len(execution_ids), bulk.BATCH):
            engine.release(execution_ids[start : start + bulk.BATCH])
            await engine.submit(_nothing)
    except Exception as error:  # the engine stopped: recovery carries them on at the next start
        engine.release(execution_ids)
        print(f"tercel: bulk release stopped: {error}", file=sys.stderr)


def _nothing() -> None:
    """A command that changes nothing: its answer marks one loop iteration."""
