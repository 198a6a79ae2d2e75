"""The execution page, live: the Gantt shows every task run and attempt with the right states
while it runs; logs follow; a websocket dropped mid-run ends with nothing missing or repeated."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect
from tests.browser.conftest import TercelServer


def open_execution(page: Page, tercel: TercelServer, execution_id: str, tab: str = "") -> None:
    page.goto(f"/ui/executions/{execution_id}" + (f"?tab={tab}" if tab else ""))
    expect(page.locator("[data-execution-state]")).to_be_visible()


def gantt_states(page: Page) -> dict[str, Any]:
    """Task run id -> (state, [attempt states in order]) as the Gantt shows them."""
    found: dict[str, Any] = page.locator("[data-task-run-id]").evaluate_all(
        """rows => Object.fromEntries(rows.map(r => [r.dataset.taskRunId, [r.dataset.state,
             [...r.querySelectorAll('[data-attempt]')]
               .map(a => [Number(a.dataset.attempt), a.dataset.state])]]))"""
    )
    return found


def test_gantt_shows_every_task_run_and_attempt_live(page: Page, tercel: TercelServer) -> None:
    execution_id = tercel.create("steps")
    open_execution(page, tercel, execution_id)
    # live: task runs show RUNNING while they run (the ForEach's naps take 0.4 s each)
    expect(page.locator('[data-task-run-id][data-state="RUNNING"]').first).to_be_visible(
        timeout=5000
    )
    expect(page.locator("[data-execution-state]")).to_have_attribute(
        "data-execution-state", "SUCCESS", timeout=20_000
    )
    execution = tercel.execution(execution_id)
    assert execution is not None
    expect(page.locator("[data-task-run-id]")).to_have_count(len(execution["taskRunList"]))
    shown = gantt_states(page)
    expected = {
        run["id"]: [
            run["state"]["current"],
            [[n + 1, a["state"]["current"]] for n, a in enumerate(run["attempts"] or [])],
        ]
        for run in execution["taskRunList"]
    }
    assert shown == expected
    flaky = next(run for run in execution["taskRunList"] if run["taskId"] == "flaky")
    assert [a for _, a in shown[flaky["id"]][1]] == ["FAILED", "SUCCESS"]  # the retry is visible
    # a click opens the side panel with that task run's attempts and logs
    page.locator(f'[data-task-run-id="{flaky["id"]}"]').click()
    panel = page.get_by_role("complementary", name="Task run details")
    expect(panel).to_contain_text("#2")
    expect(panel.locator("[data-log-line]").first).to_be_visible()


def test_logs_follow_while_the_task_prints(page: Page, tercel: TercelServer) -> None:
    execution_id = tercel.create("chatty")
    open_execution(page, tercel, execution_id, "logs")
    expect(page.locator("[data-log-line]").first).to_be_visible(timeout=5000)
    assert page.locator("[data-execution-state]").get_attribute("data-execution-state") == "RUNNING"
    # follow keeps the newest line in view while lines stream in
    expect(page.locator("[data-log-line]", has_text="line 60")).to_be_in_viewport(timeout=15_000)
    expect(page.locator('[data-log-line][data-level="ERROR"]', has_text="the end")).to_be_visible(
        timeout=5000
    )
    # "Flow started", 60 lines, "the end" (stderr: ERROR), "Flow completed with state WARNING"
    expect(page.get_by_text("63 lines", exact=True)).to_be_visible()
    page.get_by_label("Level").select_option("ERROR")
    # the filter applies on the next render: wait for it rather than read the rows at once
    expect(page.locator("[data-log-line]")).to_have_count(1)
    levels = page.locator("[data-log-line]").evaluate_all("rows => rows.map(r => r.dataset.level)")
    assert levels == ["ERROR"]


def test_a_dropped_websocket_misses_and_repeats_nothing(page: Page, tercel: TercelServer) -> None:
    sockets: list[Any] = []

    def proxy(ws: Any) -> None:
        sockets.append(ws)
        ws.connect_to_server()

    page.route_web_socket("**/graphql", proxy)
    execution_id = tercel.create("long")
    open_execution(page, tercel, execution_id, "history")
    expect(page.locator("[data-task-run-id], .hist").first).to_be_visible(timeout=5000)
    page.wait_for_timeout(600)
    assert tercel.execution(execution_id)["state"]["current"] == "RUNNING"  # type: ignore[index]
    sockets[-1].close(code=1011, reason="dropped by the test")  # mid-run
    expect(page.locator('[data-live="offline"], [data-live="catching-up"]')).to_be_attached(
        timeout=3000
    )
    tercel.wait_state(execution_id, {"SUCCESS"})
    expect(page.locator("[data-execution-state]")).to_have_attribute(
        "data-execution-state", "SUCCESS", timeout=10_000
    )
    expect(page.locator('[data-live="connected"]')).to_be_visible(timeout=10_000)
    assert len(sockets) >= 2, "the UI did not reconnect"
    total = tercel.state_change_count(execution_id)
    expect(page.get_by_text(f"state-change log ({total} entries)")).to_be_visible()
    page.goto(f"/ui/executions/{execution_id}?tab=gantt")
    # the ForEach and its 20 steps, all SUCCESS
    expect(page.locator('[data-task-run-id][data-state="SUCCESS"]')).to_have_count(21)
    expect(page.locator("[data-task-run-id]")).to_have_count(21)


def test_time_travel_shows_the_gantt_as_it_was(page: Page, tercel: TercelServer) -> None:
    execution_id = tercel.create("steps")
    tercel.wait_state(execution_id, {"SUCCESS"})
    open_execution(page, tercel, execution_id, "timetravel")
    scrubber = page.locator("[data-timetravel]")
    expect(scrubber).to_be_visible()
    scrubber.fill("1")  # the second entry: the execution RUNNING, no task run yet
    expect(page.locator("[data-task-run-id]")).to_have_count(0)
    total = tercel.state_change_count(execution_id)
    scrubber.fill(str(total - 1))
    expect(page.locator('[data-task-run-id][data-state="SUCCESS"]').first).to_be_visible()
    assert page.locator('[data-task-run-id]:not([data-state="SUCCESS"])').count() == 0


def test_outputs_and_metrics_follow_the_gantt_on_demand(page: Page, tercel: TercelServer) -> None:
    """The first answer draws the Gantt (no outputs or metrics in it); the Outputs tab and the
    side panel fetch them when shown."""
    execution_id = tercel.create("steps")
    tercel.wait_state(execution_id, {"SUCCESS"})
    execution = tercel.execution(execution_id)
    assert execution is not None
    produced = [run for run in execution["taskRunList"] if run["outputs"]]
    assert produced, "the flow's task runs have outputs"
    open_execution(page, tercel, execution_id, "outputs")
    for run in produced:
        name = run["taskId"] + (f" ({run['value']})" if run["value"] else "")
        expect(page.locator(".json .key", has_text=name).first).to_be_visible()
    run = produced[0]
    page.goto(f"/ui/executions/{execution_id}?taskRun={run['id']}")
    panel = page.get_by_role("complementary", name="Task run details")
    for key in run["outputs"]:
        expect(panel.locator(".json .key", has_text=key).first).to_be_visible()
    metrics = tercel.data(
        "query($id: ID!) { execution(id: $id) { taskRunList { attempts { metrics { name } } } } }",
        {"id": execution_id},
    )["execution"]["taskRunList"]
    count = sum(len(a["metrics"]) for run in metrics for a in run["attempts"] or [])
    page.goto(f"/ui/executions/{execution_id}?tab=metrics")
    if count:
        expect(page.locator("table.grid tbody tr")).to_have_count(count)
    else:
        expect(page.get_by_text("No metrics.")).to_be_visible()
