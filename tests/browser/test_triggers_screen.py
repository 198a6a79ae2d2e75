"""The triggers screen and the flow page's Triggers tab: next date with a countdown, the enable
switch (`setTriggerDisabled`) and a backfill (`backfillTrigger`) whose result is shown."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from playwright.sync_api import Page, expect
from tests.browser.conftest import TercelServer
from tests.browser.test_list_burst import deploy

TRIGGERS = """{ triggers(namespace: "uitest") { flowId id disabled nextDate } }"""
NIGHTLY = """{ executions(filter: {namespaceEquals: "uitest", flowId: "nightly"}, first: 100) {
  edges { node { id trigger { variables } } } } }"""


def nightly(tercel: TercelServer) -> dict[str, object]:
    found: dict[str, object] = next(
        t for t in tercel.data(TRIGGERS)["triggers"] if t["flowId"] == "nightly"
    )
    return found


def test_toggle_and_backfill_from_the_triggers_page(page: Page, tercel: TercelServer) -> None:
    page.goto("/ui/triggers")
    row = page.locator('[data-flow-id="nightly"][data-trigger-id="at-three"]')
    next_date = nightly(tercel)["nextDate"]
    expect(row.locator("[data-next-date]")).to_have_attribute("data-next-date", str(next_date))
    expect(row.locator(".countdown")).to_have_text(re.compile(r"^in \d"))
    switch = row.get_by_role("switch")
    expect(switch).to_be_checked()
    switch.uncheck()
    expect(row).to_have_attribute("data-disabled", "true")
    assert nightly(tercel)["disabled"] is True
    page.reload()  # the server kept it
    expect(row.get_by_role("switch")).not_to_be_checked()
    row.get_by_role("switch").check()
    expect(row).to_have_attribute("data-disabled", "false")
    assert nightly(tercel)["disabled"] is False

    before = len(tercel.data(NIGHTLY)["executions"]["edges"])
    page.locator("header .pill", has_text="UTC").click()  # dates typed in UTC
    row.locator('[data-action="backfill"]').click()
    dialog = page.get_by_role("dialog")
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = today - timedelta(days=3), today  # three 03:00 dates: days -3, -2, -1
    dialog.locator("[data-backfill-start]").fill(start.strftime("%Y-%m-%dT%H:%M"))
    dialog.locator("[data-backfill-end]").fill(end.strftime("%Y-%m-%dT%H:%M"))
    page.locator("[data-confirm]").click()
    expect(dialog.locator("[data-backfill-result]")).to_have_attribute("data-backfill-result", "3")
    links = dialog.locator('a[href^="/ui/executions/"]')
    expect(links).to_have_count(3)
    for day in (3, 2, 1):
        stamp = (today - timedelta(days=day)).strftime("%Y-%m-%d 03:00:00Z")
        expect(dialog).to_contain_text(stamp)
    edges = tercel.data(NIGHTLY)["executions"]["edges"]
    assert len(edges) == before + 3
    page.locator("[data-confirm]").click()  # Done
    expect(dialog).to_have_count(0)
    page.locator("header .pill", has_text="UTC").click()


def test_the_flow_page_has_a_triggers_tab(page: Page, tercel: TercelServer) -> None:
    page.goto("/ui/flows/uitest/nightly")
    page.get_by_role("link", name="Triggers", exact=True).last.click()
    expect(page).to_have_url(re.compile(r"/ui/flows/uitest/nightly\?tab=triggers$"))
    expect(page.locator('[data-trigger-id="at-three"]')).to_have_count(1)
    expect(page.locator("[data-trigger-id]")).to_have_count(1)
    page.goto("/ui/flows/uitest/greet?tab=triggers")
    expect(page.get_by_text("This flow has no triggers.")).to_be_visible()


HOOKED = """id: hooked
namespace: uitrig.live
tasks:
  - id: done
    type: io.kestra.plugin.core.debug.Return
    format: ok
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: a-live-key-0123456789
"""


def test_a_triggered_execution_shows_on_the_triggers_page_live(
    page: Page, tercel: TercelServer
) -> None:
    """The page follows the executions its triggers create (its 15 s reload is for what no
    stream carries): a webhook's execution shows as the trigger's last one at once."""
    deploy(tercel, HOOKED)
    before = tercel.subscriptions()
    page.goto("/ui/triggers?namespace=uitrig.live")
    row = page.locator('[data-flow-id="hooked"][data-trigger-id="hook"]')
    expect(row).to_contain_text("none yet")
    tercel.wait_subscriptions(before + 1)
    answer = httpx.post(
        f"{tercel.url}/api/v1/executions/webhook/uitrig.live/hooked/a-live-key-0123456789"
    )
    assert answer.status_code == 200, answer.text
    execution_id = answer.json()["id"]
    last = row.locator("[data-last-execution]")
    expect(last).to_have_attribute("title", execution_id, timeout=5000)
