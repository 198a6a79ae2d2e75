"""Browser test fixtures: a REAL `tercel server` subprocess on 127.0.0.1 (the flows of
tests/browser/flows deployed), Debian's chromium driven by Playwright (nothing downloads a
browser), and pages that may reach nothing but that server: every other request is aborted and
recorded, and a CSP violation or an uncaught page error fails the test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench import uibuild
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)
from tests.crash.server import START_TIMEOUT

from tercel import webui

CHROMIUM = os.environ.get("TERCEL_CHROMIUM", "/usr/bin/chromium")
# the machine running `make test` may be busy: assertions wait up to 10 s (the 1-second goal
# of the list is asserted by a clock of its own)
expect.set_options(timeout=10_000)
FLOWS = Path(__file__).parent / "flows"
TERMINAL = {"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "RETRIED", "SKIPPED"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class TercelServer:
    """A `tercel server` process and a GraphQL client for it."""

    url: str
    process: subprocess.Popen[bytes]
    token: str | None = None
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = {"query": query, "variables": variables or {}}
        response = self.client.post(self.url + "/graphql", json=body, headers=headers)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        assert "errors" not in found, found["errors"]
        result: dict[str, Any] = found["data"]
        return result

    def create(
        self, flow_id: str, inputs: dict[str, Any] | None = None, namespace: str = "uitest"
    ) -> str:
        found = self.data(
            """mutation($n: String!, $f: String!, $i: JSON) { createExecution(namespace: $n,
                 flowId: $f, inputs: $i) {
                   __typename ... on Execution { id } ... on Error { message } } }""",
            {"n": namespace, "f": flow_id, "i": inputs},
        )["createExecution"]
        assert found["__typename"] == "Execution", found
        execution_id: str = found["id"]
        return execution_id

    def execution(self, execution_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.data(
            """query($id: ID!) { execution(id: $id) { id state { current } parentId outputs
                 taskRunList { id taskId value outputs state { current }
                               attempts { state { current } } } } }""",
            {"id": execution_id},
        )["execution"]
        return found

    def task_run_id(self, execution_id: str, task_id: str) -> str:
        """The id of the (first) task run of `task_id` in the execution."""
        found = self.execution(execution_id)
        assert found, f"no execution {execution_id}"
        return str(next(run["id"] for run in found["taskRunList"] if run["taskId"] == task_id))

    def wait_state(self, execution_id: str, states: set[str], timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            found = self.execution(execution_id)
            state = found and found["state"]["current"]
            if state in states:
                return str(state)
            time.sleep(0.05)
        raise AssertionError(f"{execution_id} not in {states} after {timeout}s: {state}")

    def subscriptions(self) -> int:
        count: int = self.client.get(self.url + "/health").json()["subscriptions"]
        return count

    def wait_subscriptions(self, at_least: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while self.subscriptions() < at_least:
            assert time.monotonic() < deadline, f"fewer than {at_least} live subscriptions"
            time.sleep(0.02)

    def state_change_count(self, execution_id: str) -> int:
        total, after = 0, None
        while True:
            page = self.data(
                """query($id: ID!, $after: String) { stateChanges(executionId: $id, after: $after,
                     first: 100) { edges { cursor } pageInfo { hasNextPage endCursor } } }""",
                {"id": execution_id, "after": after},
            )["stateChanges"]
            total += len(page["edges"])
            if not page["pageInfo"]["hasNextPage"]:
                return total
            after = page["pageInfo"]["endCursor"]


def start_tercel(folder: Path, token: str | None = None, flows: Path = FLOWS) -> TercelServer:
    assert (webui.DIST / "index.html").is_file(), "the web UI is not built: run `make ui`"
    uibuild.check(webui.DIST)  # a build older than its sources would test other code
    port = _free_port()
    command = [sys.executable, "-m", "tercel", "server", "--port", str(port)]
    command += ["--db", str(folder / "tercel.db"), "--flows", str(flows)]
    if token:
        command += ["--token", token]
    with (folder / "server.log").open("wb") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(process, url, folder / "server.log")
    except BaseException:
        process.kill()  # a server that missed its start is not left running after the run
        process.wait(timeout=20)
        raise
    return TercelServer(url, process, token)


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    # a wait, not a budget: the traced server starts slowly while the other worker runs too
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(url + "/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"tercel server did not start: {log.read_text()}"
        time.sleep(0.05)


def stop_tercel(server: TercelServer) -> None:
    server.process.terminate()
    server.process.wait(timeout=20)
    server.client.close()


@pytest.fixture(scope="session")
def tercel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TercelServer]:
    server = start_tercel(tmp_path_factory.mktemp("browser"))
    yield server
    stop_tercel(server)


class SharedChromium:
    """One Playwright driver and one Chromium for the browser files a process runs one after the
    other (each test still gets a context of its own, `open_context`). Started per module, they
    were some twenty launches of a node driver and a Chromium per run, about 2 s of CPU each.
    Not for the whole session: Playwright's sync API keeps an asyncio loop running in this thread
    while it is open, and the rest of the suite calls asyncio.run(), so the driver stops after
    the last browser test that precedes another test (`pytest_runtest_teardown` below). A
    pytest "package" scope would not do: tests/browser is no package, so it means the session."""

    def __init__(self) -> None:
        self._driver: Playwright | None = None
        self._browser: Browser | None = None

    def browser(self) -> Browser:
        if self._browser is None or not self._browser.is_connected():
            assert Path(CHROMIUM).is_file(), (
                f"{CHROMIUM} missing: apt-get install chromium (make test does)"
            )
            self.close()
            self._driver = sync_playwright().start()
            args = ["--no-sandbox"] if os.geteuid() == 0 else []
            self._browser = self._driver.chromium.launch(executable_path=CHROMIUM, args=args)
        return self._browser

    def close(self) -> None:
        browser, driver, self._browser, self._driver = self._browser, self._driver, None, None
        try:
            if browser is not None and browser.is_connected():
                browser.close()
        finally:
            if driver is not None:
                driver.stop()


CHROMIUM_OF_THIS_PROCESS = SharedChromium()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After the fixtures of a browser test: the driver stops when no browser test comes next
    (on an xdist worker too: a worker runs a test once it knows the next one)."""
    try:
        yield
    finally:
        here = Path(__file__).parent
        if nextitem is None or here not in nextitem.path.parents:
            CHROMIUM_OF_THIS_PROCESS.close()


@pytest.fixture(scope="module")
def browser() -> Browser:
    return CHROMIUM_OF_THIS_PROCESS.browser()


@dataclass
class Watch:
    """What a page did wrong: requests to other hosts, CSP violations, uncaught errors."""

    foreign: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def open_context(
    browser: Browser, server: TercelServer, **options: Any
) -> tuple[BrowserContext, Watch]:
    context = browser.new_context(
        base_url=server.url, viewport={"width": 1400, "height": 900}, **options
    )
    watch = Watch()
    origin = server.url.replace("http://", "")

    def guard(route: Any) -> None:
        host = route.request.url.split("/")[2] if "//" in route.request.url else ""
        if host == origin or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            watch.foreign.append(route.request.url)
            route.abort()

    context.route("**/*", guard)

    def on_console(message: Any) -> None:
        if message.type == "error" and (
            "Content Security Policy" in message.text or "Refused" in message.text
        ):
            watch.problems.append(message.text)

    context.on("page", lambda page: _watch_page(page, watch, on_console))
    return context, watch


def _watch_page(page: Page, watch: Watch, on_console: Any) -> None:
    page.on("console", on_console)
    page.on("pageerror", lambda error: watch.problems.append(f"page error: {error}"))


@pytest.fixture
def page(browser: Browser, tercel: TercelServer) -> Iterator[Page]:
    context, watch = open_context(browser, tercel)
    found = context.new_page()
    found.set_default_timeout(10_000)
    yield found
    context.close()
    assert not watch.foreign, f"requests to other hosts: {watch.foreign}"
    assert not watch.problems, watch.problems
