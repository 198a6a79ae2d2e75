"""Kill, resume and restart on one execution's state (semantics.md#kill, #pause, #restart).

Pure with respect to I/O: each decides on the `ExecutionState` it is given, records its changes
there, and answers a domain error value when the execution's state refuses the command. The
commands that find the execution and commit (`service.kill_execution`, ...) call these inside
the engine loop.
"""

from __future__ import annotations

from typing import Any

from tercel.engine import model, rules, states
from tercel.engine.actions import sweeps, timers
from tercel.engine.flows import inputs
from tercel.engine.outcomes import InvalidInputs, InvalidState
from tercel.engine.run.containers import Branch
from tercel.engine.run.execution import ExecutionState
from tercel.engine.types import Now

__all__ = ["kill", "restart", "restart_task_run", "resume"]

S = states.StateType


def kill(es: ExecutionState, now: Now) -> None:
    """KILLING, then the kill sweep over its task runs (its subflows' children are the
    caller's: they are other executions); a QUEUED execution has none: KILLED at once."""
    target = rules.kill_target(es.ex.state.current)
    es.set_state(target, now())
    if target is S.KILLING:
        sweeps.stop_task_runs(es, now)


def resume(
    es: ExecutionState, given: dict[str, Any] | None, now: Now
) -> InvalidState | InvalidInputs | None:
    """Resume the PAUSED execution's Pause with `given` for its `onResume` inputs."""
    if es.ex.state.current is not S.PAUSED:
        return InvalidState(
            f"Execution is not paused, current state is '{es.ex.state.current.value}'",
            es.ex.state.current,
        )
    run = next(r for r in es.ex.task_runs if r.state.current is S.PAUSED)
    definitions = es.tasks[run.task_id].properties.get("onResume") or ()
    resolved = inputs.resolve(definitions, given or {}, namespace=es.ex.namespace)
    if resolved.issues:
        return InvalidInputs(resolved.issues)
    timers.resume_pause(es, run, resolved.values if definitions else None, now)
    es.derive(now)  # PAUSED -> RESTARTED in the resume's own commit
    return None


def restart(es: ExecutionState, now: Now) -> InvalidState | None:
    """Restart a terminated execution from its FAILED task runs of the main branches."""
    current = es.ex.state.current
    if not current.is_terminated:
        return InvalidState(
            f"Execution must be terminated to be restarted, current state is '{current.value}' !",
            current,
        )
    failed = [
        r
        for r in es.ex.task_runs
        if r.state.current is S.FAILED and es.place[r.id][1] is Branch.MAIN
    ]
    if not failed:
        return InvalidState("No task found to restart execution from!", current)
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
        if run.state.current.is_terminated:
            restart_task_run(es, run, now)
    es.dirty.add(None)
    return None


def restart_task_run(es: ExecutionState, run: model.TaskRun, now: Now) -> None:
    """A restarted or replayed task run goes on (`rules.state_on_restart`); a flowable forgets
    its outputs, as its children run again."""
    flowable = es.tasks[run.task_id].kind is model.TaskKind.FLOWABLE
    if flowable:
        run.outputs = None
    es.set_run_state(run, rules.state_on_restart(flowable=flowable), now())


def _drop_errors_and_finally(es: ExecutionState) -> None:
    doomed: set[str] = set()
    for run in es.ex.task_runs:
        if es.place[run.id][1] is not Branch.MAIN or run.parent_task_run_id in doomed:
            doomed.add(run.id)
    for run in reversed([r for r in es.ex.task_runs if r.id in doomed]):
        es.remove_task_run(run)
