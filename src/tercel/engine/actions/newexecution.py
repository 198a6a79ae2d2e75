"""The new-execution retry (CREATE_NEW_EXECUTION, semantics.md#retry-new-execution).

1. `begin`: the failed task run stays FAILED, every other task run stops as a kill would
   (`sweeps.stop_task_runs`), and the retry waits for them.
2. `finish`: once nothing else is active, the failed task run and its ancestors go RETRIED, the
   execution RETRIED (`rules.execution_path_to_retried`), and a replacement is due.
3. `replacements`: the runtime creates each replacement execution, CREATED until its START timer.
"""

from __future__ import annotations

from datetime import datetime

from tercel.engine import model, rules, states
from tercel.engine.actions import replay, retries, sweeps
from tercel.engine.run.execution import ExecutionState
from tercel.engine.types import Now, TimerKind

__all__ = ["begin", "due_date", "finish", "replacements"]


def due_date(
    es: ExecutionState, run: model.TaskRun, policy: model.RetryPolicy, now: Now
) -> datetime | None:
    """When the replacement starts, or None when the policy is exhausted: counted from the
    failed attempt for a task's own policy, from the execution's last change for the flow's."""
    ex = es.ex
    own = run.attempts[-1].state.histories[-1].date if run.attempts else now()
    base = own if _policy_is_task_level(es, run, policy) else ex.state.histories[-1].date
    created = ex.original_created_date or ex.state.start_date
    return retries.next_date(policy, ex.attempt_number, base, created)


def _policy_is_task_level(
    es: ExecutionState, run: model.TaskRun, policy: model.RetryPolicy
) -> bool:
    chain = [es.tasks[run.task_id], *(es.tasks[a.task_id] for a in es.ancestors(run))]
    return any(task.retry is policy for task in chain)


def begin(es: ExecutionState, run: model.TaskRun, due: datetime, now: Now) -> None:
    """Step 1: stop the other task runs; the failure waits for them."""
    es.retry_pending = (run.id, due)
    sweeps.stop_task_runs(es, now, keep={run.id, *(a.id for a in es.ancestors(run))})


def finish(es: ExecutionState, now: Now) -> bool:
    """Step 2: once nothing else is active, RETRIED up the chain, then a replacement is due."""
    if es.retry_pending is None:
        return False
    run_id, due = es.retry_pending
    run = es.by_id[run_id]
    chain = [run, *es.ancestors(run)]
    keep = {r.id for r in chain}
    if any(r.state.current.is_active for r in es.ex.task_runs if r.id not in keep):
        return False
    es.retry_pending = None
    for member in chain:
        es.set_run_state(member, states.StateType.RETRIED, now())
    top_level = run.parent_task_run_id is None
    for state in rules.execution_path_to_retried(es.ex.state.current, top_level=top_level):
        es.set_state(state, now())
    es.replacements.append(due)
    return True


def replacements(es: ExecutionState, now: Now) -> list[ExecutionState]:
    """Step 3: the executions that replace a RETRIED one, each CREATED until its start date."""
    due, es.replacements = es.replacements, []
    made: list[ExecutionState] = []
    for when in due:
        child = replay.replay(es, None, now)
        child.add_timer(TimerKind.START, None, when)
        made.append(child)
    return made
