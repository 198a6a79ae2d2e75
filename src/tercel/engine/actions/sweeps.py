"""The kill sweep, written once: what a kill does to every task run of an execution.

Used by `kill` (semantics.md#kill) and by the start of a new-execution retry, which stops the
other task runs "as a kill would" (semantics.md#retry-new-execution). The decision for each
task run is `rules.kill_step`.
"""

from __future__ import annotations

from collections.abc import Collection

from tercel.engine import model, rules, states
from tercel.engine.run.execution import ExecutionState
from tercel.engine.types import Now

__all__ = ["stop_task_runs"]

S = states.StateType
K = rules.KillStep


def stop_task_runs(es: ExecutionState, now: Now, keep: Collection[str] = ()) -> None:
    """Stop every task run but those in `keep`: not started ones KILLED, flowables and subflows
    KILLING until they stop, running attempts cancelled; no timer fires and nothing more is
    dispatched."""
    for timer_id in list(es.timers):
        es.remove_timer(timer_id)
    es.pending, es.waiting = [], []
    for run in es.ex.task_runs:
        if run.id in keep:
            continue
        runnable = es.tasks[run.task_id].kind is model.TaskKind.RUNNABLE
        step = rules.kill_step(run.state.current, runnable=runnable)
        if step is K.KILLED:
            es.set_run_state(run, S.KILLED, now())
        elif step is K.KILLING:
            es.set_run_state(run, S.KILLING, now())
        elif step is K.CANCEL:
            es.to_cancel.append(run.id)
