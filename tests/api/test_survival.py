"""#12 items 1 and 2 through the API: text that cannot be stored is refused as data (never a
500), a full disk answers STORAGE_FULL and `/health` 503 `storage_full` until commits succeed,
a dead engine loop answers ENGINE_STOPPED at once and `/health` 503 `engine_stopped`; the real
`tercel server` then exits with status 4 (semantics.md#durability)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.api.conftest import FLOW, Server, error_codes
from tests.crash.server import TercelServer

from tercel.storage import sqlite

CREATE = """mutation($ns: String!) { createExecution(namespace: $ns, flowId: "hello") {
  __typename ... on Execution { id } ... on Error { message } } }"""
DEPLOY = """mutation($s: String!) { deployFlow(source: $s) {
  __typename ... on Flow { id } ... on FlowValidationError { message issues { path line } } } }"""
VALIDATE = """mutation($s: String!) { validateFlow(source: $s) {
  __typename ... on FlowValidationError { message issues { path line } } } }"""


def _timed(server: Server, query: str, variables: dict[str, Any]) -> tuple[dict[str, Any], float]:
    began = time.monotonic()
    response = server.post({"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body, time.monotonic() - began


def test_unstorable_flow_text_is_a_validation_error_not_a_500(api: Server) -> None:
    source = 'id: "x\\udfff"\nnamespace: t.api.store\nlabels:\n  team: "\\udfff"\n' + (
        "tasks:\n  - id: r\n    type: io.kestra.plugin.core.debug.Return\n    format: x\n"
    )
    for query, field in ((VALIDATE, "validateFlow"), (DEPLOY, "deployFlow")):
        found = api.data(query, {"s": source})[field]
        assert found["__typename"] == "FlowValidationError", found
        paths = {(i["path"], i["line"]) for i in found["issues"]}
        assert {("id", 1), ("labels.team", 4)} <= paths, found
    listed = api.data('{ flows(namespace: "t.api.store") { id labels { key value } } }')
    assert listed["flows"] == []


def test_storage_full_answers_and_health(server_factory: Callable[..., Server]) -> None:
    server = server_factory()
    server.deploy("t.api.full")
    engine = server.app.state.services.engine
    real = engine.db.commit

    def full(*args: Any) -> None:
        raise sqlite.disk_full_error()

    engine.db.commit = full
    try:
        body, took = _timed(server, CREATE, {"ns": "t.api.full"})
        assert error_codes(body) == ["STORAGE_FULL"], body
        assert took < 5
        assert "disk is full" in body["errors"][0]["message"]
        health = server.client.get(server.url + "/health")
        assert (health.status_code, health.json()) == (503, {"status": "storage_full"})
        body, took = _timed(server, CREATE, {"ns": "t.api.full"})
        assert error_codes(body) == ["STORAGE_FULL"] and took < 1, body
    finally:
        engine.db.commit = real
    deadline = time.monotonic() + 10
    while server.client.get(server.url + "/health").status_code != 200:
        assert time.monotonic() < deadline, "no recovery once commits succeed"
        time.sleep(0.05)
    assert server.wait_terminal(server.create("t.api.full")) == "SUCCESS"


def test_a_dead_engine_loop_answers_engine_stopped(server_factory: Callable[..., Server]) -> None:
    server = server_factory()
    server.deploy("t.api.dead")
    engine = server.app.state.services.engine

    def bug() -> Any:
        raise RuntimeError("injected loop bug")

    engine._apply_inputs = bug  # this engine only: the next wake-up kills its loop
    body, took = _timed(server, CREATE, {"ns": "t.api.dead"})
    assert error_codes(body) == ["ENGINE_STOPPED"], body
    assert took < 2
    health = server.client.get(server.url + "/health")
    assert health.status_code == 503
    assert health.json() == {
        "status": "engine_stopped",
        "reason": "RuntimeError: injected loop bug",
    }
    again = FLOW.format(namespace="t.api.dead", flow_id="other")
    for query, variables in ((CREATE, {"ns": "t.api.dead"}), (DEPLOY, {"s": again})):
        body, took = _timed(server, query, variables)
        assert error_codes(body) == ["ENGINE_STOPPED"] and took < 1, body
        assert "must be restarted" in body["errors"][0]["message"]


def test_tercel_server_exits_4_when_its_engine_dies(tmp_path: Path) -> None:
    server = TercelServer(tmp_path / "dead.db", tmp_path / "server.log")
    try:
        server.start(env={"TERCEL_FAILPOINT": "engine_loop"})
        assert server.deploy(FLOW.format(namespace="t.dead", flow_id="hello"))["id"] == "hello"
        began = time.monotonic()
        body = server.gql(CREATE.replace("$ns: String!", '$ns: String! = "t.dead"'))
        assert error_codes(body) == ["ENGINE_STOPPED"], body
        status, _ = server.health()
        assert status == 503
        assert server.wait_exit(5) == 4
        assert time.monotonic() - began < 5
        assert "the engine loop died: RuntimeError: fail point engine_loop" in server.log_tail()
    finally:
        server.close()
