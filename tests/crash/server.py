"""A real `tercel server` in a subprocess (`python -m tercel server --db FILE --port P`), for the
crash and hostile-input tests: start it, wait for `/health`, talk GraphQL to it, SIGKILL it,
read its RSS; plus a scan of /proc for the shell processes of a test's flows."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

#: how long a start may take to answer /health: a wait, not a budget (no test asserts the process
#: start; under `make test` the server and its render processes are traced, on a shared machine)
START_TIMEOUT = 60.0
TERMINAL = frozenset({"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "RETRIED", "SKIPPED"})

#: the whole execution document, as `tests.engine.conftest.check_document` reads it
STATE_FIELDS = "current histories { state date } startDate endDate duration"
EXECUTION_FIELDS = f"""
  id namespace flowId state {{ {STATE_FIELDS} }}
  taskRunList {{
    id executionId taskId parentTaskRunId value
    state {{ {STATE_FIELDS} }}
    attempts {{ state {{ {STATE_FIELDS} }} }}
  }}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerError(AssertionError):
    pass


class TercelServer:
    """One database file; `start()` may be called again after `kill()` or `stop()`."""

    def __init__(self, db_path: Path, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.db_path, self.log_path = db_path, log_path
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._log: IO[bytes] | None = None
        self.client = httpx.Client(timeout=30)
        self.starts = 0
        self._log_offset = 0
        #: seconds from uvicorn's "Waiting for application startup." (imports done, the
        #: lifespan and so the engine's recovery begin) to the first /health 200, last start
        self.lifespan_seconds: float | None = None

    # ------------------------------------------------------------------ process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None, "server not started"
        return self.proc.pid

    def spawn(self, env: dict[str, str] | None = None) -> float:
        """Start the process without waiting; returns its monotonic start time."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self._close_log()
        self.port = free_port()
        self._log = self.log_path.open("ab")
        self._log.write(f"\n===== start #{self.starts} on port {self.port}\n".encode())
        self._log.flush()
        self._log_offset = self._log.tell()
        self.lifespan_seconds = None
        environment = {**os.environ, **self.env, **(env or {})}
        environment.pop("TERCEL_TOKEN", None)
        command = [sys.executable, "-m", "tercel", "server", "--db", str(self.db_path)]
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [*command, "--port", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=environment,
        )
        self.starts += 1
        # a new process: drop pooled keep-alive connections to the previous one
        self.client.close()
        self.client = httpx.Client(timeout=30)
        return started

    def wait_healthy(self, started: float, timeout: float = START_TIMEOUT) -> float:
        """Poll /health every 10 ms; returns seconds from `started` to the first 200."""
        deadline = started + timeout
        lifespan: float | None = None
        checked = started
        while True:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise ServerError(f"server exited with {self.proc.returncode}: {self.log_tail()}")
            if lifespan is None:
                if self._lifespan_started():
                    lifespan = checked  # the line appeared since the previous look
                checked = time.monotonic()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    now = time.monotonic()
                    if lifespan is None:  # the line came with the answer: since the last look
                        lifespan = checked if self._lifespan_started() else started
                    self.lifespan_seconds = now - lifespan
                    return now - started
            if time.monotonic() > deadline:
                raise ServerError(f"no /health 200 after {timeout}s: {self.log_tail()}")
            time.sleep(0.01)

    def _lifespan_started(self) -> bool:
        with self.log_path.open("rb") as log:
            log.seek(self._log_offset)
            return b"Waiting for application startup." in log.read()

    def start(self, env: dict[str, str] | None = None, timeout: float = START_TIMEOUT) -> float:
        """Start and wait for /health; returns the seconds it took."""
        return self.wait_healthy(self.spawn(env), timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.wait_exit(10)

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise ServerError(f"server still running after {timeout}s") from None

    def stop(self) -> int:
        """SIGTERM (graceful); SIGKILL after 15 s. Returns the exit status."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        self.client.close()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, chars: int = 3000) -> str:
        if self._log is not None:
            self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    # ------------------------------------------------------------------ HTTP

    def health(self, timeout: float = 5.0) -> tuple[int, float]:
        began = time.monotonic()
        response = self.client.get(self.url + "/health", timeout=timeout)
        return response.status_code, time.monotonic() - began

    def post(self, payload: Any, **kwargs: Any) -> httpx.Response:
        return self.client.post(self.url + "/graphql", json=payload, **kwargs)

    def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.post({"query": query, "variables": variables or {}})
        assert response.status_code == 200, (response.status_code, response.text[:2000])
        body: dict[str, Any] = response.json()
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.gql(query, variables)
        assert not body.get("errors"), body["errors"]
        found: dict[str, Any] = body["data"]
        return found

    def deploy(self, source: str) -> dict[str, Any]:
        """The `deployFlow` result (Flow or FlowValidationError), as a dict with __typename."""
        found: dict[str, Any] = self.data(
            """mutation($s: String!) { deployFlow(source: $s) {
                 __typename
                 ... on Flow { namespace id revision }
                 ... on Error { message }
                 ... on FlowValidationError { issues { path line column message } } } }""",
            {"s": source},
        )["deployFlow"]
        return found

    def create(self, namespace: str, flow_id: str) -> str:
        found = self.data(
            """mutation($ns: String!, $f: String!) { createExecution(namespace: $ns, flowId: $f) {
                 __typename ... on Execution { id } ... on Error { message } } }""",
            {"ns": namespace, "f": flow_id},
        )["createExecution"]
        assert found["__typename"] == "Execution", found
        execution_id: str = found["id"]
        return execution_id

    def state(self, execution_id: str) -> str | None:
        found = self.data(
            "query($id: ID!) { execution(id: $id) { state { current } } }", {"id": execution_id}
        )["execution"]
        return None if found is None else str(found["state"]["current"])

    def wait_terminal(self, execution_id: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            state = self.state(execution_id)
            if state in TERMINAL:
                return state
            time.sleep(0.02)
        raise AssertionError(f"execution {execution_id} not terminal after {timeout}s: {state}")

    def document(self, execution_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.data(
            f"query($id: ID!) {{ execution(id: $id) {{ {EXECUTION_FIELDS} }} }}",
            {"id": execution_id},
        )["execution"]
        return found

    def documents(self, namespace: str) -> list[dict[str, Any]]:
        """Every execution of `namespace`, whole, paging 100 at a time."""
        query = f"""query($ns: String!, $after: String) {{
          executions(filter: {{namespaceEquals: $ns}}, first: 100, after: $after) {{
            edges {{ node {{ {EXECUTION_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
        found: list[dict[str, Any]] = []
        after = None
        while True:
            page = self.data(query, {"ns": namespace, "after": after})["executions"]
            found += [edge["node"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return found
            after = page["pageInfo"]["endCursor"]

    def logs(self, execution_id: str) -> list[tuple[str, str]]:
        found = self.data(
            """query($id: ID!) { logs(executionId: $id, first: 100) {
                 edges { node { level message } } } }""",
            {"id": execution_id},
        )["logs"]
        return [(e["node"]["level"], e["node"]["message"]) for e in found["edges"]]


@contextlib.contextmanager
def running_server(
    folder: Path, env: dict[str, str] | None = None, *, start: bool = True
) -> Iterator[TercelServer]:
    server = TercelServer(folder / "tercel.db", folder / "server.log", env)
    try:
        if start:
            server.start()
        yield server
    finally:
        server.close()


# --------------------------------------------------------------------------- processes


def upload_input(
    server: TercelServer, mutation: str, filename: str, content: bytes
) -> httpx.Response:
    """`mutation` (whose `$files` is `[FileInput!]`) posted with one file for the FILE input
    `data`, as a multipart request (the GraphQL multipart request spec), preflight header
    included."""
    operations = {"query": mutation, "variables": {"files": [{"name": "data", "file": None}]}}
    return server.client.post(
        server.url + "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.files.0.file"]}),
        },
        files={"0": (filename, content, "text/csv")},
        headers={"Apollo-Require-Preflight": "true"},
    )


@contextlib.contextmanager
def health_waits(url: str) -> Iterator[list[float]]:
    """How long each `/health` took, asked every 10 ms from a thread while the block runs:
    the event loop that answers it also runs the engine, so a long wait is the loop held."""
    waits: list[float] = []
    done = threading.Event()

    def probe() -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            while not done.is_set():
                asked = time.monotonic()
                client.get("/health")
                waits.append(time.monotonic() - asked)
                time.sleep(0.01)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    try:
        yield waits
    finally:
        done.set()
        prober.join(30)


def processes_with_env(marker: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live, non-zombie process whose environment holds `marker`."""
    wanted = marker.encode()
    found: list[tuple[int, str]] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if wanted not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if state != "Z":
            found.append((int(entry.name), command.strip()))
    return found


# --------------------------------------------------------------------------- the slow marker


def deselect_slow(config: pytest.Config, items: list[pytest.Item], folder: Path) -> None:
    """Without a `-m` expression, `slow` tests of `folder` are deselected (`-m slow` runs them)."""
    if config.getoption("markexpr", ""):
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        mine = folder in item.path.parents
        (dropped if mine and item.get_closest_marker("slow") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
