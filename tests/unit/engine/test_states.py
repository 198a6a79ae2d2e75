"""The transition tables, tested as a full matrix (Prefect's orchestration-rule habit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from tercel.engine import states

S = states.StateType
E = states.Entity
T0 = datetime(2024, 1, 1, tzinfo=UTC)

ENDED = (S.SUCCESS, S.WARNING, S.FAILED, S.KILLED, S.CANCELLED, S.RETRIED, S.SKIPPED)

# (entity, from, to) triples that the tables of semantics.md#transitions allow.
EXPECTED: dict[E, set[tuple[S, S]]] = {
    E.EXECUTION: {
        (S.CREATED, S.RUNNING),
        (S.CREATED, S.KILLING),
        # flow concurrency (semantics.md#concurrency): over the limit at creation; a slot,
        # unqueue, force run, kill
        *((S.CREATED, t) for t in (S.QUEUED, S.CANCELLED, S.FAILED)),
        *((S.QUEUED, t) for t in (S.RUNNING, S.CANCELLED, S.FAILED, S.KILLED)),
        *(
            (S.RUNNING, t)
            for t in (
                S.PAUSED,
                S.RETRYING,
                S.KILLING,
                S.SUCCESS,
                S.WARNING,
                S.FAILED,
                S.KILLED,
                S.RETRIED,
            )
        ),
        *((S.RETRYING, t) for t in (S.PAUSED, S.RUNNING, S.RETRIED, S.KILLING, S.FAILED)),
        *((S.PAUSED, t) for t in (S.RESTARTED, S.RETRIED, S.KILLING, S.FAILED)),
        (S.PAUSED, S.RUNNING),  # resumeExecution of a pauseExecution (semantics.md#pause-execution)
        *(  # setExecutionState (semantics.md#set-execution-state): terminal to another terminal
            (f, t)
            for f in ENDED
            for t in (S.SUCCESS, S.WARNING, S.FAILED, S.KILLED, S.CANCELLED)
            if f is not t
        ),
        (S.RESTARTED, S.RUNNING),
        (S.RESTARTED, S.KILLING),
        (S.KILLING, S.KILLED),
        (S.FAILED, S.RETRYING),
        (S.FAILED, S.RETRIED),
        *(
            (t, S.RESTARTED)
            for t in (S.SUCCESS, S.WARNING, S.FAILED, S.KILLED, S.CANCELLED, S.RETRIED, S.SKIPPED)
        ),
    },
    E.TASK_RUN: {
        *(
            (f, t)
            for f in (S.CREATED, S.RESTARTED)
            for t in (S.RUNNING, S.SKIPPED, S.FAILED, S.KILLED)
        ),
        (S.RETRYING, S.CREATED),
        (S.RETRYING, S.KILLED),
        (S.RETRYING, S.RETRIED),
        (S.RETRYING, S.FAILED),  # the engine fails the execution itself
        *(
            (S.RUNNING, t)
            for t in (S.SUCCESS, S.WARNING, S.FAILED, S.KILLED, S.PAUSED, S.KILLING, S.RETRIED)
        ),
        *((S.PAUSED, t) for t in (S.RUNNING, S.SUCCESS, S.FAILED, S.KILLING)),
        (S.KILLING, S.KILLED),
        (S.FAILED, S.RETRYING),
        (S.FAILED, S.RETRIED),
        *(
            (f, t)
            for f in (S.SUCCESS, S.WARNING, S.FAILED, S.KILLED, S.CANCELLED, S.RETRIED, S.SKIPPED)
            for t in (S.RESTARTED, S.RUNNING)
        ),
        # setTaskRunState (semantics.md#mark-task-run): terminal or PAUSED to SUCCESS, WARNING,
        # FAILED
        *(
            (f, t)
            for f in (*ENDED, S.PAUSED)
            for t in (S.SUCCESS, S.WARNING, S.FAILED)
            if f is not t
        ),
    },
    E.ATTEMPT: {
        (S.CREATED, S.RUNNING),
        (S.CREATED, S.RESUBMITTED),
        *((S.RUNNING, t) for t in (S.SUCCESS, S.WARNING, S.FAILED, S.KILLED, S.RESUBMITTED)),
        *(  # setTaskRunState: the marked task run's last attempt
            (f, t) for f in ENDED for t in (S.SUCCESS, S.WARNING, S.FAILED) if f is not t
        ),
    },
}


@pytest.mark.parametrize(("entity", "source", "target"), list(product(E, S, S)))
def test_transition_matrix(entity: E, source: S, target: S) -> None:
    state = states.State.new(source, T0)
    if source is target:
        assert states.transition(entity, state, target, T0) is None
    elif (source, target) in EXPECTED[entity]:
        moved = states.transition(entity, state, target, T0 + timedelta(seconds=1))
        assert moved is not None
        assert moved.current is target
        assert [h.state for h in moved.histories] == [source, target]
    else:
        with pytest.raises(states.InvalidTransitionError):
            states.transition(entity, state, target, T0)


def test_terminal_set_and_predicates() -> None:
    assert {s.value for s in states.TERMINAL} == {
        "SUCCESS",
        "WARNING",
        "FAILED",
        "KILLED",
        "CANCELLED",
        "RETRIED",
        "SKIPPED",
        "RESUBMITTED",
    }
    assert S.KILLING.is_running and S.RUNNING.is_running and not S.PAUSED.is_running
    assert S.RESTARTED.is_created and S.RETRIED.is_retrying and S.PAUSED.is_active


TERMINAL_NAMES = {"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "RETRIED", "SKIPPED"}
TERMINAL_NAMES |= {"RESUBMITTED"}
#: Kestra's predicates (docs/semantics.md#states): the states for which each one holds
PREDICATES = {
    "is_terminated": {s for s in S if s.value in TERMINAL_NAMES},
    "is_created": {S.CREATED, S.RESTARTED},
    "is_running": {S.RUNNING, S.KILLING},
    "is_failed": {S.FAILED},
    "is_paused": {S.PAUSED},
    "is_retrying": {S.RETRYING, S.RETRIED},
    "is_active": {s for s in S if s.value not in TERMINAL_NAMES},
}


@pytest.mark.parametrize(("predicate", "state"), list(product(PREDICATES, S)))
def test_every_predicate_over_every_state(predicate: str, state: S) -> None:
    assert getattr(state, predicate) is (state in PREDICATES[predicate])


def test_has_been_reads_the_whole_history() -> None:
    state = states.State.new(S.CREATED, T0).with_entry(S.RUNNING, T0).with_entry(S.FAILED, T0)
    assert all(state.has_been(s) for s in (S.CREATED, S.RUNNING, S.FAILED))
    assert not state.has_been(S.RETRYING)


def test_dates_never_decrease_and_derived_fields() -> None:
    state = states.State.new(S.CREATED, T0)
    running = states.transition(E.TASK_RUN, state, S.RUNNING, T0 - timedelta(seconds=5))
    assert running is not None and running.histories[-1].date == T0
    assert running.end_date is None and running.duration is None
    done = states.transition(E.TASK_RUN, running, S.SUCCESS, T0 + timedelta(seconds=2))
    assert done is not None
    assert done.end_date == T0 + timedelta(seconds=2)
    assert done.duration == timedelta(seconds=2)


def test_paused_has_an_end_date() -> None:
    paused = states.State.new(S.PAUSED, T0)
    assert paused.end_date == T0
