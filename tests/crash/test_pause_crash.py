"""A paused execution stays paused across a SIGKILL of the server (semantics.md#pause-execution):
the pause is a committed state, the restarted engine rebuilds it and starts nothing, and the attempt
that was running at the kill is resubmitted and merged as any interrupted attempt is."""

from __future__ import annotations

import time
from pathlib import Path

from tests.crash.server import running_server

FLOW = """\
id: held
namespace: crash.pause
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT1S
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: after
"""

PAUSE = """mutation($id: ID!) { pauseExecution(id: $id) { __typename
  ... on Execution { state { current } } ... on Error { message } } }"""
RESUME = """mutation($id: ID!) { resumeExecution(id: $id) { __typename
  ... on Execution { state { current } } ... on Error { message } } }"""


def _task_runs(doc: dict[str, object]) -> list[tuple[str, str]]:
    runs = doc["taskRunList"]
    assert isinstance(runs, list)
    return [(r["taskId"], r["state"]["current"]) for r in runs]


def test_a_paused_execution_stays_paused_across_sigkill(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        assert server.deploy(FLOW)["__typename"] == "Flow"
        execution_id = server.create("crash.pause", "held")
        deadline = time.monotonic() + 10
        while server.state(execution_id) != "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.02)
        paused = server.data(PAUSE, {"id": execution_id})["pauseExecution"]
        assert paused == {"__typename": "Execution", "state": {"current": "PAUSED"}}
        server.kill()  # SIGKILL while the nap's attempt runs
        server.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            doc = server.document(execution_id)
            if _task_runs(doc) == [("nap", "SUCCESS")]:
                break
            time.sleep(0.05)
        time.sleep(0.5)  # time enough for `after` to start, were it allowed
        doc = server.document(execution_id)
        assert doc["state"]["current"] == "PAUSED"
        assert _task_runs(doc) == [("nap", "SUCCESS")]
        resumed = server.data(RESUME, {"id": execution_id})["resumeExecution"]
        assert resumed == {"__typename": "Execution", "state": {"current": "RUNNING"}}
        assert server.wait_terminal(execution_id) == "SUCCESS"
        final = server.document(execution_id)
        assert _task_runs(final) == [("nap", "SUCCESS"), ("after", "SUCCESS")]
        history = [h["state"] for h in final["state"]["histories"]]
        assert history == ["CREATED", "RUNNING", "PAUSED", "RUNNING", "SUCCESS"]
