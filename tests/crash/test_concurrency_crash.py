"""Flow concurrency under SIGKILL (semantics.md#concurrency): the count is decided in the engine's
one writer from what SQLite holds, so a kill -9 at any moment neither loses the queue nor lets
more than `limit` executions of the flow run at once.

A real `tercel server` subprocess gets a stream of `createExecution` calls for a limit-2 QUEUE
flow and is SIGKILLed at random moments (sometimes while it recovers), then restarted on the
same file. At the end every execution has ended SUCCESS, the committed state-change log never
shows more than two executions holding a slot at any point, and the queued ones went RUNNING in
the order they were created.

Seed: `TERCEL_CRASH_SEED=<n>` replays a run (the seed is printed, shown on failure).
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import httpx
from tests.api.concurrency_helpers import most_at_once, start_order
from tests.crash.server import TERMINAL, TercelServer, running_server
from tests.engine.conftest import db_rows

NAMESPACE = "crash.conc"
FLOW = """\
id: limited
namespace: crash.conc
concurrency:
  limit: 2
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.15S
  - id: done
    type: io.kestra.plugin.core.log.Log
    message: done
"""
CREATE = """mutation { createExecution(namespace: "crash.conc", flowId: "limited") {
  __typename ... on Execution { id } } }"""
KILLS = 6


def _create_until_killed(server: TercelServer, acknowledged: list[str], rng: random.Random) -> None:
    """createExecution calls in a burst until the server dies."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            response = server.post({"query": CREATE})
        except httpx.HTTPError:
            return
        if response.status_code != 200:  # a response cut by the kill
            return
        found = response.json()["data"]["createExecution"]
        assert found["__typename"] == "Execution", found
        acknowledged.append(found["id"])
        time.sleep(rng.uniform(0.0, 0.02))
    raise AssertionError("the kill never came")


def _queued_in_file(db_path: Path) -> int:
    sql = "SELECT count(*) FROM executions WHERE state_current = 'QUEUED'"
    return int(db_rows(db_path, sql)[0][0])


def _rounds(server: TercelServer, acknowledged: list[str], rng: random.Random) -> int:
    """The kill rounds; answers how many kills left QUEUED executions in the file."""
    with_queue = 0
    for number in range(KILLS):
        started = server.spawn()
        if number > 0 and rng.random() < 0.25:
            time.sleep(rng.uniform(0.0, 1.2))  # kill while it starts and recovers
        else:
            server.wait_healthy(started)
            timer = threading.Timer(rng.uniform(0.2, 1.5), server.kill)
            timer.start()
            try:
                _create_until_killed(server, acknowledged, rng)
            finally:
                timer.join()
        server.kill()
        assert server.proc is not None and server.proc.returncode == -9, server.log_tail()
        with_queue += _queued_in_file(server.db_path) > 0
    return with_queue


def _wait_all_ended(server: TercelServer, timeout: float) -> None:
    marks = ",".join("?" * len(TERMINAL))
    sql = f"SELECT count(*) FROM executions WHERE state_current NOT IN ({marks})"
    deadline = time.monotonic() + timeout
    while db_rows(server.db_path, sql, *TERMINAL)[0][0]:
        assert time.monotonic() < deadline, server.log_tail()
        time.sleep(0.1)


def test_limit_and_queue_order_hold_across_sigkill(tmp_path: Path) -> None:
    seed = int(os.environ.get("TERCEL_CRASH_SEED") or random.randrange(2**32))
    print(f"TERCEL_CRASH_SEED={seed}")
    rng = random.Random(seed)
    acknowledged: list[str] = []
    with running_server(tmp_path, start=False) as server:
        server.start()
        assert server.deploy(FLOW)["__typename"] == "Flow"
        server.kill()
        with_queue = _rounds(server, acknowledged, rng)
        server.start()
        _wait_all_ended(server, timeout=120)
        rows = db_rows(
            server.db_path,
            "SELECT seq, execution_id, state FROM state_changes WHERE entity = 'EXECUTION'"
            " ORDER BY seq",
        )
    log = [(int(seq), str(ex), str(state)) for seq, ex, state in rows]
    ends = {ex: state for _, ex, state in log}
    assert set(acknowledged) <= set(ends), f"seed {seed}: an acknowledged execution was lost"
    assert set(ends.values()) == {"SUCCESS"}, f"seed {seed}: {sorted(set(ends.values()))}"
    assert most_at_once(log) <= 2, f"seed {seed}: more than 2 ran at once"
    created, started = start_order(log)
    print(f"{len(created)} executions, {len(started)} queued, {with_queue} kills with a queue")
    assert with_queue >= 2, f"seed {seed}: the kills must find queued executions in the file"
    assert len(started) > len(created) // 3, f"seed {seed}: too few were queued to tell"
    assert started == [ex for ex in created if ex in set(started)], (
        f"seed {seed}: queued executions did not start in creation order"
    )
