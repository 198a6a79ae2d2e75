"""axe-core (from ui/node_modules) finds no serious or critical violation on the screens; with
`--token` the UI asks for the token once and uses it on HTTP and in connection_init."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.browser.conftest import TercelServer, open_context, start_tercel, stop_tercel

AXE = Path(__file__).parents[2] / "ui" / "node_modules" / "axe-core" / "axe.min.js"


def serious_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
             .filter(v => v.impact === 'serious' || v.impact === 'critical')
             .map(v => ({id: v.id, nodes: v.nodes.slice(0, 3).map(n => n.html)}))"""
    )
    return found


def test_no_serious_accessibility_violation(browser: Browser, tercel: TercelServer) -> None:
    assert AXE.is_file(), "axe-core missing: make ui installs ui/node_modules"
    execution_id = tercel.create("steps")
    tercel.wait_state(execution_id, {"SUCCESS"})
    paused = tercel.create("approve")
    tercel.wait_state(paused, {"PAUSED"})
    context, _ = open_context(browser, tercel, bypass_csp=True)  # axe is injected inline
    page = context.new_page()
    flaky = next(
        run["id"]
        for run in tercel.execution(execution_id)["taskRunList"]  # type: ignore[index]
        if run["taskId"] == "flaky"
    )
    screens = [
        "/ui/executions",
        "/ui/executions?state=FAILED",
        f"/ui/executions/{execution_id}",
        f"/ui/executions/{execution_id}?tab=gantt&taskRun={flaky}",
        *(
            f"/ui/executions/{execution_id}?tab={tab}"
            for tab in ("logs", "outputs", "metrics", "history", "timetravel")
        ),
        "/ui/nowhere",
    ]
    problems: dict[str, Any] = {}
    for path in screens:
        page.goto(path)
        page.locator("main").wait_for()
        page.wait_for_timeout(400)
        if found := serious_violations(page):
            problems[path] = found
    page.goto(f"/ui/executions/{paused}")
    page.locator('button[data-action="resume"]').click()
    page.locator('input[name="note"]').wait_for()
    if found := serious_violations(page):
        problems["resume dialog"] = found
    context.close()
    assert not problems, json.dumps(problems, indent=1)


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TercelServer]:
    server = start_tercel(tmp_path_factory.mktemp("secured"), token="ui-token-1")
    yield server
    stop_tercel(server)


def test_token_asked_once_and_used_everywhere(browser: Browser, secured: TercelServer) -> None:
    context, watch = open_context(browser, secured)
    page = context.new_page()
    page.goto("/ui/executions")
    page.get_by_label("Bearer token").fill("ui-token-1")
    page.locator("[data-token-submit]").click()
    expect(page.locator('[data-live="connected"]')).to_be_visible()
    secured.wait_subscriptions(1)  # the websocket was accepted: connection_init had the token
    execution_id = secured.create("fails")
    expect(page.locator(f'[data-execution-id="{execution_id}"]')).to_be_visible(timeout=3000)
    page.reload()  # kept for the browser session: not asked again
    expect(page.locator(f'[data-execution-id="{execution_id}"]')).to_be_visible()
    assert page.get_by_label("Bearer token").count() == 0
    context.close()
    assert not watch.foreign and not watch.problems, (watch.foreign, watch.problems)
