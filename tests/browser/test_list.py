"""The executions list, live: a new execution shows within 1 s and changes state in place."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect
from tests.browser.conftest import TercelServer


def open_list(page: Page, tercel: TercelServer, path: str = "/ui/executions") -> None:
    before = tercel.subscriptions()
    page.goto(path)
    expect(page.locator('[data-live="connected"]')).to_be_visible()
    tercel.wait_subscriptions(before + 1)  # the list's stateChanges stream is registered


def test_root_opens_the_executions_list(page: Page, tercel: TercelServer) -> None:
    page.goto("/")
    expect(page).to_have_url(tercel.url + "/ui/executions")
    expect(page.get_by_role("heading", name="Executions")).to_be_visible()


@pytest.mark.timing
def test_a_new_execution_appears_within_one_second(page: Page, tercel: TercelServer) -> None:
    open_list(page, tercel)
    started = time.monotonic()
    execution_id = tercel.create("steps")
    row = page.locator(f'[data-execution-id="{execution_id}"]')
    expect(row).to_be_visible(timeout=1000)
    assert time.monotonic() - started <= 1.0
    # then it changes state in place, live, until SUCCESS
    expect(row).to_have_attribute("data-state", "RUNNING", timeout=5000)
    expect(row).to_have_attribute("data-state", "SUCCESS", timeout=20_000)
    assert page.locator(f'[data-execution-id="{execution_id}"]').count() == 1


def test_filters_live_in_the_url(page: Page, tercel: TercelServer) -> None:
    failed = tercel.create("fails")
    tercel.wait_state(failed, {"FAILED"})
    open_list(page, tercel, "/ui/executions?state=FAILED&namespace=uitest")
    expect(page.locator(f'[data-execution-id="{failed}"]')).to_be_visible()
    states = page.locator("[data-execution-id]").evaluate_all(
        "rows => rows.map(r => r.dataset.state)"
    )
    assert states and set(states) == {"FAILED"}, states
    page.get_by_role("button", name="SUCCESS", exact=True).click()
    expect(page).to_have_url(tercel.url + "/ui/executions?state=FAILED%2CSUCCESS&namespace=uitest")


def test_new_rows_wait_behind_a_banner_when_scrolled(page: Page, tercel: TercelServer) -> None:
    for _ in range(25):
        tercel.create("fails")
    open_list(page, tercel, "/ui/executions?flow=fails")
    expect(page.locator("[data-execution-id]").nth(25)).to_be_attached()
    page.locator("[data-execution-id]").nth(25).scroll_into_view_if_needed()
    assert page.evaluate("() => window.scrollY") > 40, "the list did not scroll"
    first = page.locator("[data-execution-id]").first.get_attribute("data-execution-id")
    execution_id = tercel.create("fails")
    banner = page.locator("[data-new-executions]")
    expect(banner).to_have_text("1 new execution — show", timeout=2000)
    # what the person reads did not move
    assert page.locator("[data-execution-id]").first.get_attribute("data-execution-id") == first
    banner.click()
    expect(page.locator("[data-execution-id]").first).to_have_attribute(
        "data-execution-id", execution_id
    )


def test_an_absolute_window_and_neighbour_links(page: Page, tercel: TercelServer) -> None:
    first = tercel.create("fails")
    tercel.wait_state(first, {"FAILED"})
    second = tercel.create("fails")
    tercel.wait_state(second, {"FAILED"})
    # a window that ended before today: nothing; one around now: both
    open_list(page, tercel, "/ui/executions?flow=fails&to=2000-01-01T00:00:00Z")
    expect(page.get_by_text("No execution matches these filters.")).to_be_visible()
    page.goto("/ui/executions?flow=fails&from=2000-01-01T00:00:00Z")
    expect(page.locator(f'[data-execution-id="{second}"]')).to_be_visible()
    # the From field shows that instant in the browser's zone
    local = page.evaluate(
        """() => { const d = new Date('2000-01-01T00:00:00Z');
                   const local = new Date(d - d.getTimezoneOffset() * 60000);
                   return local.toISOString().slice(0, 16); }"""
    )
    expect(page.locator('input[type="datetime-local"]').first).to_have_value(local)
    page.goto(f"/ui/executions/{second}")
    page.locator("[data-previous-execution]").click()
    expect(page).to_have_url(f"{tercel.url}/ui/executions/{first}")
    page.locator("[data-next-execution]").click()
    expect(page).to_have_url(f"{tercel.url}/ui/executions/{second}")


def test_no_separator_after_the_flow_link_without_neighbours(
    page: Page, tercel: TercelServer
) -> None:
    """The header's "·" separates the flow link from the previous/next links: with neither
    (the flow's only execution), nothing follows the flow link."""
    source = (
        "id: lonely\nnamespace: uitest\ntasks:\n  - id: done\n"
        "    type: io.kestra.plugin.core.debug.Return\n    format: ok\n"
    )
    deployed = tercel.data(
        "mutation($s: String!) { deployFlow(source: $s) { __typename } }", {"s": source}
    )
    assert deployed["deployFlow"]["__typename"] == "Flow", deployed
    only = tercel.create("lonely")
    tercel.wait_state(only, {"SUCCESS"})
    page.goto(f"/ui/executions/{only}")
    crumbs = page.locator(".crumbs")
    expect(crumbs.get_by_role("link", name="uitest.lonely")).to_be_visible()
    page.wait_for_load_state("networkidle")  # the neighbours' query answered
    expect(crumbs).to_have_text("Executions / uitest.lonely")
    second = tercel.create("lonely")
    tercel.wait_state(second, {"SUCCESS"})
    page.goto(f"/ui/executions/{second}")
    expect(crumbs).to_have_text("Executions / uitest.lonely · ← Previous")
