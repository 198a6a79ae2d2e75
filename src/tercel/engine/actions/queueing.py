"""Flow concurrency on one execution (docs/semantics.md#concurrency): the appliers of what
`rules.execution_over_limit`, `rules.queued_may_start`, `rules.unqueue_refusal` and
`rules.force_run_step` decided. Which executions of a flow count is the loop's business
(`runtime/concurrency.py`); here one `ExecutionState` changes, each history entry recorded by
its methods, with a log line saying why.
"""

from __future__ import annotations

from tercel.engine import model, rules, states
from tercel.engine.run.execution import ExecutionState
from tercel.engine.types import Now, TimerKind

__all__ = ["force_run_refusal", "is_new", "over_limit", "start", "unqueue_to"]

S = states.StateType
L = model.LogLevel


def is_new(es: ExecutionState) -> bool:
    """CREATED and due to start now (a new-execution retry's replacement waits for its START
    timer: it is decided when the timer fires)."""
    if es.ex.state.current is not S.CREATED:
        return False
    return not any(t.kind is TimerKind.START for t in es.timers.values())


def force_run_refusal(current: S) -> str | None:
    """Why `forceRunExecution` is refused (None: it does what `rules.force_run_step` says)."""
    if rules.force_run_step(current) is not rules.ForceRun.REFUSE:
        return None
    return (
        f"Only a non-terminated execution can be forced to run, current state is '{current.value}'"
    )


def over_limit(es: ExecutionState, target: S, limit: int, now: Now) -> None:
    """CREATED -> QUEUED, CANCELLED or FAILED: its flow already runs `limit` executions."""
    es.set_state(target, now())
    if target is S.QUEUED:
        message = f"Flow concurrency limit ({limit}) reached: execution queued"
        level = L.INFO
    else:
        verb = "cancelled" if target is S.CANCELLED else "failed"
        message = f"Flow concurrency limit ({limit}) reached: execution {verb}"
        level = L.WARN if target is S.CANCELLED else L.ERROR
    es.log(level, message, now())


def start(es: ExecutionState, why: str, now: Now) -> None:
    """CREATED or QUEUED -> RUNNING; the next pass creates its first task runs. A START timer
    still waiting (a forced replacement execution) is dropped."""
    for timer_id, timer in list(es.timers.items()):
        if timer.kind is TimerKind.START:
            es.remove_timer(timer_id)
    es.set_state(S.RUNNING, now())
    es.log(L.INFO, f"Flow started{why}", now())


def unqueue_to(es: ExecutionState, target: S, now: Now) -> None:
    """`unqueueExecution`: QUEUED -> RUNNING past the limit, or CANCELLED, or FAILED."""
    if target is S.RUNNING:
        start(es, " (unqueued past the flow's concurrency limit)", now)
        return
    es.set_state(target, now())
    es.log(L.INFO, f"Unqueued to {target.value}", now())
