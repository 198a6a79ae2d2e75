"""Subflow (semantics.md#subflow): waiting, outcomes, outputs, labels, trigger, failures, kill
cascade."""

from __future__ import annotations

from typing import Any

from tests.engine.conftest import (
    Doc,
    Harness,
    log_messages,
    micros,
    order_of,
    run_of,
    states_of,
)

from tercel.engine import model, service

C, R, S, F, K, KG, W = "CREATED", "RUNNING", "SUCCESS", "FAILED", "KILLED", "KILLING", "WARNING"
SUBFLOW = "io.kestra.plugin.core.flow.Subflow"

CHILD = """
id: child
namespace: t.engine.sub
labels:
  owner: child-team
inputs:
  - id: name
    type: STRING
  - id: fail
    type: BOOLEAN
    defaults: false
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.1S
  - id: maybe
    type: io.kestra.plugin.core.execution.Fail
    condition: "{{ inputs.fail }}"
outputs:
  - id: greeting
    type: STRING
    value: "hi {{ inputs.name }}"
"""


def parent_flow(extra: str = "", flow_id: str = "parent", child_id: str = "child") -> str:
    return f"""
    id: {flow_id}
    namespace: t.engine
    tasks:
      - id: call
        type: {SUBFLOW}
        namespace: t.engine.sub
        flowId: {child_id}
        inputs:
          name: bob
    {extra}
      - id: after
        type: io.kestra.plugin.core.debug.Return
        format: "{{{{ outputs.call.state }}}}"
    """


async def child_doc(h: Harness, parent: Doc) -> Doc:
    child_id = run_of(parent, "call")["outputs"]["executionId"]
    child = await h.doc(child_id)
    h.check(child)
    return child


def test_parent_waits_for_the_child(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        await h.deploy(CHILD)
        parent = await h.run(parent_flow(), labels=[model.Label("team", "parent-team")])
        assert parent["state"]["current"] == S
        assert states_of(parent["state"]) == [C, R, S]
        assert order_of(parent) == ["call", "after"]
        call = run_of(parent, "call")
        assert states_of(call["state"]) == [C, R, S]
        assert call["attempts"] is None
        child = await child_doc(h, parent)
        assert call["outputs"] == {
            "executionId": child["id"],
            "state": "SUCCESS",
            "outputs": {"greeting": "hi bob"},
        }
        assert run_of(parent, "after")["outputs"] == {"value": "SUCCESS"}
        assert states_of(child["state"]) == [C, R, S]
        assert child["inputs"] == {"name": "bob", "fail": False}
        # the parent's task run ends only after the child did
        assert micros(call["state"]["endDate"]) >= micros(child["state"]["endDate"])
        # child is not a replay: parentId stays null; it has its own originalId
        assert child["parentId"] is None
        assert child["originalId"] == child["id"]
        labels = {lb["key"]: lb["value"] for lb in child["labels"]}
        assert labels == {"owner": "child-team", "system.correlationId": parent["id"]}
        flow_def = await h.engine.flow("t.engine", "parent", 1)
        assert flow_def is not None
        assert child["trigger"] == {
            "id": "call",
            "type": SUBFLOW,
            "variables": {
                "executionId": parent["id"],
                "namespace": "t.engine",
                "flowId": "parent",
                "flowRevision": 1,
            },
        }

    run_engine(body)


def test_child_failure_is_transmitted_by_default(run_engine: Any) -> None:
    source = parent_flow(flow_id="parent-fail").replace(
        "inputs:\n          name: bob", "inputs:\n          name: bob\n          fail: true"
    )

    async def body(h: Harness) -> None:
        await h.deploy(CHILD)
        parent = await h.run(source)
        assert parent["state"]["current"] == F
        call = run_of(parent, "call")
        assert states_of(call["state"]) == [C, R, F]
        assert order_of(parent) == ["call"]
        child = await child_doc(h, parent)
        assert child["state"]["current"] == F
        assert call["outputs"]["state"] == "FAILED"

    run_engine(body)


def test_child_failure_not_transmitted(run_engine: Any) -> None:
    source = parent_flow(flow_id="parent-quiet").replace(
        "inputs:\n          name: bob",
        "transmitFailed: false\n        inputs:\n          name: bob\n          fail: true",
    )

    async def body(h: Harness) -> None:
        await h.deploy(CHILD)
        parent = await h.run(source)
        assert parent["state"]["current"] == S
        call = run_of(parent, "call")
        assert states_of(call["state"]) == [C, R, S]
        assert call["outputs"]["state"] == "FAILED"
        # a FAILED end is a normal end: the child's flow outputs are rendered
        # (semantics.md#flow-outputs)
        assert call["outputs"]["outputs"] == {"greeting": "hi bob"}
        assert run_of(parent, "after")["outputs"] == {"value": "FAILED"}
        child = await child_doc(h, parent)
        assert child["state"]["current"] == F

    run_engine(body)


def test_wait_false_succeeds_at_once(run_engine: Any) -> None:
    source = parent_flow(flow_id="parent-nowait").replace(
        "inputs:\n          name: bob", "wait: false\n        inputs:\n          name: bob"
    )

    async def body(h: Harness) -> None:
        await h.deploy(CHILD)
        parent = await h.run(source)
        assert parent["state"]["current"] == S
        call = run_of(parent, "call")
        assert call["state"]["current"] == S
        child_id = call["outputs"]["executionId"]
        assert call["outputs"] == {"executionId": child_id, "state": "CREATED"}
        assert run_of(parent, "after")["outputs"] == {"value": "CREATED"}
        child = await h.wait(child_id)
        assert child["state"]["current"] == S
        # the parent did not wait: it ended before its child
        assert micros(parent["state"]["endDate"]) <= micros(child["state"]["endDate"])

    run_engine(body)


def test_missing_child_flow_fails_the_task_run(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        parent = await h.run(parent_flow(flow_id="parent-orphan", child_id="nowhere"))
        assert parent["state"]["current"] == F
        call = run_of(parent, "call")
        assert states_of(call["state"]) == [C, F]
        assert call["attempts"] is None
        assert order_of(parent) == ["call"]
        messages = log_messages(h.db_path, parent["id"])
        assert any("nowhere" in m for m in messages), messages

    run_engine(body)


def test_invalid_child_inputs_fail_the_task_run(run_engine: Any) -> None:
    source = parent_flow(flow_id="parent-badinput").replace(
        "inputs:\n          name: bob", "inputs:\n          name: bob\n          fail: maybe"
    )

    async def body(h: Harness) -> None:
        await h.deploy(CHILD)
        parent = await h.run(source)
        assert parent["state"]["current"] == F
        assert states_of(run_of(parent, "call")["state"]) == [C, F]
        executions = await h.engine.call(
            lambda: list(h.engine.db.conn.execute("SELECT count(*) FROM executions"))
        )
        assert executions[0][0] == 1  # no child was created

    run_engine(body)


def test_kill_of_the_parent_kills_the_child(run_engine: Any) -> None:
    long_child = """
    id: slow-child
    namespace: t.engine.sub
    tasks:
      - id: nap
        type: io.kestra.plugin.core.flow.Sleep
        duration: PT30S
    """
    source = """
    id: parent-killed
    namespace: t.engine
    tasks:
      - id: call
        type: io.kestra.plugin.core.flow.Subflow
        namespace: t.engine.sub
        flowId: slow-child
      - id: after
        type: io.kestra.plugin.core.log.Log
        message: unreachable
    """

    async def body(h: Harness) -> None:
        await h.deploy(long_child)
        flow_def = await h.deploy(source)
        created = await h.create(flow_def)

        def child_running(doc: Doc) -> bool:
            return bool(doc["taskRunList"]) and doc["taskRunList"][0]["state"]["current"] == R

        await h.wait_for(created.id, lambda d: child_running(d), what="call RUNNING")
        rows = await h.engine.call(
            lambda: list(
                h.engine.db.conn.execute("SELECT id FROM executions WHERE id != ?", (created.id,))
            )
        )
        assert len(rows) == 1
        child_id = rows[0][0]
        await h.wait_for(
            child_id,
            lambda d: bool(d["taskRunList"]) and d["taskRunList"][0]["state"]["current"] == R,
            what="child nap RUNNING",
        )
        await service.kill_execution(h.engine, created.id)
        parent = await h.wait(created.id, timeout=3.0)
        child = await h.wait(child_id, timeout=3.0)
        assert states_of(parent["state"]) == [C, R, KG, K]
        assert states_of(run_of(parent, "call")["state"]) == [C, R, KG, K]
        assert order_of(parent) == ["call"]
        assert states_of(child["state"]) == [C, R, KG, K]
        nap = run_of(child, "nap")
        assert states_of(nap["state"]) == [C, R, K]
        assert [states_of(a["state"]) for a in nap["attempts"]] == [[C, R, K]]

    run_engine(body)


def test_kill_cascades_to_a_child_started_without_wait(run_engine: Any) -> None:
    """semantics.md#subflow: kill cascades to the child whatever `wait` is."""
    long_child = """
    id: slow-child
    namespace: t.engine.sub
    tasks:
      - id: nap
        type: io.kestra.plugin.core.flow.Sleep
        duration: PT30S
    """
    source = """
    id: parent-nowait-killed
    namespace: t.engine
    tasks:
      - id: call
        type: io.kestra.plugin.core.flow.Subflow
        namespace: t.engine.sub
        flowId: slow-child
        wait: false
      - id: hold
        type: io.kestra.plugin.core.flow.Sleep
        duration: PT30S
    """

    async def body(h: Harness) -> None:
        await h.deploy(long_child)
        flow_def = await h.deploy(source)
        created = await h.create(flow_def)

        def holding(doc: Doc) -> bool:
            return len(doc["taskRunList"]) == 2 and doc["taskRunList"][1]["state"]["current"] == R

        before = await h.wait_for(created.id, holding, what="hold RUNNING")
        child_id = run_of(before, "call")["outputs"]["executionId"]
        await h.wait_for(
            child_id,
            lambda d: bool(d["taskRunList"]) and d["taskRunList"][0]["state"]["current"] == R,
            what="child nap RUNNING",
        )
        await service.kill_execution(h.engine, created.id)
        parent = await h.wait(created.id, timeout=3.0)
        child = await h.wait(child_id, timeout=3.0)
        assert states_of(parent["state"]) == [C, R, KG, K]
        assert states_of(run_of(parent, "call")["state"]) == [C, R, S]
        assert states_of(child["state"]) == [C, R, KG, K]

    run_engine(body)


SLOW_CHILD = """
id: slow-child
namespace: t.engine.sub
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.3S
"""

RETRY_BESIDE_SUBFLOW = f"""
id: retry-beside-subflow
namespace: t.engine
tasks:
  - id: both
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: call
        type: {SUBFLOW}
        namespace: t.engine.sub
        flowId: slow-child
      - id: boom
        type: io.kestra.plugin.core.execution.Fail
        retry:
          type: constant
          interval: PT0.05S
          maxAttempt: 2
          behavior: CREATE_NEW_EXECUTION
"""


def test_a_new_execution_retry_stops_a_running_subflow_as_a_kill_does(run_engine: Any) -> None:
    """The start of a new-execution retry stops its siblings with the kill sweep: a running
    Subflow task run goes KILLING and ends KILLED when its child ends (it stayed RUNNING and took
    the child's SUCCESS before the sweep was written once)."""

    async def body(h: Harness) -> None:
        await h.deploy(SLOW_CHILD)
        first = await h.run(RETRY_BESIDE_SUBFLOW, i2=False)
        assert first["state"]["current"] == "RETRIED"
        assert states_of(run_of(first, "call")["state"]) == [C, R, KG, K]
        assert states_of(run_of(first, "boom")["state"]) == [C, R, F, "RETRIED"]

    run_engine(body)
