"""`Execution.snapshot()`: a command's answer and a new execution's streamed row are copies that
the engine's later changes (in place on task runs, replacements elsewhere) leave alone."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from tercel.engine import model, states
from tercel.engine.flows import loader
from tercel.engine.run import creation

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
FLOW = loader.load_flow(
    "id: f\nnamespace: company.team\nlabels:\n  team: a\n"
    "tasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
)


def test_a_snapshot_keeps_the_execution_as_it_was() -> None:
    ex = creation.new_execution(FLOW, {}, [], NOW).ex
    run = model.TaskRun(
        id="R", execution_id=ex.id, namespace=ex.namespace, flow_id=ex.flow_id, task_id="t",
        state=states.State.new(states.StateType.CREATED, NOW), position=0,
        attempts=[model.Attempt(1, states.State.new(states.StateType.RUNNING, NOW))],
        outputs={"a": [1]},
    )  # fmt: skip
    ex.task_runs.append(run)
    ex.outputs = {"o": {"deep": [1]}}
    labels = list(ex.labels)
    taken = ex.snapshot()
    assert taken == ex and taken is not ex
    later = NOW + timedelta(seconds=1)
    run.state = states.State.new(states.StateType.RUNNING, later)  # the engine, in place
    run.attempts.append(model.Attempt(2, states.State.new(states.StateType.RUNNING, later)))
    assert run.outputs is not None and ex.outputs is not None
    run.outputs["a"].append(2)
    ex.outputs["o"]["deep"].append(2)
    ex.labels.append(model.Label("k", "v"))
    ex.task_runs.append(dataclasses.replace(run, id="R2"))
    assert [r.id for r in taken.task_runs] == ["R"]
    assert taken.task_runs[0].state.current is states.StateType.CREATED
    assert len(taken.task_runs[0].attempts or []) == 1
    assert taken.task_runs[0].outputs == {"a": [1]}
    assert taken.outputs == {"o": {"deep": [1]}}
    assert taken.labels == labels
