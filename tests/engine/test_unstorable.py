"""#12 item 1: text that SQLite or JSON cannot store (a lone UTF-16 surrogate) never kills the
engine. Refused where it enters (flow source, inputs, labels, resume inputs) naming the field;
produced at run time, it fails that task run (or, where no task owns it, the execution) with the
error in its logs; a bug in a pass fails that one execution. The engine goes on every time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.engine.conftest import (
    Harness,
    attempt_states,
    db_rows,
    log_messages,
    run_of,
    states_of,
    with_engine,
)

from tercel.engine import model, service, states
from tercel.engine.actions import passes
from tercel.engine.flows import loader
from tercel.engine.run.execution import ExecutionState

LONE = "\\udfff"  # as written in YAML: a lone surrogate once the escape is read
STORE_ERROR = "lone UTF-16 surrogate (\\udfff), which cannot be stored"
#: no operation may wait longer than this (the engine died if it does)
PATIENCE = 10.0

HEALTHY = """
id: healthy
namespace: t.store
tasks:
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: fine
"""


async def _still_runs(h: Harness) -> None:
    """The engine loop is alive and runs a new execution to its end."""
    assert h.engine.stopped_reason is None
    doc = await asyncio.wait_for(h.run(HEALTHY), PATIENCE)
    assert doc["state"]["current"] == "SUCCESS"


FIELDS = [
    ("format", "tasks[0].format", 6, 'tasks:\n  - id: r\n    type: {ret}\n    format: "a{s}"\n'),
    ("message", "tasks[0].message", 6, 'tasks:\n  - id: l\n    type: {log}\n    message: "{s}"\n'),
    (
        "label value",
        "labels.team",
        4,
        'labels:\n  team: "{s}"\ntasks:\n  - id: r\n    type: {ret}\n    format: x\n',
    ),
    (
        "input default",
        "inputs[0].defaults",
        6,
        'inputs:\n  - id: who\n    type: STRING\n    defaults: "{s}"\n'
        "tasks:\n  - id: r\n    type: {ret}\n    format: x\n",
    ),
    (
        "description",
        "description",
        3,
        'description: "{s}"\ntasks:\n  - id: r\n    type: {ret}\n    format: x\n',
    ),
    (
        "a key",
        "variables",
        4,
        'variables:\n  "k{s}": 1\ntasks:\n  - id: r\n    type: {ret}\n    format: x\n',
    ),
]


@pytest.mark.parametrize(("what", "path", "line", "body"), FIELDS, ids=[f[0] for f in FIELDS])
def test_flow_text_that_cannot_be_stored_is_refused_at_deploy(
    run_engine: Any, what: str, path: str, line: int, body: str
) -> None:
    source = "id: bad\nnamespace: t.store\n" + body.format(
        s=LONE,
        ret="io.kestra.plugin.core.debug.Return",
        log="io.kestra.plugin.core.log.Log",
    )

    async def run(h: Harness) -> None:
        with pytest.raises(loader.FlowValidationError) as refused:
            await asyncio.wait_for(service.deploy_flow(h.engine, source), PATIENCE)
        issues = [(i.path, i.line, i.message) for i in refused.value.issues]
        assert any(p == path and n == line and STORE_ERROR in m for p, n, m in issues), issues
        assert db_rows(h.db_path, "SELECT count(*) FROM flows WHERE id = 'bad'") == [(0,)]
        await _still_runs(h)

    run_engine(run)


def test_a_surrogate_pair_written_as_two_escapes_is_its_character(run_engine: Any) -> None:
    """As Java reads `\\ud83d\\ude00`: one character, stored and answered as UTF-8."""

    async def run(h: Harness) -> None:
        doc = await h.run(
            """
            id: pair
            namespace: t.store
            tasks:
              - id: r
                type: io.kestra.plugin.core.debug.Return
                format: "smile \\ud83d\\ude00"
            """
        )
        assert run_of(doc, "r")["outputs"] == {"value": "smile \U0001f600"}

    run_engine(run)


TYPED = """
id: typed
namespace: t.store
inputs:
  - id: who
    type: STRING
  - id: data
    type: JSON
    required: false
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.who }}"
"""


def test_inputs_and_labels_that_cannot_be_stored_are_refused(run_engine: Any) -> None:
    """`tercel run --input who=<bytes that are not UTF-8>` gives Python a lone surrogate
    (surrogateescape); JSON inputs may hold one in a key or a nested value."""

    async def run(h: Harness) -> None:
        flow = await h.deploy(TYPED)
        cases: list[tuple[dict[str, Any], list[model.Label], str]] = [
            ({"who": "caf\udce9"}, [], "`who`"),
            ({"who": "x", "data": {"list": ["ok", "\udfff"]}}, [], "`data.list[1]`"),
            ({"who": "x", "data": {"k\udfff": 1}}, [], "`data key"),
            ({"who": "x"}, [model.Label("team", "\udfff")], "labels[0].value"),
            ({"who": "x"}, [model.Label("\ud800", "v")], "labels[0].key"),
        ]
        for given, labels, named in cases:
            outcome = await asyncio.wait_for(
                service.create_execution(h.engine, flow.namespace, flow.id, given, labels),
                PATIENCE,
            )
            assert isinstance(outcome, service.InvalidInputs), outcome
            assert named in outcome.message and "lone UTF-16 surrogate" in outcome.message
            assert outcome.message.encode("utf-8")  # the answer itself can be sent
        assert db_rows(h.db_path, "SELECT count(*) FROM executions") == [(0,)]
        await _still_runs(h)

    run_engine(run)


PAUSED = """
id: held
namespace: t.store
tasks:
  - id: hold
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: note
        type: STRING
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.hold.onResume.note }}"
"""


def test_resume_inputs_that_cannot_be_stored_are_refused(run_engine: Any) -> None:
    async def run(h: Harness) -> None:
        paused = await h.run(PAUSED)
        refused = await asyncio.wait_for(
            service.resume_execution(h.engine, paused["id"], {"note": "\udfff"}), PATIENCE
        )
        assert isinstance(refused, service.InvalidInputs), refused
        assert "`note`" in refused.message and "lone UTF-16 surrogate" in refused.message
        assert await h.doc(paused["id"]) == paused
        resumed = await service.resume_execution(h.engine, paused["id"], {"note": "ok"})
        assert isinstance(resumed, model.Execution), resumed
        doc = await h.wait(paused["id"])
        assert run_of(doc, "after")["outputs"] == {"value": "ok"}

    run_engine(run)


RUN_TIME = """
id: produced
namespace: t.store
tasks:
  - id: shell
    type: io.kestra.plugin.scripts.shell.Commands
    allowFailure: true
    commands:
      - printf 'bad \\377\\376 bytes\\n'
      - printf '::{"outputs":{"x":"\\\\udfff"}}::\\n'
  - id: parsed
    type: io.kestra.plugin.core.debug.Return
    allowFailure: true
    format: "{{ fromJson('\\"\\\\udfff\\"') }}"
  - id: said
    type: io.kestra.plugin.core.log.Log
    message: "said {{ fromJson('\\"\\\\udfff\\"') }}"
"""


def test_values_produced_at_run_time_fail_their_task_run(run_engine: Any) -> None:
    """Outputs fail the task run, naming the output; log lines keep U+FFFD in its place."""

    async def run(h: Harness) -> None:
        doc = await asyncio.wait_for(h.run(RUN_TIME), PATIENCE)
        assert doc["state"]["current"] == "WARNING"  # allowFailure: the flow goes on
        for task_id in ("shell", "parsed"):  # FAILED, made WARNING by allowFailure
            run = run_of(doc, task_id)
            assert run["state"]["current"] == "WARNING"
            assert run["attempts"][-1]["state"]["current"] == "FAILED"
            assert run["outputs"] is None
        assert run_of(doc, "said")["state"]["current"] == "SUCCESS"
        messages = log_messages(h.db_path, doc["id"])
        assert any(m.startswith("outputs.vars.x ") and STORE_ERROR in m for m in messages)
        assert any(m.startswith("outputs.value ") and STORE_ERROR in m for m in messages)
        assert "bad \ufffd\ufffd bytes" in messages
        assert "said \ufffd" in messages
        await _still_runs(h)

    run_engine(run)


FLOW_OUTPUT = """
id: flow-output
namespace: t.store
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: x
outputs:
  - id: o
    type: STRING
    value: "{{ fromJson('\\"\\\\udfff\\"') }}"
"""


def test_changes_the_commit_refuses_fail_their_execution_only(run_engine: Any) -> None:
    """A value no check caught (here a flow output): the commit refuses it, that execution is
    failed as last committed with the reason in its logs, every other change is committed, and
    the engine goes on. Restarting on the file resumes nothing that dies again."""

    async def run(h: Harness) -> None:
        flow = await h.deploy(FLOW_OUTPUT)
        other = await h.deploy(HEALTHY)
        created = await h.create(flow)
        beside = await h.create(other)
        doc = await asyncio.wait_for(h.wait(created.id), PATIENCE)
        assert doc["state"]["current"] == "FAILED"
        assert doc["outputs"] is None
        messages = log_messages(h.db_path, created.id)
        assert any("Internal error, execution failed" in m and "UTF-8" in m for m in messages)
        assert (await h.wait(beside.id))["state"]["current"] == "SUCCESS"
        await _still_runs(h)

    run_engine(run)

    async def again(h: Harness) -> None:
        await _still_runs(h)

    run_engine(again)


def test_a_bug_in_a_pass_fails_that_execution_only(
    run_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = passes.run_passes

    def buggy(es: ExecutionState, *args: Any) -> None:
        if es.ex.flow_id == "buggy" and es.ex.task_runs:
            raise RuntimeError("injected pass bug \udfff")  # its text is unstorable too
        real(es, *args)

    monkeypatch.setattr(passes, "run_passes", buggy)

    async def run(h: Harness) -> None:
        flow = await h.deploy(
            """
            id: buggy
            namespace: t.store
            tasks:
              - id: nap
                type: io.kestra.plugin.core.flow.Sleep
                duration: PT0.05S
              - id: r
                type: io.kestra.plugin.core.debug.Return
                format: never
            """
        )
        created = await h.create(flow)
        doc = await asyncio.wait_for(h.wait(created.id), PATIENCE)
        assert doc["state"]["current"] == "FAILED"
        assert [r["taskId"] for r in doc["taskRunList"]] == ["nap"]
        messages = log_messages(h.db_path, created.id)
        wanted = "Internal error, execution failed: RuntimeError: injected pass bug \ufffd"
        assert wanted in messages, messages
        await _still_runs(h)

    run_engine(run)


def test_nothing_is_left_that_kills_the_next_start(tmp_path: Any) -> None:
    """The database file stays usable: a second engine on it starts, runs and stops."""
    db = tmp_path / "again.db"

    async def first(h: Harness) -> None:
        flow = await h.deploy(FLOW_OUTPUT)
        created = await h.create(flow)
        await asyncio.wait_for(h.wait(created.id), PATIENCE)

    asyncio.run(asyncio.wait_for(with_engine(db, first), 60))
    asyncio.run(asyncio.wait_for(with_engine(db, _still_runs), 60))
    rows = db_rows(db, "SELECT state_current FROM executions ORDER BY start_date")
    assert [r[0] for r in rows] == ["FAILED", "SUCCESS"]


CHILD = """
id: child
namespace: t.store
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: child
"""

FLOWABLES = """
id: flowables
namespace: t.store
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    allowFailure: true
    values: "{{ fromJson('[\\"a\\", \\"\\\\udfff\\"]') }}"
    tasks:
      - id: r
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }}"
  - id: sub
    type: io.kestra.plugin.core.flow.Subflow
    namespace: t.store
    flowId: child
    labels:
      origin: "{{ fromJson('\\"\\\\udfff\\"') }}"
"""


def test_run_time_values_of_flowables_and_subflows_fail_their_task_run(run_engine: Any) -> None:
    """ForEach values become task run rows; subflow labels become the child's rows: either
    with a lone surrogate fails its task run, naming the value, and no child is created."""

    async def run(h: Harness) -> None:
        await h.deploy(CHILD)
        doc = await asyncio.wait_for(h.run(FLOWABLES), PATIENCE)
        assert doc["state"]["current"] == "FAILED"
        each, sub = run_of(doc, "each"), run_of(doc, "sub")
        assert each["state"]["current"] == "WARNING"  # FAILED, allowed
        assert [r for r in doc["taskRunList"] if r["taskId"] == "r"] == []
        assert sub["state"]["current"] == "FAILED"
        messages = log_messages(h.db_path, doc["id"])
        assert any(m.startswith("plan.values[1] ") and STORE_ERROR in m for m in messages)
        assert any(m.startswith("labels[") and STORE_ERROR in m for m in messages), messages
        assert db_rows(h.db_path, "SELECT count(*) FROM executions WHERE flow_id = 'child'") == [
            (0,)
        ]
        await _still_runs(h)

    run_engine(run)


def test_a_flow_stored_before_the_rule_runs_with_the_replacement_character(
    tmp_path: Any,
) -> None:
    """A revision an earlier Tercel stored with a `\\udfff` escape: it loads with U+FFFD in its
    place, its executions run to their end, and the engine goes on."""
    from datetime import UTC, datetime

    from tercel.storage import flowstore, sqlite

    db = tmp_path / "older.db"
    source = (
        'id: older\nnamespace: t.store\ndescription: "d\\udfff"\nlabels:\n  team: "\\udfff"\n'
        'tasks:\n  - id: r\n    type: io.kestra.plugin.core.debug.Return\n    format: "a\\udfff"\n'
    )
    database = sqlite.Database(str(db))
    flowstore.deploy(database.conn, "t.store", "older", source, False, datetime.now(UTC))
    database.close()

    async def run(h: Harness) -> None:
        outcome = await service.create_execution(h.engine, "t.store", "older")
        assert isinstance(outcome, model.Execution), outcome
        assert ("team", "\ufffd") in [(lb.key, lb.value) for lb in outcome.labels]
        doc = await asyncio.wait_for(h.wait(outcome.id), PATIENCE)
        assert doc["state"]["current"] == "SUCCESS"
        assert run_of(doc, "r")["outputs"] == {"value": "a\ufffd"}
        await _still_runs(h)

    asyncio.run(asyncio.wait_for(with_engine(db, run), 60))


async def _measured(ctx: Any) -> Any:
    from tercel.engine.tasks.base import TaskOutcome

    ctx.counter("rows", 1)
    ctx.counter("bad\udfff", 1, {"k": "v"})
    return TaskOutcome(outputs={"fine": "yes"})


def test_a_metric_name_that_cannot_be_stored_fails_its_task_run(run_engine: Any) -> None:
    """A task type added in Python (README) names its metrics: one that cannot be stored
    fails the attempt, naming it; the other metrics are kept."""
    from tercel.engine.tasks import registry
    from tercel.engine.tasks.base import TaskType

    registry.register(TaskType("test.store.Measured", model.TaskKind.RUNNABLE, {}, run=_measured))

    async def run(h: Harness) -> None:
        doc = await asyncio.wait_for(
            h.run(
                """
                id: measured
                namespace: t.store
                tasks:
                  - id: m
                    type: test.store.Measured
                """
            ),
            PATIENCE,
        )
        assert doc["state"]["current"] == "FAILED"
        attempt = run_of(doc, "m")["attempts"][0]
        assert attempt["state"]["current"] == "FAILED"
        assert [m["name"] for m in attempt["metrics"]] == ["rows"]
        messages = log_messages(h.db_path, doc["id"])
        assert any(m.startswith("metric `bad\ufffd`") and STORE_ERROR in m for m in messages)
        await _still_runs(h)

    run_engine(run)


def test_a_bug_while_a_task_run_waits_for_its_retry_fails_the_execution(
    run_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine fails an execution whose last commit left a task run RETRYING: that task run
    ends FAILED (its retry abandoned, semantics.md#durability), its timer goes, and the engine
    goes on. Before the fix, RETRYING -> FAILED was refused by the transition table and the
    execution was left RETRYING for good."""
    real = passes.run_passes

    def buggy(es: ExecutionState, *args: Any) -> None:
        recreated = [
            r
            for r in es.ex.task_runs
            if r.state.current is states.StateType.CREATED
            and r.state.has_been(states.StateType.RETRYING)
        ]
        if es.ex.flow_id == "retry-bug" and recreated:
            raise RuntimeError("injected bug after the retry timer")
        real(es, *args)

    monkeypatch.setattr(passes, "run_passes", buggy)

    async def run(h: Harness) -> None:
        flow = await h.deploy(
            """
            id: retry-bug
            namespace: t.store
            tasks:
              - id: fail
                type: io.kestra.plugin.core.execution.Fail
                retry: {type: constant, interval: PT0.2S, maxAttempt: 3}
            """
        )
        created = await h.create(flow)
        doc = await asyncio.wait_for(h.wait(created.id), PATIENCE)
        c, r, f, rt = "CREATED", "RUNNING", "FAILED", "RETRYING"
        assert states_of(doc["state"]) == [c, r, f, rt, f]
        run = run_of(doc, "fail")
        assert states_of(run["state"]) == [c, r, f, rt, f]
        assert attempt_states(run) == [[c, r, f]]
        timers = db_rows(h.db_path, "SELECT count(*) FROM timers WHERE execution_id = ?", doc["id"])
        assert timers[0][0] == 0
        messages = log_messages(h.db_path, created.id)
        assert (
            "Internal error, execution failed: RuntimeError: injected bug after the retry timer"
            in messages
        )
        assert created.id not in h.engine.active
        await _still_runs(h)

    run_engine(run)
