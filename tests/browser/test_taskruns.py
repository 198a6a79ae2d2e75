"""The task runs page: live rows from HEAD, filters and sort in the URL, keyset "load more",
and a row that opens its execution's Gantt with that task run's side panel."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect
from tests.browser.conftest import TercelServer


def open_task_runs(page: Page, tercel: TercelServer, path: str) -> None:
    before = tercel.subscriptions()
    page.goto(path)
    expect(page.locator('[data-live="connected"]')).to_be_visible()
    tercel.wait_subscriptions(before + 1)  # the page's stateChanges stream is registered


def task_run_ids(tercel: TercelServer, flow_id: str, order: str) -> list[str]:
    found = tercel.data(
        """query($f: String!, $o: TaskRunOrderField!) { taskRuns(filter: {flowId: $f}, first: 50,
             orderBy: {field: $o, direction: DESC}) { edges { node { id } } } }""",
        {"f": flow_id, "o": order},
    )["taskRuns"]["edges"]
    return [edge["node"]["id"] for edge in found]


def test_new_task_runs_appear_live_and_change_state_in_place(
    page: Page, tercel: TercelServer
) -> None:
    open_task_runs(page, tercel, "/ui/taskruns?flow=steps&task=nap")
    execution_id = tercel.create("steps")
    execution = tercel.wait_state(execution_id, {"SUCCESS"})
    assert execution == "SUCCESS"
    naps = [
        run["id"]
        for run in tercel.execution(execution_id)["taskRunList"]  # type: ignore[index]
        if run["taskId"] == "nap"
    ]
    assert len(naps) == 3
    for run_id in naps:
        row = page.locator(f'[data-task-run-id="{run_id}"]')
        expect(row).to_have_attribute("data-state", "SUCCESS", timeout=5000)
        assert row.count() == 1
    # the filter holds: only `nap` rows, never the execution's other tasks
    tasks = page.locator("[data-task-run-id] .task").all_inner_texts()
    assert tasks and set(tasks) == {"nap"}, tasks


def test_filters_and_sort_live_in_the_url(page: Page, tercel: TercelServer) -> None:
    failed = tercel.create("fails")
    tercel.wait_state(failed, {"FAILED"})
    done = tercel.create("steps")
    tercel.wait_state(done, {"SUCCESS"})
    open_task_runs(page, tercel, "/ui/taskruns?namespace=uitest")
    page.get_by_role("button", name="FAILED", exact=True).click()
    expect(page).to_have_url(tercel.url + "/ui/taskruns?namespace=uitest&state=FAILED")
    expect(page.locator('[data-task-run-id]:not([data-state="FAILED"])')).to_have_count(0)
    expect(page.locator('[data-task-run-id][data-state="FAILED"]').first).to_be_visible()

    page.goto("/ui/taskruns?flow=steps")
    page.locator("[data-sort]").select_option("duration")
    expect(page).to_have_url(tercel.url + "/ui/taskruns?flow=steps&sort=duration")
    rows = page.locator("[data-task-run-id]")
    # the list is live and so are the durations of runs still going on the shared server:
    # compare the page with the API's order taken at about the same moment, until they agree
    deadline = time.monotonic() + 10
    while True:
        wanted = task_run_ids(tercel, "steps", "DURATION")
        shown = rows.evaluate_all("rs => rs.map(r => r.dataset.taskRunId)")
        if shown and shown == wanted[: len(shown)]:
            break
        assert time.monotonic() < deadline, (shown, wanted)
        time.sleep(0.2)


def test_load_more_pages_by_keyset(page: Page, tercel: TercelServer) -> None:
    for execution_id in [tercel.create("long") for _ in range(3)]:
        tercel.wait_state(execution_id, {"SUCCESS"})
    open_task_runs(page, tercel, "/ui/taskruns?flow=long")
    rows = page.locator("[data-task-run-id]")
    expect(rows).to_have_count(50)
    page.get_by_role("button", name="Load more").click()
    expect(rows).not_to_have_count(50)
    ids = rows.evaluate_all("rs => rs.map(r => r.dataset.taskRunId)")
    assert len(ids) == len(set(ids)) > 50
    assert ids == task_run_ids(tercel, "long", "CREATION")[:50] + ids[50:]


def test_a_row_opens_the_gantt_at_its_task_run(page: Page, tercel: TercelServer) -> None:
    execution_id = tercel.create("steps")
    tercel.wait_state(execution_id, {"SUCCESS"})
    flaky = tercel.task_run_id(execution_id, "flaky")
    page.goto("/ui/taskruns?flow=steps&task=flaky")
    page.locator(f'[data-task-run-id="{flaky}"] td').nth(3).click()  # the state cell, not a link
    expect(page).to_have_url(
        tercel.url + f"/ui/executions/{execution_id}?tab=gantt&taskRun={flaky}"
    )
    panel = page.get_by_role("complementary", name="Task run details")
    expect(panel).to_contain_text(flaky)
    expect(panel.get_by_role("heading", name="flaky")).to_be_visible()


def test_the_gantt_scrolls_to_a_linked_task_run(page: Page, tercel: TercelServer) -> None:
    page.set_viewport_size({"width": 1400, "height": 600})  # the Gantt shows ~10 of 21 rows
    execution_id = tercel.create("long")
    tercel.wait_state(execution_id, {"SUCCESS"})
    last = tercel.execution(execution_id)["taskRunList"][-1]  # type: ignore[index]
    assert last["value"] == "v20"
    run_id = last["id"]
    page.goto("/ui/taskruns?flow=long&task=step")
    page.locator(f'[data-task-run-id="{run_id}"] .task').click()
    expect(page).to_have_url(re.compile(f"taskRun={run_id}$"))
    expect(page.locator(f'.gantt [data-task-run-id="{run_id}"]')).to_be_in_viewport()
