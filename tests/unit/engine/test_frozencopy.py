"""A command's answer is frozen at its commit by `frozencopy.frozen_copy`: equal to what
`copy.deepcopy` made, untouched by the engine's later changes to the live execution, and
sharing only what cannot change."""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from tercel.engine import frozencopy, model
from tercel.engine.runtime import commits
from tercel.engine.states import State, StateType

NOW = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)


def _run(execution_id: str, position: int) -> model.TaskRun:
    state = State.new(StateType.CREATED, NOW).with_entry(StateType.RUNNING, NOW)
    metric = model.Metric("rows", "counter", 3.0, {"table": "t"}, NOW)
    return model.TaskRun(
        id=f"run{position}",
        execution_id=execution_id,
        namespace="company.team",
        flow_id="f",
        task_id=f"t{position}",
        state=state,
        position=position,
        attempts=[model.Attempt(1, state, [metric])],
        outputs={"values": [1, {"nested": ["a", NOW]}], "took": timedelta(seconds=2)},
    )


def _execution() -> model.Execution:
    return model.Execution(
        id="ex",
        namespace="company.team",
        flow_id="f",
        flow_revision=2,
        state=State.new(StateType.CREATED, NOW),
        inputs={"name": "x", "list": [1, 2, {"deep": True}], "when": NOW},
        outputs=None,
        labels=[model.Label("team", "a")],
        original_id="ex",
        trigger={"type": "schedule", "variables": {"date": NOW}},
        variables={"items": ("a", ["b"])},
        task_runs=[_run("ex", 0), _run("ex", 1)],
    )


def _mutate_everything(execution: model.Execution) -> None:
    """What the engine does to a live execution after a commit, and more."""
    execution.state = execution.state.with_entry(StateType.RUNNING, NOW)
    assert execution.inputs is not None and execution.trigger is not None
    execution.inputs["name"] = "changed"
    execution.inputs["list"][2]["deep"] = False
    execution.trigger["variables"]["date"] = None
    execution.variables["items"][1].append("c")
    execution.labels.append(model.Label("later", "b"))
    execution.outputs = {"out": 1}
    run = execution.task_runs[0]
    run.state = run.state.with_entry(StateType.SUCCESS, NOW)
    assert run.attempts is not None and run.outputs is not None
    run.attempts[0].metrics[0].tags["table"] = "u"
    run.attempts[0].metrics.append(model.Metric("more", "timer", 1.0, {}, NOW))
    run.attempts.append(model.Attempt(2, run.state))
    run.outputs["values"][1]["nested"].append("b")
    execution.task_runs.append(_run("ex", 2))


def test_the_snapshot_equals_a_deep_copy() -> None:
    execution = _execution()
    assert commits.snapshot(execution) == copy.deepcopy(execution) == execution


def test_the_engines_later_changes_leave_the_snapshot_as_committed() -> None:
    execution = _execution()
    taken = commits.snapshot(execution)
    _mutate_everything(execution)
    assert taken == _execution()
    assert execution != _execution()


def test_what_cannot_change_is_shared_and_everything_else_copied() -> None:
    execution = _execution()
    taken = commits.snapshot(execution)
    assert taken.state is execution.state  # a frozen State of frozen entries
    assert taken.labels[0] is execution.labels[0]
    assert taken.task_runs[0].state is execution.task_runs[0].state
    for original, copied in _containers(execution, taken):
        assert copied is not original


def _containers(original: Any, copied: Any) -> list[tuple[Any, Any]]:
    """The (original, copy) pairs of every list, dict and mutable dataclass inside."""
    if isinstance(original, list | dict):
        pairs = [(original, copied)]
        items = original.items() if isinstance(original, dict) else enumerate(original)
        for key, value in items:
            pairs += _containers(value, copied[key])
        return pairs
    if dataclasses.is_dataclass(original) and not original.__dataclass_params__.frozen:  # type: ignore[union-attr]
        pairs = [(original, copied)]
        for field in dataclasses.fields(original):
            pairs += _containers(getattr(original, field.name), getattr(copied, field.name))
        return pairs
    if isinstance(original, tuple):
        return [pair for a, b in zip(original, copied, strict=True) for pair in _containers(a, b)]
    return []


def test_a_frozen_value_holding_a_list_is_copied() -> None:
    @dataclasses.dataclass(frozen=True)
    class Holder:
        items: list[int]

    held = Holder([1])
    taken = frozencopy.frozen_copy(held)
    held.items.append(2)
    assert taken == Holder([1]) and taken is not held


def test_a_cyclic_value_is_copied_as_deepcopy_copies_it() -> None:
    looped: list[Any] = [1]
    looped.append(looped)
    taken = frozencopy.frozen_copy({"v": looped})
    assert taken["v"] is not looped and taken["v"][1] is taken["v"]
