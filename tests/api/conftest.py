"""API test fixtures: a REAL uvicorn server on 127.0.0.1 (a free port) in a background thread,
with a temporary database, and an httpx client speaking GraphQL to it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from tercel import servecmd
from tercel.app import create_app
from tercel.settings import Settings

FLOW = """\
id: {flow_id}
namespace: {namespace}
labels:
  team: core
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: hello
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: world
"""

TERMINAL = {"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "RETRIED", "SKIPPED"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A running server: `gql` posts an operation, `statements` records SQL of the reader."""

    url: str
    app: Any
    token: str | None = None
    statements: list[str] = field(default_factory=list)
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    def post(self, payload: Any, **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.post(self.url + "/graphql", json=payload, headers=headers, **kwargs)

    def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.post({"query": query, "variables": variables or {}})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.gql(query, variables)
        assert "errors" not in body, body["errors"]
        found: dict[str, Any] = body["data"]
        return found

    # ---------------------------------------------------------------- helpers for data

    def deploy(self, namespace: str, flow_id: str = "hello", source: str | None = None) -> None:
        text = source or FLOW.format(namespace=namespace, flow_id=flow_id)
        found = self.data(
            "mutation($s: String!) { deployFlow(source: $s) {"
            " __typename ... on Error { message } } }",
            {"s": text},
        )["deployFlow"]
        assert found["__typename"] == "Flow", found

    def create(self, namespace: str, flow_id: str = "hello", **variables: Any) -> str:
        found = self.data(
            """mutation($ns: String!, $f: String!, $i: JSON, $l: [LabelInput!]) {
                 createExecution(namespace: $ns, flowId: $f, inputs: $i, labels: $l) {
                   __typename ... on Execution { id } ... on Error { message } } }""",
            {
                "ns": namespace,
                "f": flow_id,
                "i": variables.get("inputs"),
                "l": variables.get("labels"),
            },
        )["createExecution"]
        assert found["__typename"] == "Execution", found
        execution_id: str = found["id"]
        return execution_id

    def wait_terminal(self, execution_id: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            found = self.data(
                "query($id: ID!) { execution(id: $id) { state { current } } }", {"id": execution_id}
            )["execution"]
            state = found and found["state"]["current"]
            if state in TERMINAL:
                return str(state)
            time.sleep(0.02)
        raise AssertionError(f"execution {execution_id} not terminal after {timeout}s: {state}")

    def run(self, namespace: str, flow_id: str = "hello", **variables: Any) -> str:
        execution_id = self.create(namespace, flow_id, **variables)
        self.wait_terminal(execution_id)
        return execution_id

    def count_statements(self) -> Callable[[], None]:
        """Record the reader's SQL statements into `self.statements` until the returned stop
        (its trace sees SQLAlchemy statements and raw batched reads alike)."""
        reader = self.app.state.services.db
        self.statements.clear()
        reader.trace = self.statements

        def stop() -> None:
            reader.trace = None

        return stop


def start_server(settings: Settings) -> tuple[uvicorn.Server, threading.Thread, Server]:
    port = _free_port()
    settings = replace(settings, port=port)
    app = create_app(settings)
    server = uvicorn.Server(servecmd.uvicorn_config(app, settings, "warning"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    return server, thread, Server(f"http://127.0.0.1:{port}", app, settings.token)


@pytest.fixture(scope="session")
def server_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Server]]:
    running: list[tuple[uvicorn.Server, threading.Thread, Server]] = []

    def make(**overrides: Any) -> Server:
        folder: Path = tmp_path_factory.mktemp("tercel")
        settings = Settings(db_path=str(folder / "tercel.db"), **overrides)
        started = start_server(settings)
        running.append(started)
        return started[2]

    yield make
    for server, thread, client in running:
        server.should_exit = True
        thread.join(timeout=20)
        client.client.close()


@pytest.fixture(scope="session")
def api(server_factory: Callable[..., Server]) -> Server:
    """The shared server (no token, default limits)."""
    return server_factory()


SLEEPER = """\
id: sleeper
namespace: {namespace}
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT10M
"""

TYPED = """\
id: typed
namespace: {namespace}
inputs:
  - id: n
    type: INT
  - id: who
    type: STRING
    defaults: world
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "n is {{{{ inputs.n }}}}"
"""

DISABLED = """\
id: off
namespace: {namespace}
disabled: true
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: never
"""


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
