"""Flows and readers shared by the flow-concurrency tests (semantics.md#concurrency): Kestra's
flow-concurrency-*.yml test flows, and the state-change log read back from SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.api.conftest import Server
from tests.api.lifecycle_helpers import db_path

SLEEP = """\
  - id: sleep
    type: io.kestra.plugin.core.flow.Sleep
    duration: {duration}
"""

#: holds its execution (and its slot) while the file exists: a slot is held for as long as the
#: test needs it, however slow the host (a Sleep alone may end before the test's next step)
HOLD = """\
  - id: hold
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - while [ -e {hold} ]; do sleep 0.02; done
"""

#: Kestra's flow-concurrency-*-pause.yml waits `delay: PT1S`; here the Pause waits for the test's
#: resumeExecution, sent once it saw what the next execution became (a delay may end before
#: that on a loaded host, and the test would no longer see a PAUSED execution hold its slot)
PAUSE = """\
  - id: pause
    type: io.kestra.plugin.core.flow.Pause
    tasks:
      - id: post-pause
        type: io.kestra.plugin.core.log.Log
        message: Post-pause
"""


def limited(flow_id: str, namespace: str, behavior: str, limit: int, tasks: str) -> str:
    """Kestra's core/src/test/resources/flows/valids/flow-concurrency-*.yml, in `namespace`."""
    return (
        f"id: {flow_id}\nnamespace: {namespace}\n\nconcurrency:\n  behavior: {behavior}\n"
        f"  limit: {limit}\n\ntasks:\n{tasks}"
    )


def deploy_limited(
    api: Server, namespace: str, behavior: str = "QUEUE", limit: int = 1, **options: str
) -> str:
    """Deploy a limited flow named after its behavior; `pause=` uses the Pause body, else a
    Sleep of `duration` (PT1S); `hold=PATH` first waits while that file exists (`HOLD`)."""
    tasks = (
        PAUSE if options.get("pause") else SLEEP.format(duration=options.get("duration", "PT1S"))
    )
    if options.get("hold"):
        tasks = HOLD.format(hold=options["hold"]) + tasks
    flow_id = f"flow-concurrency-{behavior.lower()}"
    api.deploy(namespace, flow_id, limited(flow_id, namespace, behavior, limit, tasks))
    return flow_id


def execution_log(api: Server, namespace: str) -> list[tuple[int, str, str]]:
    """(seq, execution id, state) of every execution entry of the namespace, in commit order."""
    uri = Path(db_path(api)).resolve().as_uri() + "?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        rows = conn.execute(
            "SELECT s.seq, s.execution_id, s.state FROM state_changes s"
            " JOIN executions e ON e.id = s.execution_id"
            " WHERE s.entity = 'EXECUTION' AND e.namespace = ? ORDER BY s.seq",
            (namespace,),
        ).fetchall()
    return [(int(seq), str(ex), str(state)) for seq, ex, state in rows]


#: the states that take a slot of a flow's limit (neither terminal, nor QUEUED, nor CREATED)
SLOT_STATES = frozenset({"RUNNING", "PAUSED", "RETRYING", "RESTARTED", "KILLING"})


def most_at_once(log: list[tuple[int, str, str]]) -> int:
    """The most executions holding a slot at any point of the state-change log."""
    now: dict[str, str] = {}
    most = 0
    for _, execution_id, state in log:
        now[execution_id] = state
        most = max(most, sum(1 for s in now.values() if s in SLOT_STATES))
    return most


def start_order(log: list[tuple[int, str, str]]) -> tuple[list[str], list[str]]:
    """(the executions in creation order, the QUEUED ones in the order they went RUNNING)."""
    created = [ex for _, ex, state in log if state == "CREATED"]
    queued = {ex for _, ex, state in log if state == "QUEUED"}
    started: list[str] = []
    previous: dict[str, str] = {}
    for _, ex, state in log:
        if ex in queued and previous.get(ex) == "QUEUED" and state == "RUNNING":
            started.append(ex)
        previous[ex] = state
    return created, started


def log_lines(api: Server, execution_id: str) -> list[dict[str, Any]]:
    query = """query($id: ID!) { logs(executionId: $id, first: 100) {
      edges { node { level message } } } }"""
    edges = api.data(query, {"id": execution_id})["logs"]["edges"]
    return [edge["node"] for edge in edges]
