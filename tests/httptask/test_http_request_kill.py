"""Killing an execution whose Request task waits on a slow server: the attempt ends KILLED at once
and the connection is closed (the request runs off the engine loop, which keeps answering)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.api.conftest import Server, start_server

from tercel.settings import Settings

FLOW = """id: slow
namespace: http.kill
tasks:
  - id: wait
    type: io.kestra.plugin.core.http.Request
    uri: {base_url}/slow
    options: {{readTimeout: PT60S}}
"""


def test_kill_aborts_a_request_in_flight(
    tmp_path: Path, base_url: str, slow_client_gone: threading.Event
) -> None:
    uvicorn_server, thread, api = start_server(Settings(db_path=str(tmp_path / "t.db")))
    try:
        api.deploy("http.kill", "slow", FLOW.format(base_url=base_url))
        execution_id = api.create("http.kill", "slow")
        _wait_running(api, execution_id)
        time.sleep(0.3)  # the request is in flight: /slow sends a byte every 100 ms for 20 s
        start = time.monotonic()
        answer = api.data(
            "mutation($id: ID!) { killExecution(id: $id) { __typename } }", {"id": execution_id}
        )
        assert answer["killExecution"]["__typename"] == "Execution"
        assert api.wait_terminal(execution_id, timeout=10) == "KILLED"
        assert time.monotonic() - start < 5
        assert slow_client_gone.wait(5), "the server still writes to the killed request"
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=20)
        api.client.close()


def _wait_running(api: Server, execution_id: str) -> None:
    query = "query($id: ID!) { execution(id: $id) { taskRunList { state { current } } } }"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = api.data(query, {"id": execution_id})["execution"]
        if found and any(r["state"]["current"] == "RUNNING" for r in found["taskRunList"]):
            return
        time.sleep(0.02)
    raise AssertionError("the Request task never ran")
