"""The engine commands of §25.1: pause, the resume of a manual pause, `setTaskRunState`,
`setExecutionState`, `setExecutionLabels`.

Like the lifecycle commands, each runs inside the engine loop on the loop's own state of the
execution (so concurrent commands see each other), decides with the rules of `operate`, and its
changes commit alone before the caller gets the execution as committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tercel.engine import model, service, states
from tercel.engine.actions import lifecycle, operate
from tercel.engine.flows import inputs
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime.scheduler import Engine
from tercel.engine.service import InvalidInputs, InvalidState, NotFound

__all__ = [
    "pause",
    "pause_execution",
    "relabel",
    "resume_manual",
    "set_execution_labels",
    "set_execution_state",
    "set_state",
    "set_task_run_state",
]

S = states.StateType
Outcome = service.Outcome


def pause(engine: Engine, es: ExecutionState) -> Outcome:
    """Inside the loop: pause one execution, or say why not."""
    current = es.ex.state.current
    refusal = operate.pause_refusal(current)
    if refusal is not None:
        return InvalidState(refusal, current)
    operate.apply_pause(es, engine.clock.now)
    engine.track(es)
    return es.ex


async def pause_execution(engine: Engine, execution_id: str) -> Outcome:
    return await lifecycle._on_state(engine, execution_id, lambda es: pause(engine, es))


def resume_manual(engine: Engine, es: ExecutionState, given: dict[str, Any] | None) -> Outcome:
    """Inside the loop: resume an execution paused by `pauseExecution` (no inputs)."""
    current = es.ex.state.current
    refusal = operate.resume_refusal(current, es.manual_pause, bool(given))
    if refusal is not None:
        if current is S.PAUSED:
            return InvalidInputs([inputs.InputIssue("inputs", refusal)])
        return InvalidState(refusal, current)
    operate.apply_resume(es, engine.clock.now)
    engine.track(es)
    return es.ex


async def set_task_run_state(
    engine: Engine, execution_id: str, task_run_id: str, target: S
) -> Outcome:
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

    return await lifecycle._on_state(engine, execution_id, command)


def set_state(engine: Engine, es: ExecutionState, target: S) -> Outcome:
    """Inside the loop: a terminated execution takes another terminal state."""
    current = es.ex.state.current
    refusal = operate.set_state_refusal(current, target)
    if refusal is not None:
        return InvalidState(refusal, current)
    es.set_state(target, engine.clock.now())
    engine.track(es)
    return es.ex


async def set_execution_state(engine: Engine, execution_id: str, target: S) -> Outcome:
    return await lifecycle._on_state(engine, execution_id, lambda es: set_state(engine, es, target))


def relabel(engine: Engine, es: ExecutionState, labels: Sequence[model.Label]) -> Outcome:
    """Inside the loop: replace the non-`system.` labels (no state entry; the commit streams a
    new snapshot and tells filtered streams the new labels)."""
    es.ex.labels = operate.relabelled(es.ex.labels, labels)
    es.changes.relabelled[es.ex.id] = es.ex
    engine.track(es)
    return es.ex


async def set_execution_labels(
    engine: Engine, execution_id: str, labels: Sequence[model.Label]
) -> Outcome:
    from tercel.engine import storable

    problems = operate.label_problems(labels) + storable.label_problems(labels)
    if problems:
        return InvalidInputs([inputs.InputIssue("labels", line) for line in problems])
    return await lifecycle._on_state(engine, execution_id, lambda es: relabel(engine, es, labels))
