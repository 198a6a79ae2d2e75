"""Lifecycle actions on executions (execution-model §15–§18): kill, resume, restart, replay,
delete.

Each is an engine command: it runs inside the engine loop and decides on the loop's own state
(the active execution, or, for one not in memory, the last commit read by the loop itself), so
concurrent commands on one execution see each other's changes; its changes commit in one
transaction, and the caller gets the execution as committed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from tercel.engine import model, service, states
from tercel.engine.actions import passes, results
from tercel.engine.flows import inputs
from tercel.engine.run.containers import Branch
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime import quarantine
from tercel.engine.runtime.scheduler import Engine
from tercel.engine.service import InvalidInputs, InvalidState, NotFound

__all__ = [
    "delete",
    "delete_execution",
    "kill",
    "kill_execution",
    "replay_execution",
    "replay_one",
    "restart",
    "restart_execution",
    "restart_refusal",
    "resume",
    "resume_execution",
]

S = states.StateType
Outcome = service.Outcome


async def _on_state(
    engine: Engine, execution_id: str, decide: Callable[[ExecutionState], Outcome]
) -> Outcome:
    """Run `decide` inside the loop on the execution's state as the loop owns it."""

    def command() -> Outcome:
        es = quarantine.load_state(engine, execution_id)
        if isinstance(es, tuple):
            return NotFound(*es)
        return decide(es)

    return await engine.submit(command)


def kill(engine: Engine, es: ExecutionState) -> Outcome:
    """Inside the loop: kill one execution (§16), or say why not."""
    current = es.ex.state.current
    if current.is_terminated:
        return InvalidState("Execution is already finished, can't kill it", current)
    if current is S.KILLING:
        return es.ex
    _kill(engine, es)
    return es.ex


async def kill_execution(engine: Engine, execution_id: str) -> Outcome:
    return await _on_state(engine, execution_id, lambda es: kill(engine, es))


def _kill(engine: Engine, es: ExecutionState) -> None:
    """§16.1–2, cascading to the children of subflows."""
    now = engine.clock.now
    es.set_state(S.KILLING, now())
    engine.track(es)
    for child_id in es.subflow_children.values():
        child = engine.active.get(child_id)
        if (
            child is not None
            and child.ex.state.current.is_active
            and child.ex.state.current is not S.KILLING
        ):
            _kill(engine, child)
    for timer_id in list(es.timers):
        es.remove_timer(timer_id)
    es.pending = []
    es.waiting = []
    for run in es.ex.task_runs:
        current = run.state.current
        if current in (S.CREATED, S.RESTARTED, S.RETRYING):
            es.set_run_state(run, S.KILLED, now())
        elif (
            current in (S.RUNNING, S.PAUSED)
            and es.tasks[run.task_id].kind is not model.TaskKind.RUNNABLE
        ):
            es.set_run_state(run, S.KILLING, now())
        elif current is S.RUNNING:
            es.to_cancel.append(run.id)


async def resume_execution(
    engine: Engine, execution_id: str, given: dict[str, Any] | None
) -> Outcome:
    return await _on_state(engine, execution_id, lambda es: resume(engine, es, given))


def resume(engine: Engine, es: ExecutionState, given: dict[str, Any] | None) -> Outcome:
    """Inside the loop: resume one execution (§15.4, §25.1), or say why not."""
    if es.manual_pause:  # paused by pauseExecution (§25.1)
        from tercel.engine.actions import operations

        return operations.resume_manual(engine, es, given)
    if es.ex.state.current is not S.PAUSED:
        return InvalidState(
            f"Execution is not paused, current state is '{es.ex.state.current.value}'",
            es.ex.state.current,
        )
    run = next(r for r in es.ex.task_runs if r.state.current is S.PAUSED)
    definitions = es.tasks[run.task_id].properties.get("onResume") or ()
    resolved = inputs.resolve(definitions, given or {})
    if resolved.issues:
        return InvalidInputs(resolved.issues)
    results.resume_pause(es, run, resolved.values if definitions else None, engine.clock.now)
    passes.derive(es, engine.clock.now)  # PAUSED -> RESTARTED in the resume's own commit
    engine.track(es)
    return es.ex


async def restart_execution(engine: Engine, execution_id: str) -> Outcome:
    return await _on_state(engine, execution_id, lambda es: restart(engine, es))


def restart_refusal(es: ExecutionState) -> str | None:
    """Why a restart is refused (§17.1-2), None when it restarts."""
    current = es.ex.state.current
    if not current.is_terminated:
        return f"Execution must be terminated to be restarted, current state is '{current.value}' !"
    if not _restart_targets(es):
        return "No task found to restart execution from!"
    return None


def _restart_targets(es: ExecutionState) -> list[model.TaskRun]:
    return [
        r
        for r in es.ex.task_runs
        if r.state.current is S.FAILED and es.place[r.id][1] is Branch.MAIN
    ]


def restart(engine: Engine, es: ExecutionState) -> Outcome:
    """Inside the loop: restart one execution (§17), or say why not."""
    refusal = restart_refusal(es)
    if refusal is not None:
        return InvalidState(refusal, es.ex.state.current)
    _restart(es, _restart_targets(es), engine.clock.now)
    engine.track(es)
    return es.ex


def _restart(es: ExecutionState, failed: list[model.TaskRun], now: Callable[[], datetime]) -> None:
    _drop_errors_and_finally(es)
    targets: dict[str, model.TaskRun] = {}
    for run in failed:
        if run.id in es.by_id:
            targets[run.id] = run
            targets.update((a.id, a) for a in es.ancestors(run))
    es.set_state(S.RESTARTED, now())
    es.ex.attempt_number += 1
    es.touch()
    for run in sorted(targets.values(), key=lambda r: r.position):
        if not run.state.current.is_terminated:
            continue
        flowable = es.tasks[run.task_id].kind is model.TaskKind.FLOWABLE
        if flowable:
            run.outputs = None
        es.set_run_state(run, S.RUNNING if flowable else S.RESTARTED, now())
    es.dirty.add(None)


def _drop_errors_and_finally(es: ExecutionState) -> None:
    doomed: set[str] = set()
    for run in es.ex.task_runs:
        if es.place[run.id][1] is not Branch.MAIN or run.parent_task_run_id in doomed:
            doomed.add(run.id)
    for run in reversed([r for r in es.ex.task_runs if r.id in doomed]):
        es.remove_task_run(run)


async def replay_execution(
    engine: Engine,
    execution_id: str,
    task_run_id: str | None,
    flow: model.Flow | None = None,
    values: dict[str, Any] | None = None,
) -> Outcome:
    """Replay (§18), optionally on another revision `flow` with new resolved input `values`."""
    return await _on_state(
        engine, execution_id, lambda es: replay_one(engine, es, task_run_id, flow, values)
    )


def replay_one(
    engine: Engine,
    es: ExecutionState,
    task_run_id: str | None = None,
    flow: model.Flow | None = None,
    values: dict[str, Any] | None = None,
) -> Outcome:
    """Inside the loop: replay one execution (§18) into a new one, or say why not."""
    from tercel.engine.actions import replay

    if task_run_id is not None and task_run_id not in es.by_id:
        return NotFound("task run", task_run_id)
    current = es.ex.state.current
    if not current.is_terminated:
        return InvalidState(
            f"Execution must be terminated to be replayed, current state is '{current.value}' !",
            current,
        )
    if flow is not None and task_run_id is not None:
        known = {task.id for task in flow.all_tasks()}
        missing = sorted({r.task_id for r in es.ex.task_runs} - known)
        if missing:
            return InvalidState(
                f"Revision {flow.revision} of the flow has no task `{missing[0]}` of this "
                "execution: replay it from the start (no taskRunId) or on its own revision",
                current,
            )
    new = replay.replay(es, task_run_id, engine.clock.now, flow, values)
    engine.track(new)
    return new.ex


async def delete_execution(
    engine: Engine, execution_id: str, keep: frozenset[str] = frozenset()
) -> Outcome:
    """Delete a terminal execution with every row of its child tables (but those of the tables
    in `keep`: `logs`, `metrics`), in the loop's commit; open streams complete. Answers it as
    it was."""
    return await _on_state(engine, execution_id, lambda es: delete(engine, es, keep))


def delete(engine: Engine, es: ExecutionState, keep: frozenset[str] = frozenset()) -> Outcome:
    """Inside the loop: delete one terminated execution, or say why not."""
    current = es.ex.state.current
    if not current.is_terminated:
        return InvalidState(
            f"execution `{es.ex.id}` is {current.value}: only ended executions can be "
            "deleted (kill it first)",
            current,
        )
    engine.delete(es, keep)
    return es.ex
