"""Pause and resume (semantics.md#pause): onResume inputs, invalid resumes, several paused branches,
timeout."""

from __future__ import annotations

from typing import Any

from tests.engine.conftest import Harness, micros, order_of, run_of, runs_of, states_of

from tercel.clock import FakeClock
from tercel.engine import model, service

C, R, P, RS, S, F = "CREATED", "RUNNING", "PAUSED", "RESTARTED", "SUCCESS", "FAILED"

ON_RESUME = """
id: resume-inputs
namespace: t.engine
tasks:
  - id: hold
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: asked
        type: STRING
      - id: count
        type: INT
        defaults: 3
      - id: note
        type: STRING
        required: false
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.hold.onResume.asked }}-{{ outputs.hold.onResume.count }}"
"""


def test_resume_with_on_resume_inputs(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        paused = await h.run(ON_RESUME)
        assert states_of(paused["state"]) == [C, R, P]
        assert order_of(paused) == ["hold"]

        # invalid: `asked` missing, `count` not an INT → InvalidInputs, nothing changes
        bad = await service.resume_execution(h.engine, paused["id"], {"count": "many"})
        assert isinstance(bad, service.InvalidInputs), bad
        messages = [issue.message for issue in bad.issues]
        assert len(messages) == 2, messages
        assert any("`asked`" in m and "missing required input" in m for m in messages)
        assert any("`count`" in m for m in messages)
        still = await h.doc(paused["id"])
        assert still == paused

        good = await service.resume_execution(
            h.engine, paused["id"], {"asked": "yes", "ignored": 1}
        )
        assert isinstance(good, model.Execution), good
        doc = await h.wait(paused["id"])
        assert doc["state"]["current"] == S
        assert states_of(doc["state"]) == [C, R, P, RS, R, S]
        hold = run_of(doc, "hold")
        assert states_of(hold["state"]) == [C, R, P, S]
        assert hold["outputs"] == {"onResume": {"asked": "yes", "count": 3, "note": None}}
        assert run_of(doc, "after")["outputs"] == {"value": "yes-3"}
        assert order_of(doc) == ["hold", "after"]

    run_engine(body)


def test_resume_of_a_non_paused_execution(run_engine: Any) -> None:
    flow = """
    id: resume-done
    namespace: t.engine
    tasks:
      - id: only
        type: io.kestra.plugin.core.log.Log
        message: done
    """

    async def body(h: Harness) -> None:
        doc = await h.run(flow)
        result = await service.resume_execution(h.engine, doc["id"], {})
        assert isinstance(result, service.InvalidState), result
        assert await h.doc(doc["id"]) == doc
        missing = await service.resume_execution(h.engine, "nope", {})
        assert isinstance(missing, service.NotFound)

    run_engine(body)


def test_resume_one_of_two_paused_branches(run_engine: Any) -> None:
    """semantics.md#pause, items 3 and 4: resume takes the first PAUSED task run; the execution
    stays PAUSED until the last Pause resumes."""
    flow = """
    id: resume-two
    namespace: t.engine
    tasks:
      - id: fan
        type: io.kestra.plugin.core.flow.Parallel
        tasks:
          - id: left
            type: io.kestra.plugin.core.flow.Pause
            tasks:
              - {id: left_after, type: io.kestra.plugin.core.log.Log, message: left}
          - id: right
            type: io.kestra.plugin.core.flow.Pause
      - id: tail
        type: io.kestra.plugin.core.log.Log
        message: tail
    """

    async def body(h: Harness) -> None:
        paused = await h.run(flow)
        assert states_of(paused["state"]) == [C, R, P]
        assert [r["state"]["current"] for r in paused["taskRunList"]] == [R, P, P]

        await service.resume_execution(h.engine, paused["id"], None)
        once = await h.wait_for(
            paused["id"],
            lambda d: (
                bool(runs_of(d, "left_after"))
                and run_of(d, "left_after")["state"]["current"] == S
                and run_of(d, "left")["state"]["current"] == S
            ),
            what="left branch done",
        )
        once = await h.wait(paused["id"])
        assert states_of(once["state"]) == [C, R, P]
        assert states_of(run_of(once, "left")["state"]) == [C, R, P, R, S]
        assert states_of(run_of(once, "right")["state"]) == [C, R, P]

        await service.resume_execution(h.engine, paused["id"], None)
        doc = await h.wait(paused["id"])
        assert states_of(doc["state"]) == [C, R, P, RS, R, S]
        assert states_of(run_of(doc, "right")["state"]) == [C, R, P, S]
        assert order_of(doc) == ["fan", "left", "right", "left_after", "tail"]

    run_engine(body)


def test_pause_timeout_fails_and_runs_errors(run_engine: Any) -> None:
    flow = """
    id: pause-timeout
    namespace: t.engine
    tasks:
      - id: hold
        type: io.kestra.plugin.core.flow.Pause
        timeout: PT0.1S
      - id: never
        type: io.kestra.plugin.core.log.Log
        message: unreachable
    errors:
      - id: handler
        type: io.kestra.plugin.core.log.Log
        message: timed out
    """

    clock = FakeClock()

    async def body(h: Harness) -> None:
        created = await h.create(await h.deploy(flow))
        await h.wait_for(created.id, lambda d: d["state"]["current"] == P, what="PAUSED")
        await h.advance(clock, 0.099)  # before the timeout: still paused
        assert (await h.doc(created.id))["state"]["current"] == P
        await h.advance(clock, 0.001)
        doc = await h.wait(created.id)
        assert doc["state"]["current"] == F
        hold = run_of(doc, "hold")
        assert states_of(hold["state"]) == [C, R, P, F]
        paused, failed = (micros(entry["date"]) for entry in hold["state"]["histories"][2:])
        assert failed - paused == 100_000  # the timeout, to the microsecond
        assert order_of(doc) == ["hold", "handler"]
        assert states_of(doc["state"]) == [C, R, P, RS, R, F]

    run_engine(body, clock=clock)
