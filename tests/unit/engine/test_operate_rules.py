"""The pure rules of semantics.md#operating (engine/actions/operate.py, bulk.py) over every state
they can meet, and each allowed move checked against the transition tables."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import product

import pytest

from tercel.engine import model, states
from tercel.engine.actions import bulk, operate

S = states.StateType
E = states.Entity
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def allowed(entity: E, source: S, target: S) -> bool:
    return target in states.ALLOWED[entity][source]


@pytest.mark.parametrize("current", list(S))
def test_pause_only_from_running(current: S) -> None:
    refusal = operate.pause_refusal(current)
    assert (refusal is None) == (current is S.RUNNING)
    if refusal is None:
        assert allowed(E.EXECUTION, current, S.PAUSED)
        assert allowed(E.EXECUTION, S.PAUSED, S.RUNNING)  # its resume
    elif current.is_terminated:
        assert refusal == f"Execution is already finished ('{current.value}'), can't pause it"


def test_mark_refusal_matrix() -> None:
    for execution, run, target in product(S, S, S):
        _check_mark(execution, run, target)


def _check_mark(execution: S, run: S, target: S) -> None:
    refusal = operate.mark_refusal(execution, run, target, previous_end=False)
    ok = (
        target in (S.SUCCESS, S.WARNING, S.FAILED)
        and (execution.is_terminated or execution is S.PAUSED)
        and (run.is_terminated or run is S.PAUSED)
    )
    assert (refusal is None) == ok, (execution, run, target, refusal)
    if ok and run is not target and run is not S.RESUBMITTED:
        assert allowed(E.TASK_RUN, run, target)
    if ok and execution not in (S.RESTARTED, S.RESUBMITTED):  # never an execution's state
        assert allowed(E.EXECUTION, execution, S.RESTARTED)


def test_mark_refuses_the_previous_end_only_when_terminated() -> None:
    assert operate.mark_refusal(S.FAILED, S.SUCCESS, S.FAILED, previous_end=True) is not None
    assert operate.mark_refusal(S.PAUSED, S.SUCCESS, S.FAILED, previous_end=True) is None


def test_execution_after_mark() -> None:
    assert operate.execution_after_mark(0) is S.RESTARTED
    assert operate.execution_after_mark(2) is None


def test_set_state_matrix() -> None:
    for current, target in product(S, S):
        refusal = operate.set_state_refusal(current, target)
        ok = current.is_terminated and target in operate.EXECUTION_TARGETS
        assert (refusal is None) == ok, (current, target)
        if ok and current is not target and current is not S.RESUBMITTED:
            assert allowed(E.EXECUTION, current, target)


def test_label_rules() -> None:
    given = [model.Label("system.x", "1"), model.Label(" ", "v"), model.Label("k", "")]
    assert operate.label_problems(given) == [
        "labels[0].key `system.x`: system labels are set by Tercel only",
        "labels[1].key is empty",
        "labels[2].value is empty (key `k`)",
    ]
    current = [model.Label("a", "1"), model.Label("system.correlationId", "c")]
    wanted = [model.Label("b", "2"), model.Label("c", "3"), model.Label("b", "4")]
    assert operate.relabelled(current, wanted) == [
        model.Label("b", "4"),
        model.Label("c", "3"),
        model.Label("system.correlationId", "c"),
    ]


def test_bulk_rules() -> None:
    assert bulk.unique_ids(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]
    assert bulk.too_many(10_000) is None
    assert bulk.too_many(10_001) == (
        "10,001 executions match: a bulk action takes at most 10,000; narrow the filter"
    )


def test_resume_refusal() -> None:
    assert operate.resume_refusal(S.PAUSED, True, False) is None
    assert operate.resume_refusal(S.PAUSED, True, True) is not None
    assert operate.resume_refusal(S.RUNNING, False, False) is not None


def test_a_manual_pause_is_not_derived_away() -> None:
    """rules.derived_execution_state keeps an execution paused by pauseExecution PAUSED, what
    ever its task runs say (RETRYING ones included); without the flag it would go RESTARTED."""
    from tercel.engine import rules

    for retrying in (False, True):
        kept = rules.derived_execution_state(
            S.PAUSED, paused=False, retrying=retrying, manual_pause=True
        )
        assert kept is None
        moved = rules.derived_execution_state(S.PAUSED, paused=False, retrying=retrying)
        assert moved is S.RESTARTED
