"""Crash recovery (semantics.md#durability, architecture.md#recovery): a `tercel run` process killed
with SIGKILL mid-attempt, then an engine started again on the same database file; timers (retry,
pause delay) surviving a restart."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
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
    pgids_of,
    process_group_alive,
    run_of,
    runs_of,
    states_of,
    with_engine,
)

from tercel.clock import FakeClock

C, R, S, F, RT, P, RS = "CREATED", "RUNNING", "SUCCESS", "FAILED", "RETRYING", "PAUSED", "RESTARTED"
RESUBMITTED = "RESUBMITTED"

CRASH_FLOW = """
id: crash
namespace: t.engine
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: before the crash
  - id: shell
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - sleep 2
      - echo done
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.shell.exitCode }}"
  - id: last
    type: io.kestra.plugin.core.log.Log
    message: the end
"""


def _shell_attempt_running(db_path: Path) -> bool:
    if not db_path.exists():
        return False
    try:
        rows = db_rows(
            db_path,
            "SELECT a.state_current FROM attempts a JOIN task_runs t ON t.id = a.task_run_id"
            " WHERE t.task_id = 'shell'",
        )
        return rows == [("RUNNING",)] and bool(pgids_of(db_path))
    except Exception:  # the file exists before its schema does
        return False


def _start_and_crash(tmp_path: Path, db_path: Path, source: str, ready: Any) -> None:
    """Run `tercel run` in a subprocess and SIGKILL it once `ready(db_path)` holds."""
    flow_file = tmp_path / "flow.yaml"
    flow_file.write_text(flow_yaml(source))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tercel", "run", str(flow_file), "--json", "--db", str(db_path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while not ready(db_path):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run never reached the crash point"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert out == b""


def test_sigkill_during_a_shell_attempt_then_recover(tmp_path: Path, db_path: Path) -> None:
    _start_and_crash(tmp_path, db_path, CRASH_FLOW, _shell_attempt_running)
    [(execution_id,)] = db_rows(db_path, "SELECT id FROM executions")
    orphans = pgids_of(db_path)
    assert orphans
    assert all(process_group_alive(p) for p in orphans), "the shell died with its engine"

    async def body(h: Harness) -> None:
        # recovery ends the orphan process group before anything runs again
        for pgid in orphans:
            assert not process_group_alive(pgid), f"process group {pgid} survived recovery"
        doc = await h.wait(execution_id, timeout=15)
        assert doc["state"]["current"] == S
        assert states_of(doc["state"]) == [C, R, S]
        assert order_of(doc) == ["first", "shell", "after", "last"]
        shell = run_of(doc, "shell")
        # the task run's own history gets no entry for the resubmission
        assert states_of(shell["state"]) == [C, R, S]
        assert attempt_states(shell) == [[C, R, RESUBMITTED], [C, R, S]]
        lost, again = shell["attempts"]
        assert micros(again["state"]["startDate"]) >= micros(lost["state"]["endDate"])
        assert run_of(doc, "after")["outputs"] == {"value": "0"}
        assert len(runs_of(doc, "first")) == 1
        assert attempt_states(run_of(doc, "first")) == [[C, R, S]]

    asyncio.run(asyncio.wait_for(with_engine(db_path, body), 60))
    for pgid in orphans + pgids_of(db_path):
        assert not process_group_alive(pgid)


SLEEP_FLOW = """
id: stop-mid-sleep
namespace: t.engine
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.5S
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: after
"""


def test_engine_stop_mid_attempt_resubmits_it(db_path: Path) -> None:
    """A graceful engine stop leaves the running attempt RUNNING; the next start resubmits it."""

    async def first(h: Harness) -> str:
        flow = await h.deploy(SLEEP_FLOW)
        created = await h.create(flow)
        await h.wait_for(
            created.id,
            lambda d: bool(d["taskRunList"]) and d["taskRunList"][0]["state"]["current"] == R,
            what="nap RUNNING",
        )
        return created.id

    execution_id = asyncio.run(with_engine(db_path, first))

    async def second(h: Harness) -> None:
        doc = await h.wait(execution_id)
        assert doc["state"]["current"] == S
        nap = run_of(doc, "nap")
        assert states_of(nap["state"]) == [C, R, S]
        assert attempt_states(nap) == [[C, R, RESUBMITTED], [C, R, S]]
        assert order_of(doc) == ["nap", "after"]

    asyncio.run(asyncio.wait_for(with_engine(db_path, second), 60))


RETRY_FLOW = """
id: retry-survives
namespace: t.engine
tasks:
  - id: flaky
    type: io.kestra.plugin.core.debug.Return
    format: "{{ taskrun.attemptsCount >= 1 ? 'ok' : missing_on_purpose }}"
    retry: {type: constant, interval: PT0.3S, maxAttempt: 3}
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: after
"""


def test_pending_retry_timer_survives_a_restart(db_path: Path) -> None:
    clock = FakeClock()

    async def first(h: Harness) -> str:
        flow = await h.deploy(RETRY_FLOW)
        created = await h.create(flow)
        await h.wait_for(created.id, lambda d: d["state"]["current"] == RT, what="RETRYING")
        return created.id

    execution_id = asyncio.run(with_engine(db_path, first, clock=clock))
    timers = db_rows(db_path, "SELECT kind FROM timers WHERE execution_id = ?", execution_id)
    assert len(timers) == 1
    # the next engine starts 0.299 s after the failure: the 0.3 s retry is not due yet
    later = FakeClock(clock.now() + timedelta(seconds=0.299))

    async def second(h: Harness) -> None:
        await h.turn()
        assert (await h.doc(execution_id))["state"]["current"] == RT
        await h.advance(later, 0.001)
        doc = await h.wait(execution_id)
        assert doc["state"]["current"] == S
        assert states_of(doc["state"]) == [C, R, F, RT, R, S]
        flaky = run_of(doc, "flaky")
        assert states_of(flaky["state"]) == [C, R, F, RT, C, R, S]
        assert attempt_states(flaky) == [[C, R, F], [C, R, S]]
        first_end = micros(flaky["attempts"][0]["state"]["endDate"])
        second_start = micros(flaky["attempts"][1]["state"]["startDate"])
        assert second_start - first_end == 300_000  # the interval, to the microsecond
        assert order_of(doc) == ["flaky", "after"]
        left = db_rows(db_path, "SELECT count(*) FROM timers WHERE execution_id = ?", execution_id)
        assert left[0][0] == 0

    asyncio.run(asyncio.wait_for(with_engine(db_path, second, clock=later), 60))


PAUSE_FLOW = """
id: pause-survives
namespace: t.engine
tasks:
  - id: hold
    type: io.kestra.plugin.core.flow.Pause
    delay: PT0.5S
    tasks:
      - id: inside
        type: io.kestra.plugin.core.log.Log
        message: resumed
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: after
"""


def test_pause_delay_survives_a_restart(db_path: Path) -> None:
    clock = FakeClock()

    async def first(h: Harness) -> str:
        flow = await h.deploy(PAUSE_FLOW)
        created = await h.create(flow)
        await h.wait_for(created.id, lambda d: d["state"]["current"] == P, what="PAUSED")
        return created.id

    execution_id = asyncio.run(with_engine(db_path, first, clock=clock))
    later = FakeClock(clock.now() + timedelta(seconds=0.2))  # the next engine, 0.2 s later

    async def second(h: Harness) -> None:
        await h.advance(later, 0.299)  # 0.499 s after the pause: the 0.5 s delay is not due
        assert (await h.doc(execution_id))["state"]["current"] == P
        await h.advance(later, 0.001)
        doc = await h.wait(execution_id)
        assert doc["state"]["current"] == S
        assert states_of(doc["state"]) == [C, R, P, RS, R, S]
        hold = run_of(doc, "hold")
        assert states_of(hold["state"]) == [C, R, P, R, S]
        dates = [micros(x["date"]) for x in hold["state"]["histories"]]
        assert dates[3] - dates[2] == 500_000  # the delay, to the microsecond
        assert order_of(doc) == ["hold", "inside", "after"]

    asyncio.run(asyncio.wait_for(with_engine(db_path, second, clock=later), 60))


def test_sigkill_while_paused_then_delay_fires_after_recovery(
    tmp_path: Path, db_path: Path
) -> None:
    """The pause timer is a row (I6): a process killed while PAUSED leaves it behind, and the
    next engine fires it."""

    def paused(path: Path) -> bool:
        if not path.exists():
            return False
        try:
            rows = db_rows(path, "SELECT state_current FROM executions")
            timers = db_rows(path, "SELECT count(*) FROM timers")
        except Exception:
            return False
        return rows == [(P,)] and timers[0][0] == 1

    _start_and_crash(tmp_path, db_path, PAUSE_FLOW, paused)
    [(execution_id,)] = db_rows(db_path, "SELECT id FROM executions")

    async def body(h: Harness) -> None:
        doc = await h.wait(execution_id)
        assert states_of(doc["state"]) == [C, R, P, RS, R, S]
        assert states_of(run_of(doc, "hold")["state"]) == [C, R, P, R, S]
        assert order_of(doc) == ["hold", "inside", "after"]

    asyncio.run(asyncio.wait_for(with_engine(db_path, body), 60))
    assert os.path.exists(db_path)


HEADS_FLOW = """
id: heads
namespace: t.engine
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hello
"""


def test_published_heads_follow_the_commits_and_a_restart(
    db_path: Path, run_engine: Callable[..., Any]
) -> None:
    """Where a subscription "from now" starts: the highest state-change and log `seq` handed to
    the listeners; after a restart, the highest stored."""

    def stored() -> tuple[int, int]:
        (row,) = db_rows(
            db_path, "SELECT (SELECT max(seq) FROM state_changes), (SELECT max(seq) FROM logs)"
        )
        return int(row[0]), int(row[1])

    async def heads_reach_stored(h: Harness) -> None:
        for _ in range(200):
            if (h.engine.published_state_seq, h.engine.published_log_seq) == stored():
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{h.engine.published_state_seq} != {stored()}")

    async def first(h: Harness) -> None:
        assert (h.engine.published_state_seq, h.engine.published_log_seq) == (0, 0)
        doc = await h.run(HEADS_FLOW)
        assert doc["state"]["current"] == S
        await heads_reach_stored(h)

    run_engine(first)
    before = stored()
    assert before[0] > 0 and before[1] > 0

    async def second(h: Harness) -> None:
        assert (h.engine.published_state_seq, h.engine.published_log_seq) == before
        await h.run(HEADS_FLOW)
        await heads_reach_stored(h)
        assert h.engine.published_state_seq > before[0]

    run_engine(second)


ESCAPED_FLOW = """
id: crash-escaped
namespace: t.engine
tasks:
  - id: shell
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - "[ -s {pidfile} ] && exit 0"
      - setsid sh -c 'trap "" TERM HUP; echo $$ > {pidfile}; exec sleep 300' &
      - sleep 300
"""


def test_recovery_ends_descendants_that_left_the_session(tmp_path: Path, db_path: Path) -> None:
    """A crashed engine's grandchild in its own session (re-parented to init when the engine
    died) is found by its TERCEL_ATTEMPT mark and ended at the next start."""
    pidfile = tmp_path / "grandchild.pid"

    def ready(path: Path) -> bool:
        return _shell_attempt_running(path) and pidfile.exists() and bool(pidfile.read_text())

    _start_and_crash(tmp_path, db_path, ESCAPED_FLOW.format(pidfile=pidfile), ready)
    grandchild = int(pidfile.read_text())
    time.sleep(0.2)
    assert _alive(grandchild), "the grandchild died with the engine: the test proves nothing"

    async def body(h: Harness) -> None:
        deadline = time.monotonic() + 2  # recovery sent SIGKILL; give the kernel a moment
        while _alive(grandchild) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert not _alive(grandchild), "a dead engine's grandchild survived recovery"
        [(execution_id,)] = db_rows(db_path, "SELECT id FROM executions")
        doc = await h.wait(execution_id, timeout=15)
        assert doc["state"]["current"] == S

    asyncio.run(asyncio.wait_for(with_engine(db_path, body), 60))


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state != b"Z"
