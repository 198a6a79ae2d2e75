"""axe-core finds no serious or critical violation on the task runs, flows and dashboard
screens, nor in the Execute dialog showing input issues."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Browser
from tests.browser.conftest import TercelServer, open_context
from tests.browser.test_a11y_auth import AXE, serious_violations


def test_no_serious_violation_on_task_runs_flows_and_dashboard(
    browser: Browser, tercel: TercelServer
) -> None:
    assert AXE.is_file(), "axe-core missing: make ui installs ui/node_modules"
    tercel.wait_state(tercel.create("steps"), {"SUCCESS"})
    context, _ = open_context(browser, tercel, bypass_csp=True)  # axe is injected inline
    page = context.new_page()
    problems: dict[str, Any] = {}
    for path in [
        "/ui/taskruns",
        "/ui/taskruns?state=SUCCESS&sort=duration",
        "/ui/flows",
        "/ui/flows/uitest/greet",
        "/ui/flows/uitest/greet?tab=source",
        "/ui/flows/uitest/greet?tab=revisions",
        "/ui/dashboard",
    ]:
        page.goto(path)
        page.locator("main h1").wait_for()
        page.wait_for_timeout(400)
        if found := serious_violations(page):
            problems[path] = found
    page.goto("/ui/flows/uitest/greet")
    page.locator('button[data-action="execute"]').click()
    page.get_by_role("dialog").get_by_label("times").fill("many")
    page.locator("[data-confirm]").click()
    page.locator('[data-issue="times"]').wait_for()
    if found := serious_violations(page):
        problems["execute dialog"] = found
    context.close()
    assert not problems, json.dumps(problems, indent=1)
