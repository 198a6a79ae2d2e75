"""Operating by hand (semantics.md#operating) on a real engine and SQLite file: pauseExecution /
resume of a manual pause (durable across an engine restart), and setTaskRunState as Kestra's markAs
— the assertions of Kestra's ExecutionServiceTest.markAsEachPara on the same flow, then the engine
carrying on."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.engine.conftest import Doc, Harness, run_of, states_of, with_engine

from tercel.engine import model, operations, service, states

S = states.StateType

NAP_THEN_LOG = """
id: nap
namespace: t.operate
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.4S
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: after
"""

# Kestra: core/src/test/resources/flows/valids/each-parallel-nested.yaml
EACH_PARALLEL_NESTED = """
id: each-parallel-nested
namespace: io.kestra.tests
tasks:
  - id: 1_each
    type: io.kestra.plugin.core.flow.EachParallel
    value:
    - value 1
    - value 2
    - value 3
    tasks:
      - id: 2-1_seq
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
        - id: 2-1-1_t1
          type: io.kestra.plugin.core.log.Log
          message: "{task.id}} > {{ parents[0].taskrun.value }}"
        - id: 2-1-2_t2
          type: io.kestra.plugin.core.log.Log
          message: "{task.id}} > {{ parents[0].taskrun.value }}"
  - id: 2_end
    type: io.kestra.plugin.core.debug.Return
    format: "{{task.id}} > {{taskrun.startDate}}"
"""

FAIL_IN_MIDDLE = """
id: middle
namespace: t.operate
tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    message: a
  - id: b
    type: io.kestra.plugin.core.execution.Fail
  - id: c
    type: io.kestra.plugin.core.log.Log
    message: c
errors:
  - id: on_error
    type: io.kestra.plugin.core.log.Log
    message: failed
"""


def _value(doc: Doc, task_id: str, value: str | None) -> Doc:
    """Kestra's findTaskRunByTaskIdAndValue: the task run of `task_id` whose own value, or
    nearest ancestor's value, is `value`."""
    by_id = {r["id"]: r for r in doc["taskRunList"]}

    def value_of(run: Doc) -> str | None:
        while run["value"] is None and run["parentTaskRunId"] is not None:
            run = by_id[run["parentTaskRunId"]]
        found: str | None = run["value"]
        return found

    found = [r for r in doc["taskRunList"] if r["taskId"] == task_id and value_of(r) == value]
    assert len(found) == 1, (task_id, value)
    return found[0]


def test_pause_lets_running_attempts_finish_and_starts_nothing(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        flow = await h.deploy(NAP_THEN_LOG)
        created = await h.create(flow)
        await h.wait_for(created.id, lambda d: d["taskRunList"] != [], what="nap started")
        paused = await operations.pause_execution(h.engine, created.id)
        assert isinstance(paused, model.Execution), paused
        assert paused.state.current is S.PAUSED
        doc = await h.wait_for(
            created.id,
            lambda d: run_of(d, "nap")["state"]["current"] == "SUCCESS",
            what="the running attempt merged",
        )
        await h.turn()  # a later iteration's passes committed: `after` would have started
        doc = await h.doc(created.id)
        assert doc["state"]["current"] == "PAUSED"
        assert [r["taskId"] for r in doc["taskRunList"]] == ["nap"]
        again = await operations.pause_execution(h.engine, created.id)
        assert isinstance(again, service.InvalidState), again
        assert "current state is 'PAUSED'" in again.message
        resumed = await service.resume_execution(h.engine, created.id, None)
        assert isinstance(resumed, model.Execution), resumed
        doc = await h.wait(created.id)
        assert states_of(doc["state"]) == ["CREATED", "RUNNING", "PAUSED", "RUNNING", "SUCCESS"]
        assert [r["taskId"] for r in doc["taskRunList"]] == ["nap", "after"]
        refused = await operations.pause_execution(h.engine, created.id)
        assert isinstance(refused, service.InvalidState)
        assert refused.message == "Execution is already finished ('SUCCESS'), can't pause it"

    run_engine(body)


def test_manual_pause_refuses_resume_inputs(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        flow = await h.deploy(NAP_THEN_LOG)
        created = await h.create(flow)
        await h.wait_for(created.id, lambda d: d["state"]["current"] == "RUNNING")
        assert isinstance(await operations.pause_execution(h.engine, created.id), model.Execution)
        refused = await service.resume_execution(h.engine, created.id, {"x": 1})
        assert isinstance(refused, service.InvalidInputs), refused
        assert "takes no inputs" in refused.message

    run_engine(body)


def test_a_paused_execution_stays_paused_across_an_engine_restart(db_path: Path) -> None:
    async def first(h: Harness) -> str:
        flow = await h.deploy(NAP_THEN_LOG)
        created = await h.create(flow)
        await h.wait_for(created.id, lambda d: d["taskRunList"] != [])
        assert isinstance(await operations.pause_execution(h.engine, created.id), model.Execution)
        await h.wait_for(created.id, lambda d: run_of(d, "nap")["state"]["current"] == "SUCCESS")
        return created.id

    async def second(h: Harness, execution_id: str) -> None:
        await h.turn()  # the restarted engine's passes ran over it and committed
        doc = await h.doc(execution_id)
        assert doc["state"]["current"] == "PAUSED"
        assert [r["taskId"] for r in doc["taskRunList"]] == ["nap"]
        resumed = await service.resume_execution(h.engine, execution_id, None)
        assert isinstance(resumed, model.Execution), resumed
        doc = await h.wait(execution_id)
        assert states_of(doc["state"]) == ["CREATED", "RUNNING", "PAUSED", "RUNNING", "SUCCESS"]

    execution_id = asyncio.run(with_engine(db_path, first))
    asyncio.run(with_engine(db_path, lambda h: second(h, execution_id)))


def test_mark_as_each_para_like_kestra(run_engine: Any) -> None:
    """Kestra ExecutionServiceTest.markAsEachPara, both marks, each on the SUCCESS execution;
    then the engine carries on and the execution ends FAILED."""

    async def body(h: Harness) -> None:
        doc = await h.run(EACH_PARALLEL_NESTED)
        assert len(doc["taskRunList"]) == 11
        assert doc["state"]["current"] == "SUCCESS"
        seq = _value(doc, "2-1_seq", "value 1")["id"]
        marked = await operations.set_task_run_state(h.engine, doc["id"], seq, S.FAILED)
        assert isinstance(marked, model.Execution), marked
        restart = _doc_of(marked)
        assert restart["state"]["current"] == "RESTARTED"
        assert len(restart["state"]["histories"]) == 4
        assert len(restart["taskRunList"]) == 11
        assert _value(restart, "1_each", None)["state"]["current"] == "RUNNING"
        marked_run = _value(restart, "2-1_seq", "value 1")
        assert marked_run["state"]["current"] == "FAILED"
        assert len(marked_run["state"]["histories"]) == 4
        assert marked_run["attempts"] is None
        after = await h.wait(doc["id"])
        assert after["state"]["current"] == "FAILED"
        assert states_of(after["state"]) == ["CREATED", "RUNNING", "SUCCESS", "RESTARTED",
                                             "RUNNING", "FAILED"]  # fmt: skip

        doc = await h.run(EACH_PARALLEL_NESTED)
        t2 = _value(doc, "2-1-2_t2", "value 1")["id"]
        marked = await operations.set_task_run_state(h.engine, doc["id"], t2, S.FAILED)
        assert isinstance(marked, model.Execution), marked
        restart = _doc_of(marked)
        assert restart["state"]["current"] == "RESTARTED"
        assert len(restart["state"]["histories"]) == 4
        assert len(restart["taskRunList"]) == 11
        assert _value(restart, "1_each", None)["state"]["current"] == "RUNNING"
        assert _value(restart, "2-1_seq", "value 1")["state"]["current"] == "RUNNING"
        leaf = _value(restart, "2-1-2_t2", "value 1")
        assert leaf["state"]["current"] == "FAILED"
        assert len(leaf["state"]["histories"]) == 4
        assert leaf["attempts"][0]["state"]["current"] == "FAILED"
        after = await h.wait(doc["id"])
        assert after["state"]["current"] == "FAILED"
        assert _value(after, "2-1_seq", "value 1")["state"]["current"] == "FAILED"
        assert _value(after, "2-1_seq", "value 2")["state"]["current"] == "SUCCESS"

    run_engine(body)


def _doc_of(ex: model.Execution) -> Doc:
    from tercel.engine.run import document

    return document.execution_document(ex)


def test_marking_a_failed_task_success_runs_the_rest(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        doc = await h.run(FAIL_IN_MIDDLE)
        assert doc["state"]["current"] == "FAILED"
        assert [r["taskId"] for r in doc["taskRunList"]] == ["a", "b", "on_error"]
        b = run_of(doc, "b")["id"]
        marked = await operations.set_task_run_state(h.engine, doc["id"], b, S.SUCCESS)
        assert isinstance(marked, model.Execution), marked
        # errors of the previous end are removed first
        assert [r.task_id for r in marked.task_runs] == ["a", "b"]
        after = await h.wait(doc["id"])
        assert after["state"]["current"] == "SUCCESS"
        assert [r["taskId"] for r in after["taskRunList"]] == ["a", "b", "c"]
        assert states_of(run_of(after, "b")["state"]) == ["CREATED", "RUNNING", "FAILED",
                                                          "SUCCESS"]  # fmt: skip
        assert states_of(run_of(after, "b")["attempts"][0]["state"]) == [
            "CREATED",
            "RUNNING",
            "FAILED",
            "SUCCESS",
        ]
        assert states_of(after["state"])[2:] == ["FAILED", "RESTARTED", "RUNNING", "SUCCESS"]

    run_engine(body)


def test_mark_refusals(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        doc = await h.run(FAIL_IN_MIDDLE)
        b, on_error = run_of(doc, "b")["id"], run_of(doc, "on_error")["id"]

        async def mark(run_id: str, target: S) -> str:
            found = await operations.set_task_run_state(h.engine, doc["id"], run_id, target)
            assert not isinstance(found, model.Execution), found
            return found.message

        assert "not 'RUNNING'" in await mark(b, S.RUNNING)
        assert "errors or finally" in await mark(on_error, S.SUCCESS)
        assert await mark("nope", S.SUCCESS) == "task run `nope` not found"
        flow = await h.deploy(NAP_THEN_LOG.replace("PT0.4S", "PT30S"))
        running = await h.create(flow)
        live = await h.wait_for(running.id, lambda d: d["taskRunList"] != [])
        nap = run_of(live, "nap")["id"]
        found = await operations.set_task_run_state(h.engine, running.id, nap, S.SUCCESS)
        assert isinstance(found, service.InvalidState)
        assert "must be terminated or paused" in found.message
        assert isinstance(await operations.pause_execution(h.engine, running.id), model.Execution)
        found = await operations.set_task_run_state(h.engine, running.id, nap, S.SUCCESS)
        assert isinstance(found, service.InvalidState)
        assert found.message == (
            "Only a terminated or paused task run can change state, this one is 'RUNNING'"
        )
        assert isinstance(await service.kill_execution(h.engine, running.id), model.Execution)
        assert (await h.wait(running.id))["state"]["current"] == "KILLED"

    run_engine(body)


PAUSE_WITH_TIMEOUT = """
id: held
namespace: t.operate
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
    timeout: PT1H
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: after
"""


def test_marking_a_paused_pause_task_goes_on_and_drops_its_timer(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        created = await h.create(await h.deploy(PAUSE_WITH_TIMEOUT))
        doc = await h.wait_for(created.id, lambda d: d["state"]["current"] == "PAUSED")
        assert h._timers(created.id) == 1  # the Pause's timeout
        wait = run_of(doc, "wait")["id"]
        marked = await operations.set_task_run_state(h.engine, doc["id"], wait, S.WARNING)
        assert isinstance(marked, model.Execution), marked
        assert marked.state.current is S.RESTARTED
        after = await h.wait(doc["id"])  # checks I2: no timer left once terminal
        assert after["state"]["current"] == "WARNING"
        assert states_of(run_of(after, "wait")["state"]) == ["CREATED", "RUNNING", "PAUSED",
                                                             "WARNING"]  # fmt: skip
        assert [r["taskId"] for r in after["taskRunList"]] == ["wait", "after"]

    run_engine(body)


def test_marking_on_a_manual_pause_ends_the_pause(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        flow = await h.deploy(NAP_THEN_LOG)
        created = await h.create(flow)
        await h.wait_for(created.id, lambda d: d["taskRunList"] != [])
        assert isinstance(await operations.pause_execution(h.engine, created.id), model.Execution)
        doc = await h.wait_for(
            created.id, lambda d: run_of(d, "nap")["state"]["current"] == "SUCCESS"
        )
        nap = run_of(doc, "nap")["id"]
        marked = await operations.set_task_run_state(h.engine, created.id, nap, S.FAILED)
        assert isinstance(marked, model.Execution), marked
        after = await h.wait(created.id)
        assert after["state"]["current"] == "FAILED"
        assert states_of(after["state"]) == ["CREATED", "RUNNING", "PAUSED", "RESTARTED",
                                             "RUNNING", "FAILED"]  # fmt: skip
        assert [r["taskId"] for r in after["taskRunList"]] == ["nap"]

    run_engine(body)
