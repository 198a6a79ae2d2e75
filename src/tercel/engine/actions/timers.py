"""Timers and Pause: arming a Pause's delay and timeout, firing a due timer, resuming.

A timer is a row of `timers` (so it survives a restart); the loop keeps only a heap of due dates
as a wake-up hint. What a fired timer does is `rules.timer_step` (semantics.md#pause,
semantics.md#retry-failed-task, semantics.md#retry-new-execution).
"""

from __future__ import annotations

from typing import Any

from tercel.engine import durations, expressions, model, rules, states
from tercel.engine.run import context
from tercel.engine.run.execution import ExecutionState
from tercel.engine.types import Now, TimerKind

__all__ = ["drop_timers", "fire_timer", "pause", "resume_pause"]

S = states.StateType
T = rules.TimerStep
#: a Pause's properties and the timer each arms; the first one set wins
PAUSE_TIMERS = (("delay", TimerKind.PAUSE_DELAY), ("timeout", TimerKind.PAUSE_TIMEOUT))


def fire_timer(es: ExecutionState, timer_id: str, now: Now) -> None:
    timer = es.timers.get(timer_id)
    if timer is None:
        return
    es.remove_timer(timer_id)
    run = es.by_id.get(timer.task_run_id or "")
    step = rules.timer_step(timer.kind, run.state.current if run else None)
    if step is T.WAKE:
        es.dirty.add(None)
    elif run is None or step is T.NOTHING:
        return
    elif step is T.RECREATE:
        es.set_run_state(run, S.CREATED, now())
    elif step is T.RESUME:
        resume_pause(es, run, None, now)
    else:
        drop_timers(es, run)
        es.set_run_state(run, S.FAILED, now())


def pause(es: ExecutionState, run: model.TaskRun, task: model.TaskDef, now: Now) -> None:
    """The Pause task run goes PAUSED and arms its `delay` (or else its `timeout`)."""
    es.set_run_state(run, S.PAUSED, now())
    paused_at = run.state.histories[-1].date
    for name, kind in PAUSE_TIMERS:
        raw = task.properties.get(name)
        if raw is None:
            continue
        try:
            wait = durations.parse_duration(str(context.render(es, run, raw)))
        except (ValueError, expressions.ExpressionError) as error:
            es.log(model.LogLevel.ERROR, str(error), now(), run)
            continue
        es.add_timer(kind, run, paused_at + wait)
        return


def resume_pause(
    es: ExecutionState, run: model.TaskRun, on_resume: dict[str, Any] | None, now: Now
) -> None:
    """A resumed Pause: its `onResume` values become outputs; it goes on
    (`rules.state_on_resume`)."""
    drop_timers(es, run)
    task = es.tasks[run.task_id]
    if "onResume" in task.properties and task.properties.get("onResume") is not None:
        es.record_outputs(run, {"onResume": on_resume or {}})
    state = rules.state_on_resume(has_tasks=any(not t.disabled for t in task.branch("tasks")))
    if state is S.SUCCESS and run.outputs is None:
        es.record_outputs(run, {})
    es.set_run_state(run, state, now())


def drop_timers(es: ExecutionState, run: model.TaskRun) -> None:
    for timer_id in [t.id for t in es.timers.values() if t.task_run_id == run.id]:
        es.remove_timer(timer_id)
