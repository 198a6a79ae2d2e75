"""Flow triggers across SIGKILL (semantics.md#flow-trigger): an execution's end starts each matching
Flow trigger exactly once, even when the server dies just before or just after the start's
commit (fail points `before_flow_trigger_commit`, `after_flow_trigger_commit`)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from tests.crash.server import running_server
from tests.engine.conftest import db_rows

UPSTREAM = """\
id: up
namespace: crash.flows
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: done
"""
DOWNSTREAM = """\
id: down
namespace: crash.flows
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "{{ trigger.executionId }}"
triggers:
  - id: after-up
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionFlowCondition
        namespace: crash.flows
        flowId: up
"""


def started_for(db: Path) -> list[str]:
    """The upstream execution ids the downstream executions were started for."""
    rows = db_rows(db, "SELECT trigger_info FROM executions WHERE flow_id = 'down'")
    return sorted(json.loads(row[0])["variables"]["executionId"] for row in rows)


def wait_started(db: Path, count: int, timeout: float = 15.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while len(found := started_for(db)) < count:
        assert time.monotonic() < deadline, f"{found} after {timeout}s"
        time.sleep(0.1)
    return found


@pytest.mark.parametrize("point", ["before_flow_trigger_commit", "after_flow_trigger_commit"])
def test_an_end_starts_its_flow_trigger_once_across_a_crash(tmp_path: Path, point: str) -> None:
    with running_server(tmp_path, start=False) as server:
        server.start(env={"TERCEL_FAILPOINT": point})
        server.deploy(UPSTREAM)
        server.deploy(DOWNSTREAM)
        time.sleep(2.2)  # the trigger counts ends from its first look (once a second)
        first = server.create("crash.flows", "up")
        assert server.proc is not None
        assert server.proc.wait(20) == 137, server.log_tail()
        committed = started_for(server.db_path)
        assert committed == ([] if point.startswith("before") else [first])
        server.start()
        assert wait_started(server.db_path, 1) == [first]
        second = server.create("crash.flows", "up")
        wait_started(server.db_path, 2)
        time.sleep(1.5)  # nothing more comes
        server.kill()
    assert started_for(server.db_path) == sorted([first, second])
