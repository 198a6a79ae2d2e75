"""The browser and the load of bench/ui.py: Debian's chromium under Playwright (launched as
tests/browser/conftest.py launches it), pages that reach nothing but the server, executions
created at a steady rate while the executions list is open, and commit -> DOM latencies."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import api, uiparts, uiwatch

CHROMIUM = os.environ.get("TERCEL_CHROMIUM", "/usr/bin/chromium")
PROBE = (Path(__file__).parent / "ui_probe.js").read_text()
#: after the last execution of the stream ended, time for the list to show it (at most)
DRAIN_SECONDS = 10.0
SHOWN_FINAL = (
    """() => new Set(__probe.rows.filter((r) => r.state === "SUCCESS").map((r) => r.id)).size"""
)
STATES_PAGE = api.STATES_PAGE
#: every request to a host other than the loopback goes to a proxy that is not there (chromium
#: bypasses proxies for loopback addresses). Not Playwright's request interception
#: (tests/browser does that): it hands each request to this process, which answers only inside
#: Playwright calls, so a page's fetches would wait while the bench creates executions, and
#: each request would pay a round trip to Python.
ROWS_IN_DOM = """() => [...document.querySelectorAll("tr[data-execution-id]")]
  .map((tr) => tr.getAttribute("data-execution-id"))"""
GRAPHQL_TIMES = """() => performance.getEntriesByType("resource")
  .filter((e) => e.name.endsWith("/graphql")).map((e) => Math.round(e.responseEnd - e.startTime))"""
BLOCK_OTHER_HOSTS = ["--proxy-server=http://127.0.0.1:9"]
#: the page's long tasks summed (ms), and Date.now() minus the probe's clock at the start and
#: now (the page's stamps are compared with the server's dates: both must read the wall clock)
PAGE_CLOCK = """() => [__probe.longTasks.reduce((sum, [, ms]) => sum + ms, 0),
  __probe.skewAtStart, __probe.clockSkew()]"""


class Browser:
    """Headless chromium; `loaded_chunks`: the JS files (names) any page of it fetched."""

    def __enter__(self) -> Browser:
        from playwright.sync_api import sync_playwright

        if not Path(CHROMIUM).is_file():
            raise RuntimeError(f"{CHROMIUM} missing: apt-get install chromium (`make browser`)")
        self.driver = sync_playwright().start()
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        args += BLOCK_OTHER_HOSTS
        self.browser = self.driver.chromium.launch(executable_path=CHROMIUM, args=args)
        self.loaded_chunks: set[str] = set()
        self.foreign: list[str] = []
        #: uncaught errors of the pages, and console errors
        self.problems: list[str] = []
        return self

    def __exit__(self, *exc: object) -> None:
        self.browser.close()
        self.driver.stop()
        if self.foreign:
            raise RuntimeError(f"pages requested other hosts: {self.foreign[:5]}")


@dataclass
class Opened:
    """A page, and whether one of its subscriptions completed (Playwright's sync API hands its
    events over only inside its own calls: wait with `page.wait_for_timeout`)."""

    page: Any
    completed: bool = False
    sockets: int = 0

    def wait_settled(self, timeout_s: float) -> None:
        """Until the page's requests are done and, if it opened a websocket, a subscription on it
        completed (the execution page's log of a terminal execution)."""
        deadline = time.monotonic() + timeout_s
        self.page.wait_for_load_state("networkidle", timeout=timeout_s * 1000)
        while self.sockets and not self.completed:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no subscription completed in {timeout_s} s")
            self.page.wait_for_timeout(50)


@contextmanager
def open_page(browser: Browser, url: str, setup: str = "") -> Iterator[Opened]:
    """A page in a fresh context (cold cache) with the probe installed before the app's scripts;
    requests to other hosts are recorded (and fail: BLOCK_OTHER_HOSTS)."""
    context = browser.browser.new_context(base_url=url, viewport={"width": 1400, "height": 900})
    origin = url.removeprefix("http://")

    def watch(request: Any) -> None:
        target = request.url
        if "//" in target and target.split("/")[2] != origin:
            browser.foreign.append(target)

    def on_response(response: Any) -> None:
        if response.url.endswith(".js"):
            browser.loaded_chunks.add(response.url.rsplit("/", 1)[1])

    context.on("request", watch)
    context.add_init_script(setup + "\n" + PROBE)
    page = context.new_page()
    opened = Opened(page)
    page.on("response", on_response)
    page.on("pageerror", lambda error: browser.problems.append(f"page error: {error}"))
    page.on("console", lambda m: m.type == "error" and browser.problems.append(m.text))

    def on_socket(socket: Any) -> None:
        opened.sockets += 1

        def on_frame(payload: str | bytes) -> None:
            if isinstance(payload, str) and '"type":"complete"' in payload.replace(" ", ""):
                opened.completed = True

        socket.on("framereceived", on_frame)

    page.on("websocket", on_socket)
    try:
        yield opened
    finally:
        context.close()


def run_to_end(client: httpx.Client, namespace: str, flow_id: str, task_runs: int) -> str:
    """Create one execution and wait until it is terminal; check its task run count."""
    variables = {"ns": namespace, "f": flow_id}
    created = api._data(client.post("/graphql", json={"query": api.CREATE, "variables": variables}))
    execution_id: str = created["createExecution"]["id"]
    query = "query($id: ID!) { execution(id: $id) { state { current } taskRunList { id } } }"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        payload = {"query": query, "variables": {"id": execution_id}}
        found = api._data(client.post("/graphql", json=payload))["execution"]
        if found["state"]["current"] in api.TERMINAL:
            if len(found["taskRunList"]) != task_runs or found["state"]["current"] != "SUCCESS":
                raise RuntimeError(f"{flow_id}: {found['state']}, {len(found['taskRunList'])} runs")
            return execution_id
        time.sleep(0.2)
    raise RuntimeError(f"{flow_id} did not end in 300 s")


# ---------------------------------------------------------------------------- the stream


def _histories(client: httpx.Client, namespace: str, flow_id: str) -> dict[str, list[Any]]:
    """execution id -> its state histories [(state, epoch ms)], paged by 100."""
    found: dict[str, list[Any]] = {}
    after = None
    while True:
        variables = {"ns": namespace, "f": flow_id, "after": after}
        page = api._data(
            client.post("/graphql", json={"query": STATES_PAGE, "variables": variables})
        )
        for edge in page["executions"]["edges"]:
            node = edge["node"]
            found[node["id"]] = [
                (h["state"], api._parse(h["date"]) * 1000) for h in node["state"]["histories"]
            ]
        if not page["executions"]["pageInfo"]["hasNextPage"]:
            return found
        after = page["executions"]["pageInfo"]["endCursor"]


#: connections the open-loop offer may hold at once (an answer slower than 10 ms holds one)
MAX_CONNECTIONS = 64


@dataclass(frozen=True)
class Offered:
    """What the stream's offer sent: how many, at what rate (by the clock of the sends), and
    how long `createExecution` took to answer (ms; it answers once its commit is durable)."""

    total: int
    #: when the offer began (epoch s): the stream's window starts here
    started_at: float
    sent_per_s: float
    answer_p50_ms: float
    answer_p99_ms: float


def _offer(url: str, namespace: str, rate: int, seconds: float) -> Offered:
    """Open loop, as bench/api.py offers its load: the n-th createExecution is sent at n / rate
    s whether or not the earlier ones were answered (clients that each waited for their answer,
    4 of them, sent 70 of the 100/s offered while the browser shared the cores: the figure was
    the bench's, not the server's). Sent from an event loop of its own (Playwright's sync API
    holds this thread's), with bench/api.py's lean HTTP client (httpx costs 2-4 ms of CPU per
    request)."""

    async def offer() -> api.Load:
        pool = api.RawPool(url, MAX_CONNECTIONS)
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            load = api.Load(client, pool, namespace)
            try:
                await api._offer(load, "live", rate, seconds)
            finally:
                pool.close()
        return load

    started_at = time.time()
    with ThreadPoolExecutor(1) as thread:
        load = thread.submit(asyncio.run, offer()).result()
    if load.errors:
        raise RuntimeError(f"createExecution: {load.errors[:3]}")
    sends = load.send_times
    answers = [a * 1000 for a in load.answered.values()]
    return Offered(
        total=len(sends),
        started_at=started_at,
        sent_per_s=(len(sends) - 1) / (sends[-1] - sends[0]) if len(sends) > 1 else 0.0,
        answer_p50_ms=round(api.percentile(answers, 50), 1),
        answer_p99_ms=round(api.percentile(answers, 99), 1),
    )


def stream(
    browser: Browser, url: str, namespace: str, rate: int, seconds: float
) -> tuple[list[dict[str, Any]], dict[str, list[Any]], Offered, set[str], dict[str, Any]]:
    """Open the list filtered on `namespace`, create `rate` executions/s for `seconds`; the
    rows the page recorded, the executions' histories, the rate really sent (each create
    waits for its answer: a slow server lowers it), the executions with no row in the DOM
    at the end (a check of the probe: its "never shown" must be among them) and where the
    time went (`uiparts.breakdown`)."""
    with open_page(browser, url) as opened, httpx.Client(base_url=url, timeout=60) as client:
        page = opened.page
        page.goto(f"/ui/executions?namespace={namespace}")
        page.get_by_text("No execution matches these filters.").wait_for()
        _subscribed(client, 1)
        with uiwatch.watching(url, namespace) as watched:
            _subscribed(client, 2)
            offered = _offer(url, namespace, rate, seconds)
            total = offered.total
            variables = {"ns": namespace, "f": "live", "done": list(api.TERMINAL)}
            deadline = time.monotonic() + 60
            while api._data(
                client.post("/graphql", json={"query": api.UNFINISHED, "variables": variables})
            )["executions"]["totalCount"]:
                if time.monotonic() > deadline:
                    raise RuntimeError("the streamed executions did not end")
                page.wait_for_timeout(100)
        _drain(page, total)
        rows: list[dict[str, Any]] = page.evaluate("() => __probe.rows")
        in_dom: list[str] = page.evaluate(ROWS_IN_DOM)
        arrivals = uiparts.page_arrivals(page.evaluate("() => __probe.wsFrames"))
        page_clock: list[float] = page.evaluate(PAGE_CLOCK)
        dom_batches: list[float] = page.evaluate("() => __probe.domBatches")
        if os.environ.get("TERCEL_BENCH_UI_DEBUG"):  # ms per GraphQL request of the page
            print(page.evaluate(GRAPHQL_TIMES))
        dates = _histories(client, namespace, "live")
    if len(dates) != total:
        raise RuntimeError(f"{total} executions created, {len(dates)} found")
    parts = uiparts.breakdown(rows, dates, arrivals, watched)
    parts["main_thread_busy_ms"] = round(page_clock[0])
    parts["clock_skew_ms"] = [round(x, 1) for x in page_clock[1:]]
    parts["dom_batches_per_s"] = _per_s(dom_batches, offered.started_at * 1000, rows)
    return rows, dates, offered, set(dates) - set(in_dom), parts


def _per_s(stamps: list[float], start_ms: float, rows: list[dict[str, Any]]) -> float:
    """How many of `stamps` (epoch ms) a second from `start_ms` to the last row record."""
    end_ms = max((r["t"] for r in rows), default=start_ms)
    inside = [t for t in stamps if start_ms <= t <= end_ms]
    return round(len(inside) * 1000 / (end_ms - start_ms), 1) if end_ms > start_ms else 0.0


def _subscribed(client: httpx.Client, count: int) -> None:
    """Until the server counts `count` subscriptions (the list's, then the watcher's too)."""
    deadline = time.monotonic() + 10
    while client.get("/health").json().get("subscriptions", 0) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count} subscriptions expected, the server has fewer")
        time.sleep(0.05)


def _drain(page: Any, total: int) -> None:
    """Until the list shows every execution in SUCCESS, or DRAIN_SECONDS passed."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while page.evaluate(SHOWN_FINAL) < total and time.monotonic() < deadline:
        page.wait_for_timeout(250)


def stream_latencies(rows: list[dict[str, Any]], dates: dict[str, list[Any]]) -> dict[str, Any]:
    """Appearance: DOM time - first history date; a state change: DOM time - that state's date."""
    appear, change = [], []
    for row in rows:
        history = dates.get(row["id"])
        if not history:
            continue
        if row["kind"] == "add":
            appear.append(row["t"] - history[0][1])
        else:
            at = [d for state, d in history if state == row["state"]]
            if at:
                change.append(row["t"] - at[-1])
    shown = {r["id"] for r in rows}
    final = {r["id"]: r["state"] for r in rows}
    stale = sum(final.get(i) != h[-1][0] for i, h in dates.items() if i in shown)
    both = appear + change
    p99 = api.percentile(both, 99) if len(shown) == len(dates) and not stale else float("inf")
    return {
        "unit": "ms",
        "median": api.percentile(both, 50),
        "p99": p99,
        "p99_by_run": [p99],
        "max": max(both, default=float("inf")),
        "appear_p50": api.percentile(appear, 50),
        "appear_p99": api.percentile(appear, 99),
        "change_p50": api.percentile(change, 50),
        "change_p99": api.percentile(change, 99),
        "changes_timed": len(change),
        "executions": len(dates),
        "never_shown": len(dates) - len(shown & set(dates)),
        "not_final_state": stale,
    }
