"""Kill (semantics.md#kill): running shell attempts, PAUSED executions, never-started and retrying
task runs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from tests.engine.conftest import (
    Doc,
    Harness,
    attempt_states,
    db_rows,
    order_of,
    pgids_of,
    process_group_alive,
    run_of,
    runs_of,
    states_of,
)

from tercel.engine import service
from tercel.engine.tasks import commands

C, R, K, KG, S = "CREATED", "RUNNING", "KILLED", "KILLING", "SUCCESS"


def _running(task_id: str) -> Any:
    def predicate(doc: Doc) -> bool:
        found = [r for r in doc["taskRunList"] if r["taskId"] == task_id]
        return bool(found) and found[0]["state"]["current"] == R

    return predicate


def test_kill_running_shell_task(run_engine: Any) -> None:
    flow = """
    id: kill-shell
    namespace: t.engine
    tasks:
      - id: first
        type: io.kestra.plugin.core.log.Log
        message: before
      - id: shell
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - sleep 30
      - id: never
        type: io.kestra.plugin.core.log.Log
        message: unreachable
    errors:
      - id: on_error
        type: io.kestra.plugin.core.log.Log
        message: no errors after a kill
    finally:
      - id: on_finally
        type: io.kestra.plugin.core.log.Log
        message: no finally after a kill
    """

    async def body(h: Harness) -> None:
        flow_def = await h.deploy(flow)
        created = await h.create(flow_def)
        await h.wait_for(created.id, _running("shell"), what="shell RUNNING")
        deadline = time.monotonic() + 5
        while not pgids_of(h.db_path) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        pgids = pgids_of(h.db_path)
        assert pgids, "the shell's process group was never recorded"
        assert all(process_group_alive(p) for p in pgids)

        started = time.monotonic()
        killed = await service.kill_execution(h.engine, created.id)
        assert not isinstance(killed, service.InvalidState | service.NotFound), killed
        assert killed.state.current.value == KG
        doc = await h.wait(created.id, timeout=3.0)
        assert time.monotonic() - started < 3.0

        assert states_of(doc["state"]) == [C, R, KG, K]
        assert order_of(doc) == ["first", "shell"]
        shell = run_of(doc, "shell")
        assert states_of(shell["state"]) == [C, R, K]
        assert attempt_states(shell) == [[C, R, K]]
        assert run_of(doc, "first")["state"]["current"] == S
        assert runs_of(doc, "on_error") == [] and runs_of(doc, "on_finally") == []
        for pgid in pgids:
            assert not process_group_alive(pgid), f"process group {pgid} outlived its attempt"
        rows = db_rows(h.db_path, "SELECT count(*) FROM timers WHERE execution_id = ?", doc["id"])
        assert rows[0][0] == 0

    run_engine(body)


def test_kill_never_started_task_runs(run_engine: Any) -> None:
    """With one worker slot, the second Parallel child waits CREATED; a kill ends it
    `CREATED, KILLED` with no attempt, the flowable `…, KILLING, KILLED`."""
    flow = """
    id: kill-waiting
    namespace: t.engine
    tasks:
      - id: fan
        type: io.kestra.plugin.core.flow.Parallel
        tasks:
          - id: busy
            type: io.kestra.plugin.core.flow.Sleep
            duration: PT30S
          - id: waiting
            type: io.kestra.plugin.core.flow.Sleep
            duration: PT30S
      - id: never
        type: io.kestra.plugin.core.log.Log
        message: unreachable
    """

    async def body(h: Harness) -> None:
        flow_def = await h.deploy(flow)
        created = await h.create(flow_def)
        before = await h.wait_for(created.id, _running("busy"), what="busy RUNNING")
        assert run_of(before, "waiting")["state"]["current"] == C
        await service.kill_execution(h.engine, created.id)
        doc = await h.wait(created.id, timeout=3.0)
        assert states_of(doc["state"]) == [C, R, KG, K]
        assert order_of(doc) == ["fan", "busy", "waiting"]
        assert states_of(run_of(doc, "fan")["state"]) == [C, R, KG, K]
        busy = run_of(doc, "busy")
        assert states_of(busy["state"]) == [C, R, K]
        assert attempt_states(busy) == [[C, R, K]]
        waiting = run_of(doc, "waiting")
        assert states_of(waiting["state"]) == [C, K]
        assert waiting["attempts"] is None

    run_engine(body, worker_slots=1)


def test_kill_paused_execution(run_engine: Any) -> None:
    flow = """
    id: kill-paused
    namespace: t.engine
    tasks:
      - id: hold
        type: io.kestra.plugin.core.flow.Pause
      - id: never
        type: io.kestra.plugin.core.log.Log
        message: unreachable
    """

    async def body(h: Harness) -> None:
        paused = await h.run(flow)
        assert states_of(paused["state"]) == [C, R, "PAUSED"]
        result = await service.kill_execution(h.engine, paused["id"])
        assert not isinstance(result, service.InvalidState | service.NotFound), result
        doc = await h.wait(paused["id"], timeout=3.0)
        assert states_of(doc["state"]) == [C, R, "PAUSED", KG, K]
        assert states_of(run_of(doc, "hold")["state"]) == [C, R, "PAUSED", KG, K]
        assert order_of(doc) == ["hold"]
        resumed = await service.resume_execution(h.engine, doc["id"], None)
        assert isinstance(resumed, service.InvalidState)

    run_engine(body)


def test_kill_retrying_task_run_cancels_the_timer(run_engine: Any) -> None:
    flow = """
    id: kill-retrying
    namespace: t.engine
    tasks:
      - id: fail
        type: io.kestra.plugin.core.execution.Fail
        retry: {type: constant, interval: PT30S, maxAttempt: 3}
    """

    async def body(h: Harness) -> None:
        flow_def = await h.deploy(flow)
        created = await h.create(flow_def)
        await h.wait_for(created.id, lambda d: d["state"]["current"] == "RETRYING", what="RETRYING")
        timers = "SELECT count(*) FROM timers WHERE execution_id = ?"
        assert db_rows(h.db_path, timers, created.id)[0][0] == 1
        await service.kill_execution(h.engine, created.id)
        doc = await h.wait(created.id, timeout=3.0)
        assert states_of(doc["state"]) == [C, R, "FAILED", "RETRYING", KG, K]
        run = run_of(doc, "fail")
        assert states_of(run["state"]) == [C, R, "FAILED", "RETRYING", K]
        assert attempt_states(run) == [[C, R, "FAILED"]]
        assert db_rows(h.db_path, timers, created.id)[0][0] == 0

    run_engine(body)


def test_kill_terminal_and_unknown(run_engine: Any) -> None:
    flow = """
    id: kill-done
    namespace: t.engine
    tasks:
      - id: only
        type: io.kestra.plugin.core.log.Log
        message: done
    """

    async def body(h: Harness) -> None:
        doc = await h.run(flow)
        assert doc["state"]["current"] == S
        result = await service.kill_execution(h.engine, doc["id"])
        assert isinstance(result, service.InvalidState)
        assert result.message == "Execution is already finished, can't kill it"
        after = await h.doc(doc["id"])
        assert after == doc
        missing = await service.kill_execution(h.engine, "nope")
        assert isinstance(missing, service.NotFound)

    run_engine(body)


def _gone(pid: int) -> bool:
    """Neither running nor a zombie (an adopted orphan must also be reaped)."""
    return not Path(f"/proc/{pid}").exists()


#: a script whose grandchild leaves the session and ignores SIGTERM, and writes its pid
ESCAPING = """
id: kill-escaped
namespace: t.engine
tasks:
  - id: shell
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - setsid sh -c 'trap "" TERM HUP; echo $$ > {pidfile}; exec sleep 300' &
      - sleep 300
"""


async def _pid_from(pidfile: Path) -> int:
    """The grandchild's pid, once it wrote it; it is running."""
    deadline = time.monotonic() + 10
    while not (pidfile.exists() and pidfile.read_text().strip()):
        assert time.monotonic() < deadline, "the grandchild never started"
        await asyncio.sleep(0.02)
    pid = int(pidfile.read_text())
    assert not _gone(pid)
    return pid


async def _kill_ends_the_escaped_grandchild(h: Harness, pidfile: Path, timeout: float) -> None:
    """Run ESCAPING, kill it once its grandchild runs: KILLED, and the grandchild gone."""
    created = await h.create(await h.deploy(ESCAPING.format(pidfile=pidfile)))
    grandchild = await _pid_from(pidfile)
    await service.kill_execution(h.engine, created.id)
    doc = await h.wait(created.id, timeout=timeout)
    assert doc["state"]["current"] == K
    assert _gone(grandchild), "a descendant outlived the kill of its execution"


def test_kill_ends_descendants_that_left_the_session(run_engine: Any, tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    run_engine(lambda h: _kill_ends_the_escaped_grandchild(h, pidfile, 6.0))


def test_a_kill_during_the_spawn_ends_and_reaps_the_descendants(
    run_engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill that lands while the script's process exists but its spawn is not finished for
    asyncio (its pipes not yet connected: the window a loaded host widens, here held 1 s
    open) ends the escaped grandchild and reaps it: no zombie is left to the engine."""
    real_spawn = asyncio.create_subprocess_exec

    async def slow_spawn(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        proc = await real_spawn(*args, **kwargs)
        await asyncio.sleep(1.0)
        return proc

    monkeypatch.setattr(commands.asyncio, "create_subprocess_exec", slow_spawn)
    pidfile = tmp_path / "grandchild.pid"
    run_engine(lambda h: _kill_ends_the_escaped_grandchild(h, pidfile, 10.0))
