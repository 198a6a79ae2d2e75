"""Restart (semantics.md#restart) and replay (semantics.md#replay)."""

from __future__ import annotations

from typing import Any

from tests.engine.conftest import (
    Harness,
    attempt_states,
    order_of,
    run_of,
    runs_of,
    states_of,
)

from tercel.engine import model, service
from tercel.engine.run import document

C, R, F, RS, S, P = "CREATED", "RUNNING", "FAILED", "RESTARTED", "SUCCESS", "PAUSED"

# fails on its first try only (`taskrun.attemptsCount` is 0 on the first try,
# semantics.md#runnables)
FIRST_TRY_FAILS = "'if [ \"{{taskrun.attemptsCount}}\" -eq 1 ]; then exit 0; else exit 1; fi'"


def test_restart_always_failed(run_engine: Any) -> None:
    """Kestra `restart_always_failed.yaml`: restart removes the `errors` task run (TR 1);
    final FAILED, TR 2, 2 attempts."""
    flow = """
    id: restart_always_failed
    namespace: t.engine
    tasks:
      - id: failStep
        type: io.kestra.plugin.core.execution.Fail
        description: "This fails"
    errors:
      - id: errorHandler
        type: io.kestra.plugin.core.log.Log
        message: I'm failing {{task.id}}
        level: INFO
    """

    async def body(h: Harness) -> None:
        first = await h.run(flow)
        assert first["state"]["current"] == F
        assert order_of(first) == ["failStep", "errorHandler"]
        old_handler = run_of(first, "errorHandler")["id"]

        restarted = await service.restart_execution(h.engine, first["id"])
        assert isinstance(restarted, model.Execution), restarted
        now = document.execution_document(restarted)
        assert now["id"] == first["id"]
        assert order_of(now) == ["failStep"]
        assert states_of(now["state"])[:4] == [C, R, F, RS]
        assert states_of(run_of(now, "failStep")["state"])[:4] == [C, R, F, RS]
        assert now["metadata"]["attemptNumber"] == 2

        doc = await h.wait(first["id"])
        assert doc["state"]["current"] == F
        assert states_of(doc["state"]) == [C, R, F, RS, R, F]
        assert order_of(doc) == ["failStep", "errorHandler"]
        fail = run_of(doc, "failStep")
        assert fail["id"] == run_of(first, "failStep")["id"]
        assert states_of(fail["state"]) == [C, R, F, RS, R, F]
        assert attempt_states(fail) == [[C, R, F], [C, R, F]]
        assert run_of(doc, "errorHandler")["id"] != old_handler
        assert doc["parentId"] is None
        assert doc["metadata"]["attemptNumber"] == 2

    run_engine(body)


def test_restart_last_failed(run_engine: Any) -> None:
    """semantics.md#restart example (Kestra `restart_last_failed`): Logs a, b, c, d where c fails on
    its first try only."""
    flow = f"""
    id: restart_last_failed
    namespace: t.engine
    tasks:
    - id: a
      type: io.kestra.plugin.core.log.Log
      message: a
    - id: b
      type: io.kestra.plugin.core.log.Log
      message: b
    - id: c
      type: io.kestra.plugin.scripts.shell.Commands
      commands:
        - {FIRST_TRY_FAILS}
    - id: d
      type: io.kestra.plugin.core.log.Log
      message: d
    """

    async def body(h: Harness) -> None:
        first = await h.run(flow)
        assert first["state"]["current"] == F
        assert order_of(first) == ["a", "b", "c"]

        restarted = await service.restart_execution(h.engine, first["id"])
        assert isinstance(restarted, model.Execution), restarted
        now = document.execution_document(restarted)
        assert now["id"] == first["id"]
        assert now["parentId"] is None
        assert states_of(now["state"])[:4] == [C, R, F, RS]
        assert states_of(run_of(now, "c")["state"])[:4] == [C, R, F, RS]

        doc = await h.wait(first["id"])
        assert doc["state"]["current"] == S
        assert order_of(doc) == ["a", "b", "c", "d"]
        assert [r["state"]["current"] for r in doc["taskRunList"]] == [S] * 4
        assert [len(r["attempts"]) for r in doc["taskRunList"]] == [1, 1, 2, 1]
        assert states_of(run_of(doc, "c")["state"]) == [C, R, F, RS, R, S]
        assert attempt_states(run_of(doc, "c")) == [[C, R, F], [C, R, S]]
        # task runs that succeeded are untouched
        for task_id in ("a", "b"):
            assert run_of(doc, task_id) == run_of(first, task_id)
        assert states_of(doc["state"]) == [C, R, F, RS, R, S]

    run_engine(body)


def test_restart_reruns_nested_errors_and_finally(run_engine: Any) -> None:
    """semantics.md#restart, items 3 and 4: a flowable ancestor goes back to RUNNING; every
    `errors`/`finally` task run (flow level and under flowables) is removed and runs again as the
    new outcome requires."""
    flow = f"""
    id: restart-nested
    namespace: t.engine
    tasks:
      - id: seq
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: ok
            type: io.kestra.plugin.core.log.Log
            message: ok
          - id: flaky
            type: io.kestra.plugin.scripts.shell.Commands
            commands:
              - {FIRST_TRY_FAILS}
        errors:
          - id: seq_err
            type: io.kestra.plugin.core.log.Log
            message: seq failed
        finally:
          - id: seq_fin
            type: io.kestra.plugin.core.log.Log
            message: seq finally
    errors:
      - id: flow_err
        type: io.kestra.plugin.core.log.Log
        message: flow failed
    finally:
      - id: flow_fin
        type: io.kestra.plugin.core.log.Log
        message: flow finally
    """

    async def body(h: Harness) -> None:
        first = await h.run(flow)
        assert first["state"]["current"] == F
        assert order_of(first) == [
            "seq",
            "ok",
            "flaky",
            "seq_err",
            "seq_fin",
            "flow_err",
            "flow_fin",
        ]

        restarted = await service.restart_execution(h.engine, first["id"])
        assert isinstance(restarted, model.Execution), restarted
        now = document.execution_document(restarted)
        assert order_of(now) == ["seq", "ok", "flaky"]
        assert states_of(run_of(now, "seq")["state"]) == [C, R, F, R]
        assert states_of(run_of(now, "flaky")["state"])[:4] == [C, R, F, RS]

        doc = await h.wait(first["id"])
        assert doc["state"]["current"] == S
        assert order_of(doc) == ["seq", "ok", "flaky", "seq_fin", "flow_fin"]
        assert states_of(run_of(doc, "seq")["state"]) == [C, R, F, R, S]
        flaky = run_of(doc, "flaky")
        assert states_of(flaky["state"]) == [C, R, F, RS, R, S]
        assert attempt_states(flaky) == [[C, R, F], [C, R, S]]
        assert run_of(doc, "ok") == run_of(first, "ok")
        assert run_of(doc, "seq_fin")["id"] != run_of(first, "seq_fin")["id"]
        assert run_of(doc, "seq_fin")["parentTaskRunId"] == run_of(doc, "seq")["id"]
        assert run_of(doc, "flow_fin")["parentTaskRunId"] is None
        assert runs_of(doc, "seq_err") == [] and runs_of(doc, "flow_err") == []
        assert doc["metadata"]["attemptNumber"] == 2

    run_engine(body)


def test_restart_refusals(run_engine: Any) -> None:
    ok_flow = """
    id: restart-ok
    namespace: t.engine
    tasks:
      - {id: only, type: io.kestra.plugin.core.log.Log, message: fine}
    """
    paused_flow = """
    id: restart-paused
    namespace: t.engine
    tasks:
      - {id: hold, type: io.kestra.plugin.core.flow.Pause}
    """

    async def body(h: Harness) -> None:
        done = await h.run(ok_flow)
        refused = await service.restart_execution(h.engine, done["id"])
        assert isinstance(refused, service.InvalidState), refused
        assert refused.message == "No task found to restart execution from!"
        assert await h.doc(done["id"]) == done

        paused = await h.run(paused_flow)
        assert paused["state"]["current"] == P
        refused = await service.restart_execution(h.engine, paused["id"])
        assert isinstance(refused, service.InvalidState), refused
        assert refused.message == (
            "Execution must be terminated to be restarted, current state is 'PAUSED' !"
        )
        # a KILLED execution has no FAILED task run to restart from
        await service.kill_execution(h.engine, paused["id"])
        killed = await h.wait(paused["id"])
        assert killed["state"]["current"] == "KILLED"
        refused = await service.restart_execution(h.engine, paused["id"])
        assert isinstance(refused, service.InvalidState), refused
        assert refused.message == "No task found to restart execution from!"

        missing = await service.restart_execution(h.engine, "nope")
        assert isinstance(missing, service.NotFound)

    run_engine(body)


LOGS = """
id: logs
namespace: t.engine
tasks:
  - {id: t1, type: io.kestra.plugin.core.log.Log, message: first}
  - {id: t2, type: io.kestra.plugin.core.log.Log, message: second}
  - {id: t3, type: io.kestra.plugin.core.log.Log, message: third}
  - {id: t4, type: io.kestra.plugin.core.log.Log, message: fourth}
  - {id: t5, type: io.kestra.plugin.core.log.Log, message: fifth}
"""


def test_replay_from_the_second_of_five_logs(run_engine: Any) -> None:
    """semantics.md#replay: new execution, 2 task runs, the second RESTARTED with 4 entries, new
    ids; execution RESTARTED with 4 entries; parentId = old id."""

    async def body(h: Harness) -> None:
        old = await h.run(LOGS)
        assert old["state"]["current"] == S
        second = old["taskRunList"][1]

        replayed = await service.replay_execution(h.engine, old["id"], second["id"])
        assert isinstance(replayed, model.Execution), replayed
        now = document.execution_document(replayed)
        assert now["id"] != old["id"]
        assert now["parentId"] == old["id"]
        assert now["originalId"] == old["id"]
        assert now["metadata"]["attemptNumber"] == 2
        assert states_of(now["state"])[:4] == [C, R, S, RS]
        assert now["state"]["histories"][:3] == old["state"]["histories"]
        assert order_of(now)[:2] == ["t1", "t2"]
        t1, t2 = now["taskRunList"][:2]
        assert t1["id"] != old["taskRunList"][0]["id"]
        assert t2["id"] != second["id"]
        assert t1["executionId"] == t2["executionId"] == now["id"]
        assert t1["state"] == old["taskRunList"][0]["state"]
        assert t1["attempts"] == old["taskRunList"][0]["attempts"]
        assert states_of(t2["state"])[:4] == [C, R, S, RS]

        doc = await h.wait(now["id"])
        assert doc["state"]["current"] == S
        assert states_of(doc["state"]) == [C, R, S, RS, R, S]
        assert order_of(doc) == ["t1", "t2", "t3", "t4", "t5"]
        assert states_of(run_of(doc, "t1")["state"]) == [C, R, S]
        assert attempt_states(run_of(doc, "t1")) == [[C, R, S]]
        assert states_of(run_of(doc, "t2")["state"]) == [C, R, S, RS, R, S]
        assert attempt_states(run_of(doc, "t2")) == [[C, R, S], [C, R, S]]
        # the old execution is untouched
        assert await h.doc(old["id"]) == old

    run_engine(body)


def test_replay_without_task_run_and_refusals(run_engine: Any) -> None:
    paused_flow = """
    id: replay-paused
    namespace: t.engine
    tasks:
      - {id: hold, type: io.kestra.plugin.core.flow.Pause}
    """

    async def body(h: Harness) -> None:
        old = await h.run(LOGS, labels=[model.Label("team", "core")])
        replayed = await service.replay_execution(h.engine, old["id"], None)
        assert isinstance(replayed, model.Execution), replayed
        now = document.execution_document(replayed)
        assert states_of(now["state"])[:1] == [C]
        assert now["parentId"] == old["id"]
        assert now["originalId"] == old["id"]
        assert now["labels"] == old["labels"]
        assert now["metadata"]["attemptNumber"] == 2
        assert now["metadata"]["originalCreatedDate"] == old["metadata"]["originalCreatedDate"]
        doc = await h.wait(now["id"])
        assert states_of(doc["state"]) == [C, R, S]
        assert order_of(doc) == ["t1", "t2", "t3", "t4", "t5"]

        unknown = await service.replay_execution(h.engine, old["id"], "nope")
        assert isinstance(unknown, service.NotFound)
        paused = await h.run(paused_flow)
        refused = await service.replay_execution(h.engine, paused["id"], None)
        assert isinstance(refused, service.InvalidState), refused

    run_engine(body)


# --------------------------------------------------------------------------- what the call returns


def test_restart_returns_the_restarted_execution(run_engine: Any) -> None:
    """semantics.md#restart example (Kestra `restart_last_failed`): "After restart: same id,
    parentId null, execution CREATED, RUNNING, FAILED, RESTARTED, c CREATED, RUNNING, FAILED,
    RESTARTED with 1 attempt"."""
    flow = f"""
    id: restart_returned
    namespace: t.engine
    tasks:
    - {{id: a, type: io.kestra.plugin.core.log.Log, message: a}}
    - id: c
      type: io.kestra.plugin.scripts.shell.Commands
      commands:
        - {FIRST_TRY_FAILS}
    """

    async def body(h: Harness) -> None:
        first = await h.run(flow)
        restarted = await service.restart_execution(h.engine, first["id"])
        assert isinstance(restarted, model.Execution), restarted
        now = document.execution_document(restarted)
        await h.wait(first["id"])
        assert states_of(now["state"]) == [C, R, F, RS]
        c = run_of(now, "c")
        assert states_of(c["state"]) == [C, R, F, RS]
        assert len(c["attempts"]) == 1

    run_engine(body)


def test_replay_returns_the_restarted_copy(run_engine: Any) -> None:
    """semantics.md#replay with a task run: 2 task runs, the second RESTARTED with 4 entries;
    execution RESTARTED with 4 entries."""

    async def body(h: Harness) -> None:
        old = await h.run(LOGS)
        replayed = await service.replay_execution(h.engine, old["id"], old["taskRunList"][1]["id"])
        assert isinstance(replayed, model.Execution), replayed
        now = document.execution_document(replayed)
        await h.wait(now["id"])
        assert states_of(now["state"]) == [C, R, S, RS]
        assert order_of(now) == ["t1", "t2"]
        assert states_of(now["taskRunList"][1]["state"]) == [C, R, S, RS]
        assert len(now["taskRunList"][1]["attempts"]) == 1

    run_engine(body)


def test_replay_without_task_run_returns_a_created_execution(run_engine: Any) -> None:
    """semantics.md#replay: without taskRunId the new execution has state CREATED (one entry), no
    task runs."""

    async def body(h: Harness) -> None:
        old = await h.run(LOGS)
        replayed = await service.replay_execution(h.engine, old["id"], None)
        assert isinstance(replayed, model.Execution), replayed
        now = document.execution_document(replayed)
        await h.wait(now["id"])
        assert states_of(now["state"]) == [C]
        assert now["taskRunList"] == []

    run_engine(body)


def test_returned_execution_is_not_mutated_afterwards(run_engine: Any) -> None:
    """The value a lifecycle call returns is what was committed at that point: the engine must
    not keep mutating the caller's object as the execution progresses."""

    async def body(h: Harness) -> None:
        old = await h.run(LOGS)
        replayed = await service.replay_execution(h.engine, old["id"], None)
        assert isinstance(replayed, model.Execution), replayed
        snapshot = document.execution_document(replayed)
        await h.wait(replayed.id)
        assert document.execution_document(replayed) == snapshot

    run_engine(body)


def test_restart_does_not_pause_an_already_paused_pause_again(run_engine: Any) -> None:
    """semantics.md#restart, item 4: a Pause that already paused does not pause again."""
    flow = """
    id: restart-pause
    namespace: t.engine
    tasks:
      - id: hold
        type: io.kestra.plugin.core.flow.Pause
        delay: PT0.05S
        tasks:
          - id: inner
            type: io.kestra.plugin.core.debug.Return
            format: "{{ taskrun.attemptsCount >= 1 ? 'ok' : missing_on_purpose }}"
    """

    async def body(h: Harness) -> None:
        first = await h.run(flow)
        assert first["state"]["current"] == F
        assert states_of(run_of(first, "hold")["state"]) == [C, R, P, R, F]
        await service.restart_execution(h.engine, first["id"])
        doc = await h.wait(first["id"])
        assert doc["state"]["current"] == S
        assert states_of(doc["state"]) == [C, R, P, RS, R, F, RS, R, S]
        assert states_of(run_of(doc, "hold")["state"]) == [C, R, P, R, F, R, S]
        assert attempt_states(run_of(doc, "inner")) == [[C, R, F], [C, R, S]]

    run_engine(body)
