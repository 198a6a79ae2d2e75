"""More lifecycle scenarios: restart of a subflow and inside loops, replay inside a Sequential,
new-execution retries, failures that never cancel running siblings, subflow recovery."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.engine.conftest import (
    Harness,
    attempt_states,
    db_rows,
    flow_yaml,
    micros,
    order_of,
    run_of,
    runs_of,
    states_of,
    with_engine,
)

from tercel.clock import FakeClock, from_micros
from tercel.engine import model, service
from tercel.engine.run import document

C, R, S, F, RS, RD, W = "CREATED", "RUNNING", "SUCCESS", "FAILED", "RESTARTED", "RETRIED", "WARNING"


def test_restart_recreates_a_subflow_child(run_engine: Any) -> None:
    broken = """
    id: fixable
    namespace: t.engine.sub
    tasks:
      - {id: boom, type: io.kestra.plugin.core.execution.Fail}
    """
    fixed = """
    id: fixable
    namespace: t.engine.sub
    tasks:
      - {id: fine, type: io.kestra.plugin.core.log.Log, message: fixed}
    """
    parent = """
    id: parent-restart
    namespace: t.engine
    tasks:
      - id: call
        type: io.kestra.plugin.core.flow.Subflow
        namespace: t.engine.sub
        flowId: fixable
      - {id: after, type: io.kestra.plugin.core.log.Log, message: after}
    """

    async def body(h: Harness) -> None:
        await h.deploy(broken)
        first = await h.run(parent)
        assert first["state"]["current"] == F
        old_child = run_of(first, "call")["outputs"]["executionId"]
        await h.deploy(fixed)
        restarted = await service.restart_execution(h.engine, first["id"])
        assert isinstance(restarted, model.Execution), restarted
        doc = await h.wait(first["id"])
        assert doc["state"]["current"] == S
        call = run_of(doc, "call")
        assert states_of(call["state"]) == [C, R, F, RS, R, S]
        assert call["attempts"] is None
        new_child = call["outputs"]["executionId"]
        assert new_child != old_child
        child = await h.wait(new_child)
        assert child["state"]["current"] == S
        assert order_of(child) == ["fine"]
        assert order_of(doc) == ["call", "after"]
        assert (await h.doc(old_child))["state"]["current"] == F

    run_engine(body)


def test_restart_inside_a_foreach_reruns_only_the_failed_pair(run_engine: Any) -> None:
    first_try = "{{ taskrun.value == 'b' and taskrun.attemptsCount == 0 ? missing : 'ok' }}"
    flow = f"""
    id: restart-loop
    namespace: t.engine
    tasks:
      - id: loop
        type: io.kestra.plugin.core.flow.ForEach
        values: [a, b, c]
        concurrencyLimit: 0
        tasks:
          - id: work
            type: io.kestra.plugin.core.debug.Return
            format: "{first_try}"
    """

    async def body(h: Harness) -> None:
        first = await h.run(flow)
        assert first["state"]["current"] == F
        assert [r["value"] for r in runs_of(first, "work")] == ["a", "b", "c"]
        await service.restart_execution(h.engine, first["id"])
        doc = await h.wait(first["id"])
        assert doc["state"]["current"] == S
        assert states_of(run_of(doc, "loop")["state"]) == [C, R, F, R, S]
        works = {r["value"]: r for r in runs_of(doc, "work")}
        assert list(works) == ["a", "b", "c"]
        assert attempt_states(works["a"]) == [[C, R, S]]
        assert attempt_states(works["c"]) == [[C, R, S]]
        assert attempt_states(works["b"]) == [[C, R, F], [C, R, S]]
        assert states_of(works["b"]["state"]) == [C, R, F, RS, R, S]
        assert works["a"] == {**runs_of(first, "work")[0]}

    run_engine(body)


def test_replay_inside_a_sequential_drops_successors(run_engine: Any) -> None:
    flow = """
    id: replay-nested
    namespace: t.engine
    tasks:
      - id: seq
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - {id: s1, type: io.kestra.plugin.core.log.Log, message: one}
          - {id: s2, type: io.kestra.plugin.core.log.Log, message: two}
          - {id: s3, type: io.kestra.plugin.core.log.Log, message: three}
      - {id: t4, type: io.kestra.plugin.core.log.Log, message: four}
    finally:
      - {id: fin, type: io.kestra.plugin.core.log.Log, message: finally}
    """

    async def body(h: Harness) -> None:
        old = await h.run(flow)
        assert order_of(old) == ["seq", "s1", "s2", "s3", "t4", "fin"]
        replayed = await service.replay_execution(h.engine, old["id"], run_of(old, "s2")["id"])
        assert isinstance(replayed, model.Execution), replayed
        now = document.execution_document(replayed)
        # copies: seq (ancestor, RUNNING), s1 (kept), s2 (RESTARTED); s3, t4, fin dropped
        assert order_of(now)[:3] == ["seq", "s1", "s2"]
        assert states_of(run_of(now, "seq")["state"])[:4] == [C, R, S, R]
        assert run_of(now, "s2")["parentTaskRunId"] == run_of(now, "seq")["id"]
        doc = await h.wait(now["id"])
        assert doc["state"]["current"] == S
        assert order_of(doc) == ["seq", "s1", "s2", "s3", "t4", "fin"]
        assert states_of(run_of(doc, "seq")["state"]) == [C, R, S, R, S]
        assert attempt_states(run_of(doc, "s1")) == [[C, R, S]]
        assert attempt_states(run_of(doc, "s2")) == [[C, R, S], [C, R, S]]
        assert attempt_states(run_of(doc, "s3")) == [[C, R, S]]
        old_ids = {r["id"] for r in old["taskRunList"]}
        assert not old_ids & {r["id"] for r in doc["taskRunList"]}

    run_engine(body)


def test_create_new_execution_retry_chain(run_engine: Any) -> None:
    """semantics.md#retry-new-execution: with maxAttempt 3, three executions end RETRIED, RETRIED,
    FAILED."""
    flow = """
    id: new-exec-retry
    namespace: t.engine
    tasks:
      - id: boom
        type: io.kestra.plugin.core.execution.Fail
        retry:
          type: constant
          interval: PT0.05S
          maxAttempt: 3
          behavior: CREATE_NEW_EXECUTION
    """

    clock = FakeClock()

    async def body(h: Harness) -> None:
        # I2 is checked separately (test_retried_execution_keeps_no_timer)
        first = await h.run(flow, labels=[model.Label("k", "v")], i2=False)
        assert first["state"]["current"] == RD
        assert states_of(first["state"]) == [C, R, F, RD]
        assert states_of(run_of(first, "boom")["state"]) == [C, R, F, RD]

        async def chain() -> list[tuple[str, ...]]:
            return db_rows(
                h.db_path,
                "SELECT id, state_current, parent_id, attempt_number FROM executions"
                " WHERE original_id = ? ORDER BY attempt_number",
                first["id"],
            )

        # each replacement waits CREATED for the 0.05 s interval, on the engine's clock
        for attempt in (2, 3):
            await h.advance(clock, 0.049)
            assert [r[1] for r in await chain()][attempt - 1 :] == [C], "started early"
            await h.advance(clock, 0.001)
        rows = await chain()
        assert [r[1] for r in rows] == [RD, RD, F]
        assert [r[3] for r in rows] == [1, 2, 3]
        assert rows[1][2] == rows[0][0] and rows[2][2] == rows[1][0]
        for row in rows:
            doc = await h.wait(row[0], i2=False)
            assert doc["labels"] == first["labels"]
            assert doc["originalId"] == first["id"]
            assert (
                doc["metadata"]["originalCreatedDate"] == first["metadata"]["originalCreatedDate"]
            )
            assert len(doc["taskRunList"]) == 1
            assert attempt_states(doc["taskRunList"][0]) == [[C, R, F]]
        last = await h.doc(rows[2][0])
        assert states_of(last["state"]) == [C, R, F]
        docs = [await h.doc(row[0]) for row in rows]
        for before, after in itertools.pairwise(docs):
            ended = micros(before["state"]["histories"][-1]["date"])
            started = micros(after["state"]["histories"][1]["date"])  # RUNNING
            assert started - ended == 50_000  # the interval, to the microsecond

    run_engine(body, clock=clock)


NEW_EXECUTION_RETRY = """
id: new-exec-later
namespace: t.engine
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    retry:
      type: constant
      interval: PT0.3S
      maxAttempt: 2
      behavior: CREATE_NEW_EXECUTION
"""


def test_retried_execution_keeps_no_timer(run_engine: Any) -> None:
    """I2: a terminal execution has no timers left, RETRIED included
    (semantics.md#retry-new-execution: the replacement is stored with its timer)."""

    async def body(h: Harness) -> None:
        first = await h.run(NEW_EXECUTION_RETRY, i2=False)
        assert first["state"]["current"] == RD
        timers = db_rows(
            h.db_path, "SELECT count(*) FROM timers WHERE execution_id = ?", first["id"]
        )
        assert timers[0][0] == 0

    run_engine(body)


def test_new_execution_retry_after_cli_exit_runs_on_the_next_engine(
    tmp_path: Path, db_path: Path
) -> None:
    """semantics.md#retry-new-execution: `tercel run` ends with the RETRIED execution (exit 1); the
    replacement is stored with its timer and a server on the same database runs it."""
    flow_file = tmp_path / "flow.yaml"
    flow_file.write_text(flow_yaml(NEW_EXECUTION_RETRY))
    done = subprocess.run(
        [sys.executable, "-m", "tercel", "run", str(flow_file), "--json", "--db", str(db_path)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    first = json.loads(done.stdout)
    assert first["state"]["current"] == RD

    rows = db_rows(db_path, "SELECT execution_id, due FROM timers WHERE kind = 'START'")
    assert len(rows) == 1, "the replacement's start was not stored"
    [(replacement_id, due)] = rows
    # the server comes back 1 s after that start date, on its own (fake) clock: it is overdue
    later = FakeClock(from_micros(due) + timedelta(seconds=1))

    async def body(h: Harness) -> None:
        await h.turn()  # recovery tracked it; the first iteration fires the overdue start
        found = db_rows(h.db_path, "SELECT id FROM executions WHERE parent_id = ?", first["id"])
        assert found == [(replacement_id,)]
        replacement = await h.wait(replacement_id, i2=False)
        assert replacement["state"]["current"] == F
        assert replacement["metadata"]["attemptNumber"] == 2
        started = micros(replacement["state"]["histories"][1]["date"])  # RUNNING
        assert started == due + 1_000_000

    asyncio.run(asyncio.wait_for(with_engine(db_path, body, clock=later), 60))


def test_a_failure_never_cancels_running_siblings(run_engine: Any) -> None:
    """I1: the Parallel waits for its running sibling before it ends FAILED."""
    flow = """
    id: siblings
    namespace: t.engine
    tasks:
      - id: fan
        type: io.kestra.plugin.core.flow.Parallel
        tasks:
          - {id: boom, type: io.kestra.plugin.core.execution.Fail}
          - {id: nap, type: io.kestra.plugin.core.flow.Sleep, duration: PT0.2S}
    """

    async def body(h: Harness) -> None:
        doc = await h.run(flow)
        assert doc["state"]["current"] == F
        nap = run_of(doc, "nap")
        assert states_of(nap["state"]) == [C, R, S]
        fan = run_of(doc, "fan")
        assert states_of(fan["state"]) == [C, R, F]
        assert micros(fan["state"]["endDate"]) >= micros(nap["state"]["endDate"])

    run_engine(body)


def test_waiting_subflow_parent_survives_an_engine_restart(db_path: Path) -> None:
    child = """
    id: slowish
    namespace: t.engine.sub
    tasks:
      - {id: nap, type: io.kestra.plugin.core.flow.Sleep, duration: PT0.3S}
      - {id: ret, type: io.kestra.plugin.core.debug.Return, format: done}
    outputs:
      - {id: result, type: STRING, value: "{{ outputs.ret.value }}"}
    """
    parent = """
    id: parent-recover
    namespace: t.engine
    tasks:
      - id: call
        type: io.kestra.plugin.core.flow.Subflow
        namespace: t.engine.sub
        flowId: slowish
      - id: after
        type: io.kestra.plugin.core.debug.Return
        format: "{{ outputs.call.outputs.result }}"
    """

    async def first(h: Harness) -> tuple[str, str]:
        await h.deploy(child)
        flow = await h.deploy(parent)
        created = await h.create(flow)
        running = await h.wait_for(
            created.id,
            lambda d: bool(d["taskRunList"]) and d["taskRunList"][0]["state"]["current"] == R,
            what="call RUNNING",
        )
        rows = db_rows(h.db_path, "SELECT id FROM executions WHERE id != ?", created.id)
        assert len(rows) == 1
        assert running["state"]["current"] == R
        return created.id, rows[0][0]

    parent_id, child_id = asyncio.run(with_engine(db_path, first))

    async def second(h: Harness) -> None:
        done = await h.wait(parent_id)
        kid = await h.wait(child_id)
        assert kid["state"]["current"] == S
        assert done["state"]["current"] == S
        call = run_of(done, "call")
        assert states_of(call["state"]) == [C, R, S]
        assert call["outputs"] == {
            "executionId": child_id,
            "state": "SUCCESS",
            "outputs": {"result": "done"},
        }
        assert run_of(done, "after")["outputs"] == {"value": "done"}

    asyncio.run(asyncio.wait_for(with_engine(db_path, second), 60))


def test_allow_warning_and_allow_failure_flags(run_engine: Any) -> None:
    """semantics.md#flags: allowFailure turns FAILED into WARNING; allowWarning then into
    SUCCESS."""
    flow = """
    id: flags
    namespace: t.engine
    tasks:
      - {id: warned, type: io.kestra.plugin.core.execution.Fail, allowFailure: true}
      - id: both
        type: io.kestra.plugin.core.execution.Fail
        allowFailure: true
        allowWarning: true
      - id: wrapper
        type: io.kestra.plugin.core.flow.Sequential
        allowWarning: true
        tasks:
          - {id: inner, type: io.kestra.plugin.core.execution.Fail, allowFailure: true}
    """

    async def body(h: Harness) -> None:
        doc = await h.run(flow)
        assert run_of(doc, "warned")["state"]["current"] == W
        assert attempt_states(run_of(doc, "warned")) == [[C, R, F]]
        assert run_of(doc, "both")["state"]["current"] == S
        assert attempt_states(run_of(doc, "both")) == [[C, R, F]]
        assert run_of(doc, "inner")["state"]["current"] == W
        assert run_of(doc, "wrapper")["state"]["current"] == S
        assert doc["state"]["current"] == W
        assert order_of(doc) == ["warned", "both", "wrapper", "inner"]

    run_engine(body)
