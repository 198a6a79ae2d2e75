"""The Execute dialog for SELECT, MULTISELECT and SECRET inputs: a select, a multi-select and a
password field; the issue of a missing choice next to its field; the secret masked afterwards."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from tests.browser.conftest import TercelServer

FLOW = """id: choices
namespace: uitest
inputs:
  - id: color
    type: SELECT
    values: [red, green]
  - id: sizes
    type: MULTISELECT
    values: [S, M, L]
  - id: pw
    type: SECRET
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.color }} {{ inputs.sizes }} {{ inputs.pw }}"
"""


def test_select_multiselect_and_password_fields(page: Page, tercel: TercelServer) -> None:
    found = tercel.data(
        "mutation($s: String!) { deployFlow(source: $s) { __typename } }", {"s": FLOW}
    )["deployFlow"]
    assert found["__typename"] == "Flow", found
    page.goto("/ui/flows/uitest/choices")
    page.locator('button[data-action="execute"]').click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("pw")).to_have_attribute("type", "password")
    dialog.get_by_label("pw").fill("hunter2")
    dialog.get_by_label("sizes").select_option(["S", "L"])
    dialog.locator("[data-confirm]").click()  # no color chosen
    expect(dialog.locator('[data-issue="color"]')).to_contain_text("missing required input")
    expect(dialog.locator('[data-issue="sizes"]')).to_have_count(0)

    dialog.get_by_label("color").select_option("green")
    dialog.locator("[data-confirm]").click()
    expect(page).to_have_url(re.compile(r"/ui/executions/[0-9A-Za-z]+$"))
    execution_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("[data-execution-state]")).to_have_attribute(
        "data-execution-state", "SUCCESS", timeout=15_000
    )
    inputs = tercel.data("query($id: ID!) { execution(id: $id) { inputs } }", {"id": execution_id})
    assert inputs["execution"]["inputs"] == {"color": "green", "sizes": ["S", "L"], "pw": "******"}
