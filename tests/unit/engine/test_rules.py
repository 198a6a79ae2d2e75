"""The rules of what comes next, over every state and event they can be asked about.

Two checks per rule, as for the transition tables (test_states.py): the expected answer for
every combination, and that every path a rule returns is a walk the tables allow.
"""

from __future__ import annotations

from itertools import product

import pytest

from tercel.engine import rules, states
from tercel.engine.types import ConcurrencyBehavior, TimerKind

S = states.StateType
E = states.Entity
BOOLS = (False, True)
#: every state a task run can be in (SUBMITTED, QUEUED, BREAKPOINT are declared only)
RUN_STATES = (S.CREATED, S.RESTARTED, S.RUNNING, S.PAUSED, S.RETRYING, S.KILLING)


def walk(entity: E, start: S, path: tuple[S, ...]) -> None:
    """Every step of `path` from `start` is allowed by the transition table of `entity`."""
    current = start
    for nxt in path:
        assert nxt in states.ALLOWED[entity][current], f"{entity}: {current} -> {nxt}"
        current = nxt


@pytest.mark.parametrize(
    ("attempt", "warning_on_retry", "counted"), list(product(S, BOOLS, (1, 2, 3)))
)
def test_state_after_attempt(attempt: S, warning_on_retry: bool, counted: int) -> None:
    got = rules.state_after_attempt(
        attempt, warning_on_retry=warning_on_retry, counted_attempts=counted
    )
    warned = attempt is S.SUCCESS and warning_on_retry and counted >= 2
    assert got is (S.WARNING if warned else attempt)


@pytest.mark.parametrize(
    ("retry", "allow_failure", "allow_warning"),
    list(product((None, *rules.Retry), BOOLS, BOOLS)),
)
def test_next_state_after_failed_attempt(
    retry: rules.Retry | None, allow_failure: bool, allow_warning: bool
) -> None:
    path = rules.next_state_after_failed_attempt(
        retry, allow_failure=allow_failure, allow_warning=allow_warning
    )
    if retry is rules.Retry.SAME_TASK_RUN:
        assert path == (S.FAILED, S.RETRYING)  # retries left: RETRYING, whatever the flags
    elif retry is rules.Retry.NEW_EXECUTION:
        assert path == (S.FAILED,)
    elif not allow_failure:
        assert path == (S.FAILED,)
    else:
        assert path == ((S.SUCCESS,) if allow_warning else (S.WARNING,))
    walk(E.TASK_RUN, S.RUNNING, path)
    walk(E.TASK_RUN, S.RUNNING, (*path, S.CREATED) if S.RETRYING in path else path)


@pytest.mark.parametrize(
    ("state", "allow_failure", "allow_warning"), list(product(S, BOOLS, BOOLS))
)
def test_with_flags(state: S, allow_failure: bool, allow_warning: bool) -> None:
    got = rules.with_flags(state, allow_failure=allow_failure, allow_warning=allow_warning)
    expected = state
    if expected is S.FAILED and allow_failure:
        expected = S.WARNING
    if expected is S.WARNING and allow_warning:
        expected = S.SUCCESS
    assert got is expected


@pytest.mark.parametrize(("current", "top_level"), list(product(S, BOOLS)))
def test_execution_path_on_retry(current: S, top_level: bool) -> None:
    path = rules.execution_path_on_retry(current, top_level=top_level)
    assert path == ((S.FAILED, S.RETRYING) if top_level and current is S.RUNNING else ())
    walk(E.EXECUTION, current, path)


@pytest.mark.parametrize(("current", "top_level"), list(product(S, BOOLS)))
def test_execution_path_to_retried(current: S, top_level: bool) -> None:
    path = rules.execution_path_to_retried(current, top_level=top_level)
    direct = current in (S.PAUSED, S.RETRYING) or not top_level
    assert path == ((S.RETRIED,) if direct else (S.FAILED, S.RETRIED))
    if current in (S.RUNNING, S.PAUSED, S.RETRYING):  # the states a waiting retry leaves
        walk(E.EXECUTION, current, path)


def test_derived_branch_state_order() -> None:
    assert rules.derived_branch_state({}) is S.SUCCESS
    assert rules.derived_branch_state({S.SUCCESS: 3, S.SKIPPED: 1}) is S.SUCCESS
    for i, state in enumerate(rules.DERIVATION_ORDER):
        weaker = {s: 1 for s in rules.DERIVATION_ORDER[i:]}
        assert rules.derived_branch_state(weaker) is state
        assert rules.derived_branch_state({state: 0, S.SUCCESS: 2}) is S.SUCCESS


@pytest.mark.parametrize(
    ("current", "active", "pauses", "paused_before", "failed", "complete"),
    list(product(S, BOOLS, BOOLS, BOOLS, BOOLS, BOOLS)),
)
def test_resolve_flowable(
    current: S, active: bool, pauses: bool, paused_before: bool, failed: bool, complete: bool
) -> None:
    step = rules.resolve_flowable(
        current,
        children_active=active,
        pauses=pauses,
        paused_before=paused_before,
        failed=failed,
        complete=complete,
    )
    F = rules.FlowableStep
    if current is S.KILLING:
        assert step is (F.WAIT if active else F.KILLED)
        walk(E.TASK_RUN, current, (S.KILLED,))
    elif current is not S.RUNNING:
        assert step is F.WAIT
    elif pauses and not paused_before:
        assert step is F.PAUSE
        walk(E.TASK_RUN, current, (S.PAUSED,))
    elif (failed or complete) and not active:
        assert step is F.END
    else:
        assert step is F.WAIT


@pytest.mark.parametrize(
    ("derived", "failed", "absorbs", "allow_failure", "allow_warning"),
    list(product((S.SUCCESS, *rules.DERIVATION_ORDER), BOOLS, BOOLS, BOOLS, BOOLS)),
)
def test_flowable_end_state(
    derived: S, failed: bool, absorbs: bool, allow_failure: bool, allow_warning: bool
) -> None:
    got = rules.flowable_end_state(
        derived,
        failed=failed,
        absorbs_failure=absorbs,
        allow_failure=allow_failure,
        allow_warning=allow_warning,
    )
    state = S.FAILED if failed else derived
    if absorbs and state is S.FAILED:
        state = S.WARNING
    assert got is rules.with_flags(state, allow_failure=allow_failure, allow_warning=allow_warning)
    walk(E.TASK_RUN, S.RUNNING, (got,))


@pytest.mark.parametrize(("current", "waits"), list(product(S, BOOLS)))
def test_execution_on_start(current: S, waits: bool) -> None:
    got = rules.execution_on_start(current, waits_for_start=waits)
    if current is S.RESTARTED or (current is S.CREATED and not waits):
        assert got is S.RUNNING
        walk(E.EXECUTION, current, (got,))
    else:
        assert got is None


@pytest.mark.parametrize(
    ("current", "active", "complete", "derived"),
    list(product(S, BOOLS, BOOLS, (S.SUCCESS, *rules.DERIVATION_ORDER))),
)
def test_execution_end_state(current: S, active: bool, complete: bool, derived: S) -> None:
    got = rules.execution_end_state(
        current, children_active=active, complete=complete, derived=derived
    )
    if current is S.KILLING:
        assert got is (None if active else S.KILLED)
    elif current is S.RUNNING and complete:
        assert got is derived
    else:
        assert got is None
    if got is not None:
        walk(E.EXECUTION, current, (got,))


@pytest.mark.parametrize(("current", "paused", "retrying"), list(product(S, BOOLS, BOOLS)))
def test_derived_execution_state(current: S, paused: bool, retrying: bool) -> None:
    got = rules.derived_execution_state(current, paused=paused, retrying=retrying)
    target = S.PAUSED if paused else S.RETRYING if retrying else S.RUNNING
    # QUEUED waits for a slot of its flow's concurrency limit (semantics.md#concurrency), not for
    # its task runs
    if current in (S.KILLING, S.CREATED, S.RESTARTED, S.QUEUED) or current.is_terminated:
        assert got is None
    elif current is target:
        assert got is None
    else:
        assert got is (S.RESTARTED if current is S.PAUSED else target)
    if got is not None and current in (S.RUNNING, S.RETRYING, S.PAUSED):
        walk(E.EXECUTION, current, (got,))


@pytest.mark.parametrize(("kind", "current"), list(product(TimerKind, (None, *S))))
def test_timer_step(kind: TimerKind, current: S | None) -> None:
    got = rules.timer_step(kind, current)
    T = rules.TimerStep
    expected = {
        (TimerKind.RETRY, S.RETRYING): T.RECREATE,
        (TimerKind.PAUSE_DELAY, S.PAUSED): T.RESUME,
        (TimerKind.PAUSE_TIMEOUT, S.PAUSED): T.FAIL,
    }.get((kind, current), T.WAKE if kind is TimerKind.START else T.NOTHING)
    assert got is expected
    if got is T.RECREATE:
        walk(E.TASK_RUN, S.RETRYING, (S.CREATED,))
    if got is T.FAIL:
        walk(E.TASK_RUN, S.PAUSED, (S.FAILED,))


@pytest.mark.parametrize("has_tasks", BOOLS)
def test_state_on_resume(has_tasks: bool) -> None:
    got = rules.state_on_resume(has_tasks=has_tasks)
    assert got is (S.RUNNING if has_tasks else S.SUCCESS)
    walk(E.TASK_RUN, S.PAUSED, (got,))


@pytest.mark.parametrize("rendered", (None, False, True))
def test_state_after_run_if(rendered: bool | None) -> None:
    got = rules.state_after_run_if(rendered)
    assert got is {None: S.FAILED, False: S.SKIPPED, True: None}[rendered]
    for start in (S.CREATED, S.RESTARTED):
        walk(E.TASK_RUN, start, () if got is None else (got,))


@pytest.mark.parametrize(("current", "runnable"), list(product(S, BOOLS)))
def test_kill_step(current: S, runnable: bool) -> None:
    got = rules.kill_step(current, runnable=runnable)
    K = rules.KillStep
    if current in (S.CREATED, S.RESTARTED, S.RETRYING):
        assert got is K.KILLED
        walk(E.TASK_RUN, current, (S.KILLED,))
    elif current in (S.RUNNING, S.PAUSED) and not runnable:
        assert got is K.KILLING
        walk(E.TASK_RUN, current, (S.KILLING, S.KILLED))
    elif current is S.RUNNING:
        assert got is K.CANCEL
        walk(E.TASK_RUN, current, (S.KILLED,))
    else:
        assert got is K.KEEP
        assert not current.is_active or current in (
            S.KILLING,
            S.PAUSED,
            S.SUBMITTED,
            S.QUEUED,
            S.BREAKPOINT,
        )


@pytest.mark.parametrize("flowable", BOOLS)
def test_state_on_restart(flowable: bool) -> None:
    got = rules.state_on_restart(flowable=flowable)
    assert got is (S.RUNNING if flowable else S.RESTARTED)
    for ended in (S.FAILED, S.SUCCESS, S.WARNING, S.KILLED):
        walk(E.TASK_RUN, ended, (got,))


@pytest.mark.parametrize(
    ("current", "child", "transmit", "allow_failure", "allow_warning"),
    list(product(S, S, BOOLS, BOOLS, BOOLS)),
)
def test_subflow_state_on_child_end(
    current: S, child: S, transmit: bool, allow_failure: bool, allow_warning: bool
) -> None:
    got = rules.subflow_state_on_child_end(
        current,
        child,
        transmit_failed=transmit,
        allow_failure=allow_failure,
        allow_warning=allow_warning,
    )
    if current is S.KILLING:
        assert got is S.KILLED
    elif current is not S.RUNNING:
        assert got is None
    else:
        passed = child if transmit and child in (S.FAILED, S.KILLED, S.WARNING) else S.SUCCESS
        assert got is rules.with_flags(
            passed, allow_failure=allow_failure, allow_warning=allow_warning
        )
    if got is not None:
        walk(E.TASK_RUN, current, (got,))


@pytest.mark.parametrize(("attempt", "killing"), list(product(S, BOOLS)))
def test_recovered_attempt_path(attempt: S, killing: bool) -> None:
    path = rules.recovered_attempt_path(attempt, killing=killing)
    if attempt.is_terminated:
        assert path == ()
    elif killing:
        assert path == ((S.RUNNING, S.KILLED) if attempt is S.CREATED else (S.KILLED,))
    else:
        assert path == (S.RESUBMITTED,)
    if attempt in (S.CREATED, S.RUNNING):  # the states an attempt row can be left in
        walk(E.ATTEMPT, attempt, path)


@pytest.mark.parametrize("attempt", list(S))
def test_attempt_path_on_quarantine(attempt: S) -> None:
    path = rules.attempt_path_on_quarantine(attempt)
    if attempt.is_terminated:
        assert path == ()
    else:
        assert path == ((S.RUNNING, S.FAILED) if attempt is S.CREATED else (S.FAILED,))
    if attempt in (S.CREATED, S.RUNNING):
        walk(E.ATTEMPT, attempt, path)


@pytest.mark.parametrize("current", list(S))
def test_task_run_on_quarantine(current: S) -> None:
    got = rules.task_run_on_quarantine(current)
    if current is S.KILLING:
        assert got is S.KILLED
    elif current.is_active:
        assert got is S.FAILED
    else:
        assert got is None
    if got is not None and current in RUN_STATES:
        walk(E.TASK_RUN, current, (got,))


@pytest.mark.parametrize("current", list(S))
def test_execution_path_on_quarantine(current: S) -> None:
    path = rules.execution_path_on_quarantine(current)
    if current is S.KILLING:
        assert path == (S.KILLED,)
    elif current in (S.CREATED, S.RESTARTED):
        assert path == (S.RUNNING, S.FAILED)
    elif current.is_active:
        assert path == (S.FAILED,)
    else:
        assert path == ()
    if current in (S.CREATED, S.RESTARTED, S.RUNNING, S.PAUSED, S.RETRYING, S.KILLING):
        walk(E.EXECUTION, current, path)


# ----------------------------------------- flow concurrency (semantics.md#concurrency)

LIMITS = (1, 2, 5)


@pytest.mark.parametrize(
    ("behavior", "running", "limit"), list(product(ConcurrencyBehavior, range(7), LIMITS))
)
def test_execution_over_limit(behavior: ConcurrencyBehavior, running: int, limit: int) -> None:
    got = rules.execution_over_limit(behavior, running, limit)
    if running + 1 <= limit:  # starting it makes at most `limit` running
        assert got is None
        walk(E.EXECUTION, S.CREATED, (S.RUNNING,))
        return
    expected = {
        ConcurrencyBehavior.QUEUE: S.QUEUED,
        ConcurrencyBehavior.CANCEL: S.CANCELLED,
        ConcurrencyBehavior.FAIL: S.FAILED,
    }[behavior]
    assert got is expected
    walk(E.EXECUTION, S.CREATED, (got,))
    if got is S.QUEUED:  # what a queued execution can become
        for later in (S.RUNNING, S.CANCELLED, S.FAILED, S.KILLED):
            walk(E.EXECUTION, S.QUEUED, (later,))


@pytest.mark.parametrize(("running", "limit"), list(product(range(7), LIMITS)))
def test_queued_may_start(running: int, limit: int) -> None:
    assert rules.queued_may_start(running, limit) is (running < limit)


@pytest.mark.parametrize("current", [s for s in S if s.is_active])
def test_kill_target(current: S) -> None:
    got = rules.kill_target(current)
    assert got is (S.KILLED if current is S.QUEUED else S.KILLING)
    if current in (S.CREATED, S.RUNNING, S.PAUSED, S.RETRYING, S.RESTARTED, S.QUEUED):
        walk(E.EXECUTION, current, (got,))


@pytest.mark.parametrize("current", list(S))
def test_may_delete(current: S) -> None:
    assert rules.may_delete(current) is (current in states.TERMINAL or current is S.QUEUED)


@pytest.mark.parametrize(("current", "target"), list(product(S, S)))
def test_unqueue_refusal(current: S, target: S) -> None:
    got = rules.unqueue_refusal(current, target)
    if target not in (S.RUNNING, S.CANCELLED, S.FAILED):
        assert got is not None and f"not '{target.value}'" in got
    elif current is not S.QUEUED:
        assert got == (
            f"Only a QUEUED execution can be unqueued, current state is '{current.value}'"
        )
    else:
        assert got is None
        walk(E.EXECUTION, current, (target,))


@pytest.mark.parametrize("current", list(S))
def test_force_run_step(current: S) -> None:
    got = rules.force_run_step(current)
    F = rules.ForceRun
    if current.is_terminated:
        assert got is F.REFUSE
    elif current is S.CREATED:
        assert got is F.START
        walk(E.EXECUTION, current, (S.RUNNING,))
    elif current is S.QUEUED:
        assert got is F.UNQUEUE
        walk(E.EXECUTION, current, (S.RUNNING,))
    elif current is S.PAUSED:
        assert got is F.RESUME
    else:
        assert got is F.AS_IS
