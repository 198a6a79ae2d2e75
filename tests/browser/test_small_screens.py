"""A phone-sized window (390 px wide): the header keeps the UTC switch and the live indicator in
view (its links scroll sideways), and the execution page does not run off the screen (the
Gantt scrolls inside its own box, its toolbar and the tabs wrap or scroll), nor does the
executions list (its table scrolls inside its own box, the id and state columns in view)."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from tests.browser.conftest import TercelServer

WIDTH = 390


def in_view(page: Page, selector: str) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    assert 0 <= box["x"] and box["x"] + box["width"] <= WIDTH, (selector, box)


def finished_on_a_phone(page: Page, tercel: TercelServer) -> str:
    """A phone-sized window and the id of a finished execution to look at."""
    page.set_viewport_size({"width": WIDTH, "height": 800})
    execution_id = tercel.create("steps")
    tercel.wait_state(execution_id, {"SUCCESS"})
    return execution_id


def test_a_phone_keeps_the_indicator_in_view_and_the_page_in_its_width(
    page: Page, tercel: TercelServer
) -> None:
    execution_id = finished_on_a_phone(page, tercel)
    for path in ("/ui/executions", f"/ui/executions/{execution_id}", "/ui/taskruns"):
        page.goto(path)
        expect(page.locator('[data-live="connected"]')).to_be_visible()
        in_view(page, "[data-live]")
        in_view(page, "header button[aria-pressed]")  # the UTC switch
    for tab in ("gantt", "logs", "timetravel"):
        page.goto(f"/ui/executions/{execution_id}?tab={tab}")
        expect(page.locator("[data-execution-state]")).to_be_visible()
        page.wait_for_timeout(300)  # the tab's content laid out
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= WIDTH, (tab, width)


def test_a_phone_scrolls_the_executions_table_in_its_own_box(
    page: Page, tercel: TercelServer
) -> None:
    execution_id = finished_on_a_phone(page, tercel)
    page.goto("/ui/executions?flow=steps")
    row = page.locator(f'[data-execution-id="{execution_id}"]')
    expect(row).to_have_attribute("data-state", "SUCCESS")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, width  # the page itself does not scroll sideways
    in_view(page, "[data-live]")
    for field in ('input[type="search"]', 'form[aria-label="Filters"] select'):
        in_view(page, field)
    # the id and the state are readable without scrolling; the rest scrolls inside the table's box
    in_view(page, f'[data-execution-id="{execution_id}"] a.mono')
    in_view(page, f'[data-execution-id="{execution_id}"] .badge')
    last = page.locator(f'[data-execution-id="{execution_id}"] td').last
    last.scroll_into_view_if_needed()  # the attempts column, reached by scrolling the box
    in_view(page, f'[data-execution-id="{execution_id}"] td:last-child')
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
