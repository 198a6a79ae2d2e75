"""Regenerate the execution-page and GraphiQL screenshots of docs/screenshots.

Why: the README shows what each screen looks like; a picture taken by hand drifts from the UI
and cannot be retaken after a change. This starts a real `tercel server` (a throw-away database,
a free port, the flows of docs/screenshots/flows), runs the `docs.report` flow (logs of every
level, a retry, nested outputs, metrics, a ForEach, a failing task), and photographs each tab
with Debian's chromium at 1360x760, in UTC, with every request to another host blocked.

    .venv/bin/python scripts/screenshots.py            # all of them
    .venv/bin/python scripts/screenshots.py logs history   # only these names
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, ViewportSize, expect, sync_playwright  # noqa: E402
from tests.browser.conftest import (  # noqa: E402
    CHROMIUM,
    TercelServer,
    open_context,
    start_tercel,
    stop_tercel,
)
from tests.browser.test_graphiql import run_in_graphiql  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
FLOWS = OUT / "flows"
SIZE: ViewportSize = {"width": 1360, "height": 760}


def tab(page: Page, execution_id: str, name: str) -> None:
    page.goto(f"/ui/executions/{execution_id}?tab={name}")
    expect(page.locator('[data-execution-state="FAILED"]')).to_be_visible()


def shoot_logs(page: Page, server: TercelServer, execution_id: str) -> None:
    tab(page, execution_id, "logs")
    expect(page.locator('[data-log-line][data-level="ERROR"]').last).to_be_attached()
    page.get_by_label("Level").select_option("WARN")
    page.locator("[data-log-line]", has_text="revenue for ap-south").click()
    expect(page.get_by_role("region", name="Log line")).to_be_visible()


def shoot_outputs(page: Page, server: TercelServer, execution_id: str) -> None:
    tab(page, execution_id, "outputs")
    expect(page.get_by_text("checksum")).to_be_visible()
    for key in ("schema", "orders", "partitions"):  # the nesting, opened
        page.locator(".toggle", has_text=key).first.click()


def shoot_metrics(page: Page, server: TercelServer, execution_id: str) -> None:
    tab(page, execution_id, "metrics")
    expect(page.get_by_text("rows.fetched").first).to_be_visible()


def shoot_history(page: Page, server: TercelServer, execution_id: str) -> None:
    tab(page, execution_id, "history")
    expect(page.get_by_role("listitem").first).to_be_visible()


def shoot_timetravel(page: Page, server: TercelServer, execution_id: str) -> None:
    # the moment the first attempt of `fetch` failed: the retry is to come, the ForEach not begun
    edges = server.data(
        """query($id: ID!) { stateChanges(executionId: $id, first: 100) {
             edges { node { entity taskId state } } } }""",
        {"id": execution_id},
    )["stateChanges"]["edges"]
    failed = next(
        n
        for n, edge in enumerate(edges, 1)
        if edge["node"]["entity"] == "ATTEMPT" and edge["node"]["state"] == "FAILED"
    )
    page.goto(f"/ui/executions/{execution_id}?tab=timetravel&change={failed + 1}")
    expect(page.locator("[data-timetravel]")).to_have_value(str(failed))


def shoot_graphiql_query(page: Page, server: TercelServer, execution_id: str) -> None:
    page.goto("/graphql")
    run_in_graphiql(
        page,
        f'{{\n  execution(id: "{execution_id}") {{\n    id\n    state {{ current }}\n'
        "    taskRunList { taskId value state { current } }\n  }\n}",
    )
    expect(page.locator(".graphiql-response")).to_contain_text('"each_region"')


def shoot_graphiql_subscription(page: Page, server: TercelServer, execution_id: str) -> None:
    page.goto("/graphql")
    before = server.subscriptions()
    run_in_graphiql(
        page,
        'subscription {\n  stateChanges(after: "HEAD") {\n    cursor\n    executionId\n'
        "    entity\n    taskId\n    state\n    date\n  }\n}",
    )
    server.wait_subscriptions(before + 1)
    server.create("report", namespace="docs")
    expect(page.locator(".graphiql-response")).to_contain_text('"FAILED"', timeout=20_000)


SHOTS: dict[str, Callable[[Page, TercelServer, str], None]] = {
    "execution-logs": shoot_logs,
    "execution-outputs": shoot_outputs,
    "execution-metrics": shoot_metrics,
    "execution-history": shoot_history,
    "execution-timetravel": shoot_timetravel,
    "graphiql-query": shoot_graphiql_query,
    "graphiql-subscription": shoot_graphiql_subscription,
}


def main(names: list[str]) -> None:
    wanted = [n for n in SHOTS if not names or n in names or n.removeprefix("execution-") in names]
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as driver:
        server = start_tercel(Path(folder), flows=FLOWS)
        browser = driver.chromium.launch(executable_path=CHROMIUM)
        try:
            execution_id = server.create("report", namespace="docs")
            server.wait_state(execution_id, {"FAILED"})
            context, watch = open_context(browser, server, timezone_id="UTC")
            page = context.new_page()
            page.set_viewport_size(SIZE)
            for name in wanted:
                SHOTS[name](page, server, execution_id)
                page.mouse.move(0, SIZE["height"] - 1)  # no hover effect in the picture
                page.wait_for_timeout(300)
                page.screenshot(path=str(OUT / f"{name}.png"))
                print(f"docs/screenshots/{name}.png")
            context.close()
            assert not watch.foreign and not watch.problems, (watch.foreign, watch.problems)
        finally:
            browser.close()
            stop_tercel(server)


if __name__ == "__main__":
    main(sys.argv[1:])
