"""The header's UTC switch: dates read in the browser's zone (here Asia/Kolkata, +05:30) or in
UTC, and the choice survives a reload."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.browser.conftest import TercelServer, open_context

ZONE = "Asia/Kolkata"


@pytest.fixture
def kolkata_page(browser: Browser, tercel: TercelServer) -> Iterator[Page]:
    context, watch = open_context(browser, tercel, timezone_id=ZONE)
    found = context.new_page()
    yield found
    context.close()
    assert not watch.foreign and not watch.problems, (watch.foreign, watch.problems)


def shown(moment: datetime, zone: ZoneInfo) -> str:
    """A date as lib/format.ts writes it: `2026-11-22 04:58:49`, a `Z` after it in UTC."""
    text = moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    return text + "Z" if zone.key == "UTC" else text


def test_dates_switch_between_the_browsers_zone_and_utc_and_stay(
    kolkata_page: Page, tercel: TercelServer
) -> None:
    page = kolkata_page
    execution_id = tercel.create("steps")
    tercel.wait_state(execution_id, {"SUCCESS"})
    page.goto(f"/ui/executions?q={execution_id}")
    start = page.locator(f'[data-execution-id="{execution_id}"] time')
    moment = datetime.fromisoformat(str(start.get_attribute("datetime")))
    local, utc = shown(moment, ZoneInfo(ZONE)), shown(moment, ZoneInfo("UTC"))
    assert local.rstrip("Z") != utc.rstrip("Z")  # +05:30 apart
    switch = page.locator("header button[aria-pressed]")
    expect(switch).to_have_attribute("aria-pressed", "false")
    expect(start).to_have_text(local)
    switch.click()
    expect(switch).to_have_attribute("aria-pressed", "true")
    expect(start).to_have_text(utc)
    page.reload()
    expect(start).to_have_text(utc)
    expect(switch).to_have_attribute("aria-pressed", "true")
    switch.click()
    expect(start).to_have_text(local)
    page.reload()
    expect(start).to_have_text(local)
    expect(switch).to_have_attribute("aria-pressed", "false")
