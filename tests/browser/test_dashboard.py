"""The dashboard: counts by state per bucket and p50/p90/p99 per flow, the range in the URL,
refreshed live as executions change."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from tests.browser.conftest import TercelServer


def test_counts_and_percentiles_follow_new_executions(page: Page, tercel: TercelServer) -> None:
    failed = tercel.create("fails")
    tercel.wait_state(failed, {"FAILED"})
    before = tercel.subscriptions()
    page.goto("/ui/dashboard?range=PT1H")
    expect(page.locator('[data-live="connected"]')).to_be_visible()
    tercel.wait_subscriptions(before + 1)
    total = page.locator("[data-total-executions]")
    expect(total).not_to_have_attribute("data-total-executions", "0")
    shown = int(total.get_attribute("data-total-executions") or "0")
    fails = page.locator('[data-percentiles] [data-flow="uitest/fails"]')
    expect(fails).to_be_visible()
    assert re.search(r"\d+(ms|\.\d+s)", fails.inner_text()), fails.inner_text()

    tercel.wait_state(tercel.create("fails"), {"FAILED"})
    tercel.wait_state(tercel.create("fails"), {"FAILED"})
    expect(total).to_have_attribute("data-total-executions", str(shown + 2), timeout=5000)
    expect(page.locator('[data-state-total="FAILED"]')).to_be_visible()

    page.locator("[data-range]").select_option("PT168H")
    expect(page).to_have_url(tercel.url + "/ui/dashboard?range=PT168H")
    expect(page.get_by_text("Executions by state — last 7 days")).to_be_visible()
