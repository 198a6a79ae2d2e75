"""The open executions list under a burst: hundreds of executions created faster than the list
looks at its head (more than one page of 50 between two looks) each show exactly once, on the
page or counted by the "N new" banner; none is missed, none repeated."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from playwright.sync_api import Page, expect
from tests.browser.conftest import TercelServer
from tests.browser.test_list import open_list

NAMESPACE = "uiburst"
FLOW = f"""id: burst
namespace: {NAMESPACE}
tasks:
  - id: done
    type: io.kestra.plugin.core.debug.Return
    format: ok
"""
#: executions per request (aliased mutations) and requests in flight: a burst of several
#: hundred per second, far more than 50 between two looks of the list
PER_REQUEST = 10
SENDERS = 6
ROW_IDS = """() => [...document.querySelectorAll("tr[data-execution-id]")]
  .map((tr) => tr.getAttribute("data-execution-id"))"""


#: rows the list renders at first (ui/src/lib/pager.svelte.ts RENDERED)
RENDERED = 100


def deploy(tercel: TercelServer, source: str = FLOW) -> None:
    found = tercel.data(
        "mutation($s: String!) { deployFlow(source: $s) { __typename } }", {"s": source}
    )
    assert found["deployFlow"]["__typename"] == "Flow", found


def create_batch(tercel: TercelServer, count: int) -> list[str]:
    fields = " ".join(
        f'e{n}: createExecution(namespace: "{NAMESPACE}", flowId: "burst") '
        "{ __typename ... on Execution { id } }"
        for n in range(count)
    )
    found = tercel.data(f"mutation {{ {fields} }}")
    assert all(v["__typename"] == "Execution" for v in found.values()), found
    return [found[f"e{n}"]["id"] for n in range(count)]


def burst(tercel: TercelServer, total: int) -> list[str]:
    with ThreadPoolExecutor(SENDERS) as pool:
        batches = pool.map(lambda _: create_batch(tercel, PER_REQUEST), range(total // PER_REQUEST))
        return [i for batch in batches for i in batch]


def wait_all_ended(tercel: TercelServer, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    query = """query($ns: String!) { executions(filter: {namespaceEquals: $ns,
                 stateNotIn: [SUCCESS]}, first: 1) { totalCount } }"""
    while tercel.data(query, {"ns": NAMESPACE})["executions"]["totalCount"]:
        assert time.monotonic() < deadline, "the burst did not end"
        time.sleep(0.1)


def shown_ids(page: Page) -> list[str]:
    found: list[str] = page.evaluate(ROW_IDS)
    return found


def wait_settled(page: Page, quiet_s: float = 1.0, timeout: float = 30.0) -> None:
    """Until the top row has not changed for `quiet_s`: the page took the burst's last frames.
    `wait_all_ended` asks the server; a page on a loaded machine can still be taking frames
    then, and a row arriving once the test has scrolled down waits behind the "N new" banner
    (as it should), which the first part of the test does not expect."""
    deadline = time.monotonic() + timeout
    top, since = None, time.monotonic()
    while time.monotonic() - since < quiet_s:
        assert time.monotonic() < deadline, "the list kept changing"
        shown = shown_ids(page)
        now = shown[0] if shown else None
        if now != top:
            top, since = now, time.monotonic()
        page.wait_for_timeout(100)


def reveal_all(page: Page, expected: int) -> None:
    """Scroll to the end of the list until it renders `expected` rows (it renders the first
    RENDERED, and more as the reader nears its end)."""
    rows = page.locator("tr[data-execution-id]")
    for _ in range(100):
        if rows.count() >= expected:
            return
        page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_timeout(100)
    raise AssertionError(f"{rows.count()} rows rendered after scrolling, {expected} expected")


def test_a_burst_shows_every_execution_once(page: Page, tercel: TercelServer) -> None:
    deploy(tercel)
    open_list(page, tercel, f"/ui/executions?namespace={NAMESPACE}")
    expect(page.get_by_text("No execution matches these filters.")).to_be_visible()
    # at the top of the page: every new row goes straight in, the page renders the newest
    # RENDERED (the others come as the reader scrolls: a list at its top taking rows at 100/s
    # would otherwise lay out thousands of rows per frame)
    first = burst(tercel, 400)
    wait_all_ended(tercel)
    wait_settled(page)
    rows = page.locator("tr[data-execution-id]")
    success = page.locator('tr[data-execution-id][data-state="SUCCESS"]')
    expect(success).to_have_count(RENDERED, timeout=20_000)
    page.wait_for_timeout(300)
    expect(rows).to_have_count(RENDERED)
    assert set(shown_ids(page)) <= set(first)
    reveal_all(page, len(first))
    expect(rows).to_have_count(len(first))
    expect(success).to_have_count(len(first))
    page.wait_for_timeout(500)  # a late look would add a row twice now
    shown = shown_ids(page)
    assert len(shown) == len(set(shown)) and set(shown) == set(first)
    assert page.locator("[data-new-executions]").count() == 0

    # scrolled down: the new rows wait behind the banner, which counts each exactly once
    rows.nth(200).scroll_into_view_if_needed()
    assert page.evaluate("() => window.scrollY") > 40, "the list did not scroll"
    second = burst(tercel, 300)
    wait_all_ended(tercel)
    banner = page.locator("[data-new-executions]")
    expect(banner).to_have_attribute("data-new-executions", str(len(second)), timeout=20_000)
    page.wait_for_timeout(500)
    expect(banner).to_have_attribute("data-new-executions", str(len(second)))
    assert shown_ids(page) == shown, "rows moved under the reader"
    banner.click()
    expect(rows).to_have_count(len(first) + len(second))
    shown = shown_ids(page)
    assert len(shown) == len(set(shown)) and set(shown) == set(first) | set(second)
    assert shown[: len(second)] and set(shown[: len(second)]) == set(second)


def test_an_execution_ended_before_the_stream_registered_shows(
    page: Page, tercel: TercelServer
) -> None:
    """The list reads its first page, then its stream registers at HEAD: an execution created
    and ended in between is in neither (no later event names it). The list looks at its head
    once the stream is surely there. Here the stream's `subscribe` is held until it ended."""
    deploy(tercel, FLOW.replace(f"namespace: {NAMESPACE}", "namespace: uigap"))
    held: list[str] = []
    servers: list[Any] = []

    def proxy(ws: Any) -> None:
        server = ws.connect_to_server()
        servers.append(server)

        def from_page(message: str | bytes) -> None:
            if isinstance(message, str) and '"subscribe"' in message and len(servers) == 1:
                held.append(message)
            else:
                server.send(message)

        ws.on_message(from_page)
        server.on_message(ws.send)

    page.route_web_socket("**/graphql", proxy)
    page.goto("/ui/executions?namespace=uigap")
    expect(page.get_by_text("No execution matches these filters.")).to_be_visible()
    for _ in range(250):  # the page's subscribe arrived (and is held)
        if held:
            break
        page.wait_for_timeout(20)
    assert held, "the list did not subscribe"
    found = tercel.data(
        'mutation { createExecution(namespace: "uigap", flowId: "burst") {'
        " ... on Execution { id } } }"
    )
    execution_id = found["createExecution"]["id"]
    tercel.wait_state(execution_id, {"SUCCESS"})
    for message in held:
        servers[0].send(message)
    expect(page.locator(f'[data-execution-id="{execution_id}"]')).to_have_attribute(
        "data-state", "SUCCESS", timeout=5000
    )
