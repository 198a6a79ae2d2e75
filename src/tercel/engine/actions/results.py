"""What the engine does when an attempt ends or a timer fires (execution-model §7.3, §12, §15)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tercel.engine import model, states, storable
from tercel.engine.actions import passes, retries
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime.runner import AttemptResult

__all__ = ["apply_result", "fire_timer", "resume_pause"]

S = states.StateType
Now = Callable[[], datetime]


def apply_result(es: ExecutionState, result: AttemptResult, now: Now) -> None:
    run = es.by_id.get(result.task_run_id)
    if run is None or not run.attempts or len(run.attempts) < result.attempt_number:
        return
    attempt = run.attempts[result.attempt_number - 1]
    if attempt.state.current.is_terminated or run.state.current not in (S.RUNNING, S.KILLING):
        return  # a late result for an attempt already resolved (resubmitted, killed)
    es.changes.attempts[(run.id, attempt.number)] = (run, attempt)
    result = _storable(es, run, attempt, result, now)
    if result.state is S.KILLED or es.ex.state.current is S.KILLING:
        es.set_attempt_state(run, attempt, S.KILLED, now())
        es.set_run_state(run, S.KILLED, now())
        return
    es.set_attempt_state(run, attempt, result.state, now())
    if result.state in (S.SUCCESS, S.WARNING):
        es.record_outputs(run, result.outputs)
    task = es.tasks[run.task_id]
    ancestors = [es.tasks[a.task_id] for a in es.ancestors(run)]
    policy = retries.policy_for(task, ancestors, es.flow)
    state = result.state
    if state is S.SUCCESS and policy and policy.warning_on_retry and run.counted_attempts() >= 2:
        state = S.WARNING
    if state is S.FAILED and policy is not None and _retry(es, run, policy, now):
        return
    es.set_run_state(run, passes.apply_flags(task, state), now())


def _storable(
    es: ExecutionState, run: model.TaskRun, attempt: model.Attempt, result: AttemptResult, now: Now
) -> AttemptResult:
    """A task's outputs and metrics enter the execution here: text that cannot be stored
    (storable) fails the attempt with an error naming it, instead of failing the commit."""
    found = storable.first_unstorable(result.outputs, "outputs")
    if found is None and all(storable.storable((m.name, m.tags)) for m in attempt.metrics):
        return result
    for metric in attempt.metrics:
        found = found or storable.first_unstorable(
            {"name": metric.name, "tags": metric.tags}, f"metric `{storable.scrubbed(metric.name)}`"
        )
    if found is None:
        return result
    where, why = found
    es.log(model.LogLevel.ERROR, f"{where} {why}", now(), run, attempt.number)
    attempt.metrics = [
        m for m in attempt.metrics if storable.first_unstorable([m.name, m.tags], "") is None
    ]
    state = S.KILLED if result.state is S.KILLED else S.FAILED
    return dataclasses.replace(result, state=state, outputs={})


def _retry(es: ExecutionState, run: model.TaskRun, policy: model.RetryPolicy, now: Now) -> bool:
    """Schedule a same-execution retry when the policy allows one (§12.4)."""
    counted = [a for a in run.attempts or () if a.state.current is not S.RESUBMITTED]
    base = counted[-1].state.histories[-1].date
    due = retries.next_date(policy, len(counted), base, counted[0].state.start_date)
    if policy.behavior == "CREATE_NEW_EXECUTION":
        return _retry_as_new_execution(es, run, policy, now)
    if due is None:
        return False
    es.set_run_state(run, S.FAILED, now())
    if run.parent_task_run_id is None and es.ex.state.current is S.RUNNING:
        es.set_state(S.FAILED, now())
        es.set_state(S.RETRYING, now())
    es.set_run_state(run, S.RETRYING, now())
    es.add_timer("RETRY", run, due)
    return True


def _retry_as_new_execution(
    es: ExecutionState, run: model.TaskRun, policy: model.RetryPolicy, now: Now
) -> bool:
    """§12.5 step 1: stop the other task runs as a kill would; the failure waits for them."""
    ex = es.ex
    own = run.attempts[-1].state.histories[-1].date if run.attempts else now()
    base = own if _policy_is_task_level(es, run, policy) else ex.state.histories[-1].date
    created = ex.original_created_date or ex.state.start_date
    due = retries.next_date(policy, ex.attempt_number, base, created)
    if due is None:
        return False
    es.set_run_state(run, S.FAILED, now())
    es.retry_pending = (run.id, due)
    keep = {run.id, *(a.id for a in es.ancestors(run))}
    for other in ex.task_runs:
        if other.id in keep:
            continue
        current = other.state.current
        if current in (S.CREATED, S.RESTARTED, S.RETRYING):
            es.set_run_state(other, S.KILLED, now())
        elif current in (S.RUNNING, S.PAUSED) and other.id in es.containers:
            es.set_run_state(other, S.KILLING, now())
        elif current is S.RUNNING:
            es.to_cancel.append(other.id)
    for timer_id in list(es.timers):
        es.remove_timer(timer_id)
    es.pending, es.waiting = [], []
    return True


def _policy_is_task_level(
    es: ExecutionState, run: model.TaskRun, policy: model.RetryPolicy
) -> bool:
    chain = [es.tasks[run.task_id], *(es.tasks[a.task_id] for a in es.ancestors(run))]
    return any(task.retry is policy for task in chain)


def finish_new_execution_retry(es: ExecutionState, now: Now) -> bool:
    """§12.5 step 2: once nothing else is active, RETRIED up the chain, then the timer."""
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
        es.set_run_state(member, S.RETRIED, now())
    if es.ex.state.current in (S.PAUSED, S.RETRYING) or run.parent_task_run_id is not None:
        es.set_state(S.RETRIED, now())
    else:
        es.set_state(S.FAILED, now())
        es.set_state(S.RETRIED, now())
    es.replacements.append(due)
    return True


def fire_timer(es: ExecutionState, timer_id: str, now: Now) -> None:
    timer = es.timers.get(timer_id)
    if timer is None:
        return
    es.remove_timer(timer_id)
    if timer.kind == "START":
        es.dirty.add(None)
        return
    run = es.by_id.get(timer.task_run_id or "")
    if run is None:
        return
    if timer.kind == "RETRY" and run.state.current is S.RETRYING:
        es.set_run_state(run, S.CREATED, now())
    elif timer.kind == "PAUSE_DELAY" and run.state.current is S.PAUSED:
        resume_pause(es, run, None, now)
    elif timer.kind == "PAUSE_TIMEOUT" and run.state.current is S.PAUSED:
        _drop_timers(es, run)
        es.set_run_state(run, S.FAILED, now())


def resume_pause(
    es: ExecutionState, run: model.TaskRun, on_resume: dict[str, Any] | None, now: Now
) -> None:
    """§15.3: a Pause with tasks goes RUNNING, one without goes SUCCESS."""
    _drop_timers(es, run)
    task = es.tasks[run.task_id]
    if "onResume" in task.properties and task.properties.get("onResume") is not None:
        es.record_outputs(run, {"onResume": on_resume or {}})
    has_tasks = any(not t.disabled for t in task.branch("tasks"))
    if has_tasks:
        es.set_run_state(run, S.RUNNING, now())
    else:
        if run.outputs is None:
            es.record_outputs(run, {})
        es.set_run_state(run, S.SUCCESS, now())


def _drop_timers(es: ExecutionState, run: model.TaskRun) -> None:
    for timer_id in [t.id for t in es.timers.values() if t.task_run_id == run.id]:
        es.remove_timer(timer_id)
