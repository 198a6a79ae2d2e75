"""What the engine does when an attempt ends (semantics.md#runnables, semantics.md#retries).

The attempt takes the result's state; the task run takes `rules.state_after_attempt`, and on a
failure `rules.next_state_after_failed_attempt`: RETRYING when the retry policy has an attempt
left, a new-execution retry, or FAILED turned by the flags.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from tercel.engine import model, rules, states, storable
from tercel.engine.actions import newexecution, retries
from tercel.engine.outcomes import AttemptResult
from tercel.engine.run.execution import ExecutionState
from tercel.engine.types import Now, TimerKind

__all__ = ["apply_result"]

S = states.StateType
Retry = tuple[rules.Retry, datetime]


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
    warning_on_retry = policy is not None and policy.warning_on_retry
    state = rules.state_after_attempt(
        result.state,
        warning_on_retry=warning_on_retry,
        # counted only when the rule reads it: this runs for every task result
        counted_attempts=run.counted_attempts() if warning_on_retry else 0,
    )
    if state is S.FAILED:
        _failed(es, run, task, _retry(es, run, policy, now) if policy else None, now)
    else:
        flagged = rules.with_flags(
            state, allow_failure=task.allow_failure, allow_warning=task.allow_warning
        )
        es.set_run_state(run, flagged, now())


def _failed(
    es: ExecutionState, run: model.TaskRun, task: model.TaskDef, retry: Retry | None, now: Now
) -> None:
    """The task run's path after a failed attempt, with what a retry adds to it."""
    path = rules.next_state_after_failed_attempt(
        retry[0] if retry else None,
        allow_failure=task.allow_failure,
        allow_warning=task.allow_warning,
    )
    es.set_run_state(run, path[0], now())
    if retry is None:
        return
    kind, due = retry
    if kind is rules.Retry.NEW_EXECUTION:
        newexecution.begin(es, run, due, now)
        return
    top_level = run.parent_task_run_id is None
    for state in rules.execution_path_on_retry(es.ex.state.current, top_level=top_level):
        es.set_state(state, now())
    for state in path[1:]:
        es.set_run_state(run, state, now())
    es.add_timer(TimerKind.RETRY, run, due)


def _retry(
    es: ExecutionState, run: model.TaskRun, policy: model.RetryPolicy, now: Now
) -> Retry | None:
    """Which retry the policy still allows, and when (None: exhausted)."""
    kind = rules.Retry(policy.behavior)
    if kind is rules.Retry.NEW_EXECUTION:
        due = newexecution.due_date(es, run, policy, now)
    else:
        counted = [a for a in run.attempts or () if a.state.current is not S.RESUBMITTED]
        base = counted[-1].state.histories[-1].date
        due = retries.next_date(policy, len(counted), base, counted[0].state.start_date)
    return None if due is None else (kind, due)


def _storable(
    es: ExecutionState, run: model.TaskRun, attempt: model.Attempt, result: AttemptResult, now: Now
) -> AttemptResult:
    """A task's outputs and metrics enter the execution here: text that cannot be stored
    (storable) fails the attempt with an error naming it, instead of failing the commit."""
    if storable.storable(result.outputs) and _metrics_storable(attempt.metrics):
        return result
    found = storable.first_unstorable(result.outputs, "outputs")
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


def _metrics_storable(metrics: list[model.Metric]) -> bool:
    """Runs for every task result: names and tags of ASCII text (the common case) pass in one
    C-level join, the rest by the general rules."""
    texts: list[Any] = []
    for metric in metrics:
        texts.append(metric.name)
        texts.extend(metric.tags)
        texts.extend(metric.tags.values())
    try:
        if "".join(texts).isascii():
            return True
    except TypeError:  # a name, a tag key or a tag value that is not text
        pass
    for metric in metrics:  # a loop, not all(): cheaper for a handful
        if not (storable.storable(metric.name) and storable.storable(metric.tags)):
            return False
    return True
