"""The executions list shows new rows from its stream (an execution's first entry carries its
row), not from a query: with every `executions` query held after the first page, new matches
still show, with their flow and labels. After a dropped websocket (replayed entries carry no
row) the look at the head fills the gap: no row missed or repeated."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import Page, Route, expect
from tests.browser.conftest import TercelServer
from tests.browser.test_list_burst import FLOW, RENDERED, deploy, reveal_all, shown_ids


def open_namespace(page: Page, tercel: TercelServer, namespace: str, query: str = "") -> None:
    """The burst flow deployed in `namespace` (one per test: the server is shared), and the
    list open on it, empty, its stream registered (waiting inside Playwright calls: a page whose
    websocket a test proxies talks only while Playwright is called)."""
    deploy(tercel, FLOW.replace("namespace: uiburst", f"namespace: {namespace}"))
    before = tercel.subscriptions()
    open_list_page = f"/ui/executions?namespace={namespace}{query}"
    page.goto(open_list_page)
    expect(page.get_by_text("No execution matches these filters.")).to_be_visible()
    for _ in range(500):
        if tercel.subscriptions() > before:
            return
        page.wait_for_timeout(20)
    raise AssertionError("the list did not subscribe")


def create_many(tercel: TercelServer, namespace: str, count: int) -> list[str]:
    fields = " ".join(
        f'e{n}: createExecution(namespace: "{namespace}", flowId: "burst")'
        " { ... on Execution { id } }"
        for n in range(count)
    )
    found = tercel.data(f"mutation {{ {fields} }}")
    return [found[f"e{n}"]["id"] for n in range(count)]


@contextmanager
def queries_held(page: Page) -> Iterator[list[Route]]:
    """Every `executions` query of the page waits (its route held) until the block ends."""
    held: list[Route] = []

    def hold(route: Route) -> None:
        if "query Executions" in (route.request.post_data or ""):
            held.append(route)
        else:
            route.continue_()

    page.route("**/graphql", hold)
    try:
        yield held
    finally:
        for route in held:
            route.continue_()
        page.unroute("**/graphql")


def labelled(tercel: TercelServer, namespace: str) -> str:
    found = tercel.data(
        f'mutation {{ createExecution(namespace: "{namespace}", flowId: "burst",'
        ' labels: [{key: "team", value: "blue"}]) { ... on Execution { id } } }'
    )
    execution_id: str = found["createExecution"]["id"]
    return execution_id


def test_a_new_row_comes_from_the_stream_without_a_query(page: Page, tercel: TercelServer) -> None:
    open_namespace(page, tercel, "uilive.row")
    with queries_held(page) as held:
        execution_id = labelled(tercel, "uilive.row")
        row = page.locator(f'tr[data-execution-id="{execution_id}"]')
        expect(row).to_be_visible(timeout=3000)
        expect(row).to_contain_text("burst")
        expect(row).to_contain_text("team")
        expect(row).to_have_attribute("data-state", "SUCCESS", timeout=10_000)
        queries = len(held)
    page.wait_for_timeout(500)  # the held looks answered: none adds the row again
    assert shown_ids(page) == [execution_id]
    assert queries <= 1, f"{queries} looks at the head for one created execution"


def test_a_state_filter_takes_rows_as_they_enter_it(page: Page, tercel: TercelServer) -> None:
    """Created executions outside the filter (CREATED, RUNNING) join it when they end SUCCESS."""
    open_namespace(page, tercel, "uilive.state", "&state=SUCCESS")
    with queries_held(page):
        created = create_many(tercel, "uilive.state", 5)
        rows = page.locator('tr[data-execution-id][data-state="SUCCESS"]')
        expect(rows).to_have_count(len(created), timeout=5000)
    page.wait_for_timeout(500)
    shown = shown_ids(page)
    assert sorted(shown) == sorted(created)


def test_a_dropped_list_stream_misses_and_repeats_nothing(page: Page, tercel: TercelServer) -> None:
    sockets: list[Any] = []

    def proxy(ws: Any) -> None:
        sockets.append(ws)
        ws.connect_to_server()

    page.route_web_socket("**/graphql", proxy)
    open_namespace(page, tercel, "uilive.drop")

    def created_in_drop() -> list[str]:
        ids: list[str] = []
        for _ in range(30):  # 300 executions over ~1.5 s, the socket dropped in the middle
            ids += create_many(tercel, "uilive.drop", 10)
            time.sleep(0.05)
        return ids

    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(created_in_drop)
        page.wait_for_timeout(600)
        sockets[-1].close(code=1011, reason="dropped by the test")
        while not future.done():  # the proxy forwards only inside Playwright calls
            page.wait_for_timeout(50)
        created = future.result()
    expect(page.locator('[data-live="connected"]')).to_be_visible(timeout=10_000)
    assert len(sockets) >= 2, "the list did not reconnect"
    unfinished = """query { executions(filter: {namespaceEquals: "uilive.drop",
                     stateNotIn: [SUCCESS]}, first: 1) { totalCount } }"""
    for _ in range(600):  # every execution ended (a loaded machine runs 300 slowly)
        if not tercel.data(unfinished)["executions"]["totalCount"]:
            break
        page.wait_for_timeout(100)
    rows = page.locator('tr[data-execution-id][data-state="SUCCESS"]')
    expect(rows).to_have_count(RENDERED, timeout=20_000)
    reveal_all(page, len(created))
    expect(rows).to_have_count(len(created), timeout=20_000)
    page.wait_for_timeout(500)
    shown = shown_ids(page)
    assert len(shown) == len(set(shown)) and set(shown) == set(created)


def test_a_flow_page_shows_a_new_execution_from_the_stream(
    page: Page, tercel: TercelServer
) -> None:
    """The flow page's executions are live as the list is: a new one comes with its row on its
    first entry (no query); one of the same flow id in a sub-namespace, which the stream's
    namespace filter also carries, stays out."""
    namespace = "uilive.flow"
    deploy(tercel, FLOW.replace("namespace: uiburst", f"namespace: {namespace}"))
    deploy(tercel, FLOW.replace("namespace: uiburst", f"namespace: {namespace}.sub"))
    before = tercel.subscriptions()
    page.goto(f"/ui/flows/{namespace}/burst")
    expect(page.get_by_text("This flow has not run yet.")).to_be_visible()
    for _ in range(500):
        if tercel.subscriptions() > before:
            break
        page.wait_for_timeout(20)
    with queries_held(page) as held:
        other = labelled(tercel, f"{namespace}.sub")
        execution_id = labelled(tercel, namespace)
        row = page.locator(f'tr[data-execution-id="{execution_id}"]')
        expect(row).to_be_visible(timeout=3000)
        expect(row).to_contain_text("team")
        expect(row).to_have_attribute("data-state", "SUCCESS", timeout=10_000)
        queries = len(held)
    page.wait_for_timeout(500)
    assert shown_ids(page) == [execution_id], f"{other} is a sub-namespace's"
    assert queries <= 1, f"{queries} looks at the head for one created execution"
