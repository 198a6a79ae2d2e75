"""axe-core finds no serious or critical violation on the task runs, flows, triggers and
dashboard screens, nor in the Execute dialog showing input issues, the bulk actions' dry-run
dialog and the backfill dialog."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Browser, Page
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
        "/ui/triggers",
        "/ui/flows/uitest/nightly?tab=triggers",
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
    problems.update(_bulk_and_backfill_dialogs(page))
    context.close()
    assert not problems, json.dumps(problems, indent=1)


def _bulk_and_backfill_dialogs(page: Page) -> dict[str, Any]:
    """The executions list with rows picked, the bulk bar and a dry run's dialog with a skipped
    row; then the triggers page's backfill dialog."""
    problems: dict[str, Any] = {}
    page.goto("/ui/executions?namespace=uitest")
    page.locator("[data-select-loaded]").check()
    if found := serious_violations(page):
        problems["bulk bar"] = found
    page.locator('[data-bulk-action="restart"]').click()
    page.locator("[data-bulk-dry-run]").wait_for()
    if found := serious_violations(page):
        problems["bulk dry-run dialog"] = found
    page.keyboard.press("Escape")
    page.goto("/ui/triggers")
    page.locator('[data-action="backfill"]').first.click()
    page.get_by_role("dialog").wait_for()
    if found := serious_violations(page):
        problems["backfill dialog"] = found
    return problems
