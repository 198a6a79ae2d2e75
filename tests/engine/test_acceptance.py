"""Kestra's own test flows (kestra-io/kestra, core/src/test/resources/flows/valids/, each named
below) and the retry examples of semantics.md#retry-failed-task, run on a real engine."""

from __future__ import annotations

from typing import Any

import pytest
from tests.engine.conftest import (
    Harness,
    attempt_states,
    log_messages,
    micros,
    order_of,
    run_of,
    runs_of,
    states_of,
)

from tercel.clock import FakeClock

C, R, F, RT, W, S = "CREATED", "RUNNING", "FAILED", "RETRYING", "WARNING", "SUCCESS"
ATTEMPT_FAILED = [C, R, F]


def test_allow_failure_flow(run_engine: Any) -> None:
    """Kestra `allow-failure.yaml`: TR 9, WARNING; `ko` FAILED, `local-error` SUCCESS, no
    `global-error`."""
    flow = """
    id: allow-failure
    namespace: t.engine
    inputs:
      - id: crash
        type: STRING
        required: false
    tasks:
      - id: first
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: 1-1-allow-failure
            type: io.kestra.plugin.core.flow.AllowFailure
            tasks:
              - id: 1-1-1_seq
                type: io.kestra.plugin.core.flow.Sequential
                tasks:
                  - id: 1-1-1-1
                    type: io.kestra.plugin.core.debug.Return
                    format: "{{task.id}} > {{taskrun.startDate}}"
                  - id: ko
                    type: io.kestra.plugin.core.execution.Fail
                  - id: 1-1-1-3
                    type: io.kestra.plugin.core.debug.Return
                    format: "{{task.id}} > {{taskrun.startDate}}"
            errors:
              - id: local-error
                type: io.kestra.plugin.core.debug.Return
                format: "Error Trigger ! {{task.id}}"
          - id: 1-2-todo
            type: io.kestra.plugin.core.debug.Return
            format: "{{task.id}} > {{taskrun.startDate}}"
      - id: switch
        type: io.kestra.plugin.core.flow.Switch
        value: "{{ inputs.crash is defined }}"
        cases:
          "true":
            - id: crash
              type: io.kestra.plugin.core.execution.Fail
        defaults:
          - id: last
            type: io.kestra.plugin.core.debug.Return
            format: "{{task.id}} > {{taskrun.startDate}}"
    errors:
      - id: global-error
        type: io.kestra.plugin.core.debug.Return
        format: "Error Trigger ! {{task.id}}"
    """

    async def body(h: Harness) -> None:
        doc = await h.run(flow)
        assert doc["state"]["current"] == W
        assert states_of(doc["state"]) == [C, R, W]
        assert order_of(doc) == [
            "first",
            "1-1-allow-failure",
            "1-1-1_seq",
            "1-1-1-1",
            "ko",
            "local-error",
            "1-2-todo",
            "switch",
            "last",
        ]
        assert run_of(doc, "ko")["state"]["current"] == F
        assert attempt_states(run_of(doc, "ko")) == [ATTEMPT_FAILED]
        assert run_of(doc, "1-1-1_seq")["state"]["current"] == F
        assert run_of(doc, "1-1-allow-failure")["state"]["current"] == W
        assert run_of(doc, "first")["state"]["current"] == W
        assert run_of(doc, "local-error")["state"]["current"] == S
        assert (
            run_of(doc, "local-error")["parentTaskRunId"] == run_of(doc, "1-1-allow-failure")["id"]
        )
        assert run_of(doc, "switch")["outputs"] == {"value": "false", "defaults": True}
        assert runs_of(doc, "global-error") == []
        assert runs_of(doc, "1-1-1-3") == []
        assert runs_of(doc, "crash") == []

    run_engine(body)


@pytest.mark.parametrize(
    ("param", "branch"),
    [
        (True, "when-true"),
        ("true", "when-true"),
        (1, "when-true"),
        (False, "when-false"),
        ("false", "when-false"),
        (0, "when-false"),
        ("-0", "when-false"),
    ],
)
def test_if_condition(run_engine: Any, param: Any, branch: str) -> None:
    """Kestra `if-condition.yaml`: true, "true", 1 → then; false, "false", 0, -0 → else; TR 2."""
    flow = """
    id: if-condition
    namespace: t.engine
    inputs:
      - id: param
        type: STRING
    tasks:
      - id: if
        type: io.kestra.plugin.core.flow.If
        condition: "{{inputs.param}}"
        then:
          - id: when-true
            type: io.kestra.plugin.core.log.Log
            message: 'Condition was true'
        else:
          - id: when-false
            type: io.kestra.plugin.core.log.Log
            message: 'Condition was false'
    """

    async def body(h: Harness) -> None:
        doc = await h.run(flow, {"param": param})
        assert doc["state"]["current"] == S
        assert order_of(doc) == ["if", branch]
        assert run_of(doc, "if")["outputs"] == {"evaluationResult": branch == "when-true"}
        assert run_of(doc, branch)["parentTaskRunId"] == run_of(doc, "if")["id"]

    run_engine(body)


def test_task_runif(run_engine: Any) -> None:
    """Kestra `task-runif.yml` (baseline version): FAILED, TR 4, `notexecuted` SKIPPED."""
    flow = """
    id: task-runif
    namespace: t.engine
    tasks:
      - id: output
        type: io.kestra.plugin.core.output.OutputValues
        values:
          taskrun_data: 1
      - id: executed
        type: io.kestra.plugin.core.log.Log
        runIf: "{{ outputs.output['values']['taskrun_data'] == 1 }}"
        message:
          - "success"
      - id: notexecuted
        type: io.kestra.plugin.core.log.Log
        runIf: "{{ outputs.output['values']['taskrun_data'] == 2 }}"
        message:
          - "should not be printed"
      - id: willfailedtheflow
        type: io.kestra.plugin.core.log.Log
        runIf: "{{ outputs.notexists == 2 }}"
        message:
          - "should failed"
    """

    async def body(h: Harness) -> None:
        doc = await h.run(flow)
        assert doc["state"]["current"] == F
        assert order_of(doc) == ["output", "executed", "notexecuted", "willfailedtheflow"]
        skipped = run_of(doc, "notexecuted")
        assert states_of(skipped["state"]) == [C, "SKIPPED"]
        assert skipped["attempts"] is None
        failed = run_of(doc, "willfailedtheflow")
        assert states_of(failed["state"]) == [C, F]
        assert failed["attempts"] is None
        assert run_of(doc, "executed")["state"]["current"] == S
        messages = log_messages(h.db_path, doc["id"])
        assert "success" in messages
        assert "should not be printed" not in messages

    run_engine(body)


def test_retry_success_warning_on_retry(run_engine: Any) -> None:
    """`retry-success.yaml`: WARNING, TR 1, 4 attempts. (Kestra's file succeeds at
    `attemptsCount == 4`; with the count of attempts *before* this one, semantics.md#runnables, the
    4th attempt sees 3.)"""
    flow = """
    id: retry-success
    namespace: t.engine
    tasks:
    - id: failed
      type: io.kestra.plugin.core.log.Log
      message: "{{ taskrun.attemptsCount == 3 ? 'ok' : ko}}"
      retry:
        type: constant
        interval: PT0.02S
        maxAttempt: 5
        maxDuration: PT15S
        warningOnRetry: true
    errors:
      - id: never-happen
        type: io.kestra.plugin.core.log.Log
        message: Never {{task.id}}
    """

    async def body(h: Harness) -> None:
        doc = await h.run(flow)
        assert doc["state"]["current"] == W
        assert order_of(doc) == ["failed"]
        run = run_of(doc, "failed")
        assert run["state"]["current"] == W
        assert attempt_states(run) == [ATTEMPT_FAILED] * 3 + [[C, R, S]]
        assert states_of(run["state"]) == [C, R, F, RT] * 3 + [C, R, W]
        assert states_of(doc["state"]) == [C, R] + [F, RT, R] * 3 + [W]

    run_engine(body)


def test_retry_failed_then_errors(run_engine: Any) -> None:
    """`retry-failed.yaml`: FAILED, TR 2 (errors ran after the 5th attempt)."""
    flow = """
    id: retry-failed
    namespace: t.engine
    tasks:
    - id: failed
      type: io.kestra.plugin.scripts.shell.Commands
      commands:
      - 'exit 1'
      retry:
        type: constant
        interval: PT0.02S
        maxAttempt: 5
        maxDuration: PT15S
    errors:
      - id: t2
        type: io.kestra.plugin.core.debug.Echo
        format: second {{task.id}}
    """

    async def body(h: Harness) -> None:
        doc = await h.run(flow)
        assert doc["state"]["current"] == F
        assert order_of(doc) == ["failed", "t2"]
        failed = run_of(doc, "failed")
        assert attempt_states(failed) == [ATTEMPT_FAILED] * 5
        t2 = run_of(doc, "t2")
        assert t2["parentTaskRunId"] is None
        assert t2["state"]["current"] == S
        # errors start only after the last attempt failed (semantics.md#retry-failed-task, item 3)
        last_end = failed["attempts"][-1]["state"]["endDate"]
        assert t2["state"]["startDate"] >= last_end

    run_engine(body)


def test_pause_delay(run_engine: Any) -> None:
    """`pause-delay.yaml`: PAUSED (TR 1), then SUCCESS (TR 3); Pause history has PAUSED ×1 and
    RUNNING ×2."""
    flow = """
    id: pause-delay
    namespace: t.engine
    tasks:
      - id: pause
        type: io.kestra.plugin.core.flow.Pause
        delay: PT0.3S
        tasks:
          - id: ko
            type: io.kestra.plugin.scripts.shell.Commands
            commands:
              - echo "trigger 1 seconds pause"
      - id: last
        type: io.kestra.plugin.core.debug.Return
        format: "{{task.id}} > {{taskrun.startDate}}"
    """

    clock = FakeClock()

    async def body(h: Harness) -> None:
        flow_def = await h.deploy(flow)
        created = await h.create(flow_def)
        paused = await h.wait_for(created.id, lambda d: d["state"]["current"] == "PAUSED")
        await h.advance(clock, 0.299)  # the delay is not over: nothing moves
        paused = await h.doc(created.id)
        h.check(paused)
        assert states_of(paused["state"]) == [C, R, "PAUSED"]
        assert order_of(paused) == ["pause"]
        assert states_of(run_of(paused, "pause")["state"]) == [C, R, "PAUSED"]
        await h.advance(clock, 0.001)
        doc = await h.wait(created.id)
        assert doc["state"]["current"] == S
        assert states_of(doc["state"]) == [C, R, "PAUSED", "RESTARTED", R, S]
        assert order_of(doc) == ["pause", "ko", "last"]
        pause = run_of(doc, "pause")
        assert states_of(pause["state"]) == [C, R, "PAUSED", R, S]
        assert pause["attempts"] is None
        assert pause["outputs"] == {}
        hist = pause["state"]["histories"]
        assert hist[3]["date"] >= hist[2]["date"]
        waited = micros(hist[3]["date"]) - micros(hist[2]["date"])
        assert waited == 300_000  # the delay, to the microsecond
        assert run_of(doc, "ko")["parentTaskRunId"] == pause["id"]

    run_engine(body, clock=clock)


def test_retry_top_level_fail_exact_histories(run_engine: Any) -> None:
    """semantics.md#retry-failed-task example: a top-level Fail with maxAttempt 3."""
    flow = """
    id: retry-top
    namespace: t.engine
    tasks:
      - id: fail
        type: io.kestra.plugin.core.execution.Fail
        retry: {type: constant, interval: PT0.02S, maxAttempt: 3}
      - id: never
        type: io.kestra.plugin.core.log.Log
        message: unreachable
    """

    async def body(h: Harness) -> None:
        doc = await h.run(flow)
        run = run_of(doc, "fail")
        assert states_of(run["state"]) == [C, R, F, RT, C, R, F, RT, C, R, F]
        assert attempt_states(run) == [ATTEMPT_FAILED] * 3
        assert states_of(doc["state"]) == [C, R, F, RT, R, F, RT, R, F]
        assert order_of(doc) == ["fail"]

    run_engine(body)


def test_retry_inside_sequential_exact_histories(run_engine: Any) -> None:
    """semantics.md#retry-failed-task example, the same Fail inside a Sequential: the execution
    never shows FAILED before the end; the Sequential stays RUNNING while its child retries."""
    flow = """
    id: retry-nested
    namespace: t.engine
    tasks:
      - id: seq
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: fail
            type: io.kestra.plugin.core.execution.Fail
            retry: {type: constant, interval: PT0.02S, maxAttempt: 3}
          - id: never
            type: io.kestra.plugin.core.log.Log
            message: unreachable
    """

    async def body(h: Harness) -> None:
        doc = await h.run(flow)
        run = run_of(doc, "fail")
        assert states_of(run["state"]) == [C, R, F, RT, C, R, F, RT, C, R, F]
        assert attempt_states(run) == [ATTEMPT_FAILED] * 3
        assert states_of(doc["state"]) == [C, R, RT, R, RT, R, F]
        assert states_of(run_of(doc, "seq")["state"]) == [C, R, F]
        assert run_of(doc, "seq")["attempts"] is None
        assert order_of(doc) == ["seq", "fail"]

    run_engine(body)


def test_retry_allow_failure_continues(run_engine: Any) -> None:
    """semantics.md#flags: with allowFailure the final task run is WARNING, its three attempts
    FAILED, and the flow continues."""
    flow = """
    id: retry-allow
    namespace: t.engine
    tasks:
      - id: fail
        type: io.kestra.plugin.core.execution.Fail
        allowFailure: true
        retry: {type: constant, interval: PT0.02S, maxAttempt: 3}
      - id: next
        type: io.kestra.plugin.core.log.Log
        message: continues
    """

    async def body(h: Harness) -> None:
        doc = await h.run(flow)
        run = run_of(doc, "fail")
        assert run["state"]["current"] == W
        assert states_of(run["state"])[:10] == [C, R, F, RT, C, R, F, RT, C, R]
        assert attempt_states(run) == [ATTEMPT_FAILED] * 3
        assert order_of(doc) == ["fail", "next"]
        assert run_of(doc, "next")["state"]["current"] == S
        assert doc["state"]["current"] == W

    run_engine(body)


def test_warning_on_retry_from_second_attempt(run_engine: Any) -> None:
    """semantics.md#retries (`warningOnRetry`): success on attempt 2 with warningOnRetry → task run
    WARNING, attempt SUCCESS."""
    flow = """
    id: warn-retry
    namespace: t.engine
    tasks:
      - id: once
        type: io.kestra.plugin.core.log.Log
        message: fine
        retry: {type: constant, interval: PT0.02S, maxAttempt: 3, warningOnRetry: true}
      - id: second
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.attemptsCount >= 1 ? 'ok' : missing_on_purpose }}"
        retry: {type: constant, interval: PT0.02S, maxAttempt: 3, warningOnRetry: true}
      - id: plain
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.attemptsCount >= 1 ? 'ok' : missing_on_purpose }}"
        retry: {type: constant, interval: PT0.02S, maxAttempt: 3}
    """

    async def body(h: Harness) -> None:
        doc = await h.run(flow)
        assert doc["state"]["current"] == W
        once = run_of(doc, "once")
        assert states_of(once["state"]) == [C, R, S]
        assert attempt_states(once) == [[C, R, S]]
        second = run_of(doc, "second")
        assert states_of(second["state"]) == [C, R, F, RT, C, R, W]
        assert attempt_states(second) == [ATTEMPT_FAILED, [C, R, S]]
        assert second["outputs"] == {"value": "ok"}
        plain = run_of(doc, "plain")
        assert states_of(plain["state"]) == [C, R, F, RT, C, R, S]
        assert attempt_states(plain) == [ATTEMPT_FAILED, [C, R, S]]
        assert states_of(doc["state"]) == [C, R, F, RT, R, F, RT, R, W]

    run_engine(body)


def test_creation_order_worked_example(run_engine: Any) -> None:
    """semantics.md#creation example: loop, x@a, y@a, x@b, y@b, fan, p1, p2, end."""
    flow = """
    id: order
    namespace: t.engine
    tasks:
      - id: loop
        type: io.kestra.plugin.core.flow.ForEach
        values: [a, b]
        tasks:
          - {id: x, type: io.kestra.plugin.core.debug.Return, format: "{{ taskrun.value }}"}
          - {id: y, type: io.kestra.plugin.core.log.Log, message: hi}
      - id: fan
        type: io.kestra.plugin.core.flow.Parallel
        tasks:
          - {id: p1, type: io.kestra.plugin.core.log.Log, message: "1"}
          - {id: p2, type: io.kestra.plugin.core.log.Log, message: "2"}
      - {id: end, type: io.kestra.plugin.core.debug.Return, format: end}
    """

    async def body(h: Harness) -> None:
        doc = await h.run(flow)
        assert doc["state"]["current"] == S
        pairs = [(r["taskId"], r["value"]) for r in doc["taskRunList"]]
        assert pairs == [
            ("loop", None),
            ("x", "a"),
            ("y", "a"),
            ("x", "b"),
            ("y", "b"),
            ("fan", None),
            ("p1", None),
            ("p2", None),
            ("end", None),
        ]
        loop = run_of(doc, "loop")
        xs = runs_of(doc, "x")
        assert [x["iteration"] for x in xs] == [0, 1]
        assert all(x["parentTaskRunId"] == loop["id"] for x in xs)
        assert [x["outputs"] for x in xs] == [{"value": "a"}, {"value": "b"}]

    run_engine(body)
