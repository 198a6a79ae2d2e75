"""Flows: the list (namespace and status filters in the URL, last execution state, live), a flow
page (highlighted source, revision picker, diff, enable/disable, its executions live) and the
Execute dialog (issues inline next to their fields, then the new execution)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from tests.browser.conftest import TercelServer

FLOW = """id: {id}
namespace: uitest
description: made by a browser test
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "{message}"
"""


def deploy(tercel: TercelServer, flow_id: str, message: str = "hello") -> int:
    found = tercel.data(
        """mutation($s: String!) { deployFlow(source: $s) { __typename
             ... on Flow { revision } ... on Error { message } } }""",
        {"s": FLOW.format(id=flow_id, message=message)},
    )["deployFlow"]
    assert found["__typename"] == "Flow", found
    revision: int = found["revision"]
    return revision


def disabled(tercel: TercelServer, flow_id: str) -> bool:
    flow = tercel.data(
        'query($id: String!) { flow(namespace: "uitest", id: $id) { disabled } }', {"id": flow_id}
    )["flow"]
    return bool(flow["disabled"])


def open_live(page: Page, tercel: TercelServer, path: str) -> None:
    before = tercel.subscriptions()
    page.goto(path)
    expect(page.locator('[data-live="connected"]')).to_be_visible()
    tercel.wait_subscriptions(before + 1)


def test_execute_dialog_shows_issues_inline_then_opens_the_execution(
    page: Page, tercel: TercelServer
) -> None:
    page.goto("/ui/flows/uitest/greet")
    page.locator('button[data-action="execute"]').click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("times")).to_have_value("2")  # the default
    dialog.get_by_label("name").fill("R2-D2")  # the validator wants letters only
    dialog.get_by_label("times").fill("many")
    dialog.locator("[data-confirm]").click()
    expect(dialog.locator('[data-issue="name"]')).to_contain_text("R2-D2")
    expect(dialog.locator('[data-issue="times"]')).to_contain_text("many")
    expect(dialog.locator('[data-input="name"]')).to_have_attribute("data-invalid", "true")
    expect(dialog.locator('[data-issue="loud"]')).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/ui/flows/uitest/greet$"))

    dialog.get_by_label("name").fill("Ann")
    dialog.get_by_label("times").fill("3")
    dialog.get_by_label("loud").check()
    dialog.locator("[data-confirm]").click()
    expect(page).to_have_url(re.compile(r"/ui/executions/[0-9A-Za-z]+$"))
    execution_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("[data-execution-state]")).to_have_attribute(
        "data-execution-state", "SUCCESS", timeout=15_000
    )
    inputs = tercel.data("query($id: ID!) { execution(id: $id) { inputs } }", {"id": execution_id})
    assert inputs["execution"]["inputs"] == {"name": "Ann", "times": 3, "loud": True}


def test_disable_then_enable_a_flow(page: Page, tercel: TercelServer) -> None:
    deploy(tercel, "toggled")
    page.goto("/ui/flows/uitest/toggled")
    page.locator('button[data-action="disable"]').click()
    page.locator("[data-confirm]").click()
    expect(page.locator("[data-flow-disabled]")).to_be_visible()
    expect(page.locator('button[data-action="execute"]')).to_be_disabled()
    assert disabled(tercel, "toggled")

    page.goto("/ui/flows?namespace=uitest&status=disabled")
    expect(page.locator('[data-flow="uitest/toggled"]')).to_have_attribute("data-disabled", "true")
    assert page.locator('[data-flow][data-disabled="false"]').count() == 0
    page.locator("[data-status-filter]").select_option("enabled")
    expect(page).to_have_url(re.compile(r"/ui/flows\?namespace=uitest&status=enabled$"))
    expect(page.locator('[data-flow="uitest/toggled"]')).to_have_count(0)
    expect(page.locator('[data-flow="uitest/greet"]')).to_be_visible()

    page.goto("/ui/flows/uitest/toggled")
    page.locator('button[data-action="enable"]').click()
    page.locator("[data-confirm]").click()
    expect(page.locator("[data-flow-disabled]")).to_have_count(0)
    expect(page.locator('button[data-action="execute"]')).to_be_enabled()
    assert not disabled(tercel, "toggled")


def test_the_list_shows_each_flows_last_execution_live(page: Page, tercel: TercelServer) -> None:
    deploy(tercel, "lastlive")
    open_live(page, tercel, "/ui/flows?namespace=uitest")
    row = page.locator('[data-flow="uitest/lastlive"]')
    expect(row).to_contain_text("never run")
    execution_id = tercel.create("lastlive")
    expect(row.locator("[data-last-state]")).to_have_attribute(
        "data-last-state", "SUCCESS", timeout=5000
    )
    expect(row.locator(f'a[href="/ui/executions/{execution_id}"]')).to_be_visible()


def test_source_revisions_and_diff(page: Page, tercel: TercelServer) -> None:
    deploy(tercel, "revised", "first words")
    assert deploy(tercel, "revised", "second words") == 2
    page.goto("/ui/flows/uitest/revised?tab=source")
    source = page.locator("[data-yaml]")
    expect(source).to_contain_text("second words")
    expect(source.locator(".t-key", has_text="namespace")).to_be_visible()
    page.locator("[data-revision-picker]").select_option("1")
    expect(page).to_have_url(re.compile(r"tab=source&rev=1$"))
    expect(source).to_contain_text("first words")

    page.get_by_role("link", name="Revisions").click()
    expect(page.locator('[data-diff="del"]')).to_have_text(re.compile("first words"))
    expect(page.locator('[data-diff="add"]')).to_have_text(re.compile("second words"))
    expect(page.locator("[data-diff-summary]")).to_contain_text("+1")
    page.locator("[data-diff-from]").select_option("2")
    expect(page.locator("[data-diff-summary]")).to_contain_text("same source")


def test_the_flow_page_lists_its_executions_live_with_stats(
    page: Page, tercel: TercelServer
) -> None:
    deploy(tercel, "paged")
    open_live(page, tercel, "/ui/flows/uitest/paged")
    execution_id = tercel.create("paged")
    row = page.locator(f'[data-execution-id="{execution_id}"]')
    expect(row).to_have_attribute("data-state", "SUCCESS", timeout=5000)
    # the stats follow: one ended execution, with percentiles
    stats = page.locator("[data-flow-stats]")
    expect(stats.locator('[data-p="50"]')).not_to_have_text("—", timeout=5000)
    expect(stats).to_contain_text("Ended1")
