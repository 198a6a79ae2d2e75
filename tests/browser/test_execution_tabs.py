"""The execution page's Logs, Outputs, Metrics, History and Time travel tabs as a Kestra user
reads them: a header that never goes back in time, log lines that say which iteration wrote
them, the full text of a long line, metrics in units, cursors that resume a subscription, a
scrubber over a fixed time axis."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from tests.browser.conftest import TercelServer

# every value the page's state badge takes, from its first render
RECORD_STATES = """
window.__states = [];
new MutationObserver(() => {
  const badge = document.querySelector('[data-execution-state]');
  const state = badge && badge.dataset.executionState;
  if (state && window.__states.at(-1) !== state) window.__states.push(state);
}).observe(document, { subtree: true, childList: true, attributes: true,
                       attributeFilter: ['data-execution-state'] });
"""


def test_the_header_keeps_a_terminal_state_while_the_log_replays(
    page: Page, tercel: TercelServer
) -> None:
    execution_id = tercel.create("long")  # 21 task runs: a log of over 100 entries
    tercel.wait_state(execution_id, {"SUCCESS"})
    total = tercel.state_change_count(execution_id)
    page.add_init_script(RECORD_STATES)
    page.goto(f"/ui/executions/{execution_id}?tab=history")
    expect(page.get_by_text(f"state-change log ({total} entries)")).to_be_visible()
    assert page.evaluate("window.__states") == ["SUCCESS"]
    expect(page.locator('[data-action="kill"]')).to_be_disabled()


def test_log_lines_name_the_iteration_and_show_their_whole_text(
    page: Page, tercel: TercelServer
) -> None:
    execution_id = tercel.create("steps")  # a ForEach over a, b, c: each nap logs
    tercel.wait_state(execution_id, {"SUCCESS"})
    page.goto(f"/ui/executions/{execution_id}?tab=logs")
    for value in "abc":
        expect(page.locator("[data-log-line]", has_text=f"nap ({value}) #1")).to_have_count(1)
    # a click on a line shows its whole text under the list, to read and copy
    line = page.locator("[data-log-line]", has_text="nap (b) #1")
    line.click()
    shown = page.get_by_role("region", name="Log line")
    expect(shown).to_contain_text("nap (b) #1")
    expect(shown.locator("pre")).to_have_text(line.locator(".message").inner_text())
    expect(line).to_have_attribute("aria-pressed", "true")


def test_first_error_picks_the_error_line_and_counts_show_per_level(
    page: Page, tercel: TercelServer
) -> None:
    execution_id = tercel.create("fails")
    tercel.wait_state(execution_id, {"FAILED"})
    page.goto(f"/ui/executions/{execution_id}?tab=logs")
    expect(page.locator('[data-level-count="ERROR"]')).to_have_text("1 ERROR")
    page.get_by_role("button", name="First error").click()
    shown = page.get_by_role("region", name="Log line")
    expect(shown.locator("pre")).to_have_text("it broke")
    expect(page.locator('[data-log-line][aria-pressed="true"]')).to_have_attribute(
        "data-level", "ERROR"
    )


def test_metrics_read_in_their_unit_with_tags_as_chips(page: Page, tercel: TercelServer) -> None:
    execution_id = tercel.create("measured")
    tercel.wait_state(execution_id, {"SUCCESS"})
    page.goto(f"/ui/executions/{execution_id}?tab=metrics")
    rows = page.locator("table.grid tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("18,234")
    expect(rows.nth(0).locator(".chip")).to_have_text("source:inventory")
    expect(rows.nth(1)).to_contain_text("1.84s")
    expect(rows.nth(1).get_by_text("—")).to_be_visible()  # no tags
    # the task run's name opens it in the Gantt's side panel
    rows.nth(0).get_by_role("link", name="count").click()
    expect(page.get_by_role("complementary", name="Task run details")).to_contain_text("count")


def test_history_rows_open_time_travel_and_cursors_resume_in_graphiql(
    page: Page, tercel: TercelServer
) -> None:
    execution_id = tercel.create("fails")
    tercel.wait_state(execution_id, {"FAILED"})
    cursors = tercel.data(
        "query($id: ID!) { stateChanges(executionId: $id, first: 100) { edges { cursor } } }",
        {"id": execution_id},
    )["stateChanges"]["edges"]
    page.goto(f"/ui/executions/{execution_id}?tab=history")
    third = page.locator('[data-change="3"]')
    expect(third).to_contain_text(cursors[2]["cursor"])
    expect(third).to_contain_text("+0.")  # how long after the start
    # the cursor opens GraphiQL on the subscription that resumes the log after that entry
    link = third.get_by_role("link", name=cursors[2]["cursor"])
    assert (link.get_attribute("href") or "").startswith("/graphql#query=")
    # the row's number opens Time travel right after that change
    third.get_by_role("link", name="3", exact=True).click()
    expect(page).to_have_url(f"{tercel.url}/ui/executions/{execution_id}?tab=timetravel&change=3")
    expect(page.locator("[data-timetravel]")).to_have_value("2")


def test_time_travel_keeps_the_whole_time_axis_and_steps_change_by_change(
    page: Page, tercel: TercelServer
) -> None:
    execution_id = tercel.create("steps")
    tercel.wait_state(execution_id, {"SUCCESS"})
    total = tercel.state_change_count(execution_id)
    page.goto(f"/ui/executions/{execution_id}?tab=timetravel")
    last_tick = page.locator(".gantt .tick").last
    expect(page.get_by_text(f"Change {total} of {total}")).to_be_visible()
    whole = last_tick.inner_text()
    page.goto(f"/ui/executions/{execution_id}?tab=timetravel&change=3")  # a deep link
    expect(page.get_by_text(f"Change 3 of {total}")).to_be_visible()
    expect(last_tick).to_have_text(whole)  # the axis is the execution's, not the prefix's
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text(f"Change 4 of {total}")).to_be_visible()
    expect(page).to_have_url(f"{tercel.url}/ui/executions/{execution_id}?tab=timetravel&change=4")
    # every task run's state then, counted
    page.get_by_role("button", name="Last").click()
    runs = len(tercel.execution(execution_id)["taskRunList"])  # type: ignore[index]
    expect(page.locator('[data-then="SUCCESS"]')).to_have_text(f"SUCCESS {runs}")


def test_outputs_page_a_long_list_and_cut_a_long_string(page: Page, tercel: TercelServer) -> None:
    execution_id = tercel.create("bulky")  # rows: a list of 250 numbers; note: 720 characters
    tercel.wait_state(execution_id, {"SUCCESS"})
    page.goto(f"/ui/executions/{execution_id}?tab=outputs")
    rows = page.locator(".json", has=page.locator(".toggle", has_text="rows")).last
    rows.locator(".toggle").first.click()
    children = rows.locator(".children > .json")
    expect(children).to_have_count(100)
    rows.get_by_role("button", name="Show 150 more of 150").click()
    expect(children).to_have_count(250)
    note = page.locator(".json.leaf", has=page.locator(".key", has_text="note"))
    expect(note.locator(".value")).to_have_text(re.compile(r'^"(lorem ipsum ){33}lor…$'))
    note.get_by_role("button", name="322 more characters").click()
    expect(note.locator(".value")).to_have_text('"' + "lorem ipsum " * 60 + '"')


def test_logs_are_virtualised_filtered_by_task_run_and_attempt_and_downloaded(
    page: Page, tercel: TercelServer
) -> None:
    execution_id = tercel.create("chatty")  # 63 lines
    tercel.wait_state(execution_id, {"WARNING"})
    page.goto(f"/ui/executions/{execution_id}?tab=logs")
    expect(page.get_by_text("63 lines", exact=True)).to_be_visible()
    assert page.locator("[data-log-line]").count() < 63  # only the rows in view are in the DOM
    flaky_id = tercel.create("steps")
    tercel.wait_state(flaky_id, {"SUCCESS"})
    page.goto(f"/ui/executions/{flaky_id}?tab=logs")
    page.get_by_label("Task run").select_option(label="flaky")
    page.get_by_label("Attempt").select_option("2")
    lines = page.locator("[data-log-line]")
    expect(lines).to_have_count(1)
    expect(lines).to_contain_text("flaky #2")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.count("\n") == 1 and "[flaky#2] attempt 1" in text, text


def test_log_filters_live_in_the_url_and_survive_a_reload(page: Page, tercel: TercelServer) -> None:
    execution_id = tercel.create("steps")
    tercel.wait_state(execution_id, {"SUCCESS"})
    flaky = tercel.task_run_id(execution_id, "flaky")
    page.goto(f"/ui/executions/{execution_id}?tab=logs")
    page.get_by_label("Level").select_option("INFO")
    page.get_by_label("Task run").select_option(label="flaky")
    page.get_by_label("Attempt").select_option("2")
    expect(page).to_have_url(
        f"{tercel.url}/ui/executions/{execution_id}?tab=logs&level=INFO&taskRun={flaky}&attempt=2"
    )
    page.reload()  # a reload (or the link, shared) shows the same lines
    expect(page.get_by_label("Level")).to_have_value("INFO")
    expect(page.get_by_label("Task run")).to_have_value(flaky)
    expect(page.get_by_label("Attempt")).to_have_value("2")
    lines = page.locator("[data-log-line]")
    expect(lines).to_have_count(1)
    expect(lines).to_contain_text("flaky #2")
    page.get_by_label("Attempt").select_option("")  # "All" leaves the URL
    expect(page).to_have_url(
        f"{tercel.url}/ui/executions/{execution_id}?tab=logs&level=INFO&taskRun={flaky}"
    )
    expect(lines.filter(has_text="flaky #1").first).to_be_visible()


def test_time_travel_draws_a_line_at_the_chosen_moment(page: Page, tercel: TercelServer) -> None:
    execution_id = tercel.create("steps")
    tercel.wait_state(execution_id, {"SUCCESS"})
    total = tercel.state_change_count(execution_id)

    def line_at(change: int) -> float:
        """Where the moment's line stands, as a fraction of the Gantt's time track."""
        page.goto(f"/ui/executions/{execution_id}?tab=timetravel&change={change}")
        expect(page.get_by_text(f"Change {change} of {total}")).to_be_visible()
        line = page.locator("[data-travel-moment]").bounding_box()
        track = page.locator(".gantt .axis .track").bounding_box()
        assert line and track, "no line at the chosen moment"
        return (line["x"] + line["width"] / 2 - track["x"]) / track["width"]

    first, middle, last = line_at(1), line_at(total // 2), line_at(total)
    assert abs(first) < 0.01, first  # the first change is the axis's start
    assert abs(last - 1) < 0.01, last  # the last, its end
    assert 0.02 < middle < 0.98, middle  # and the steps' 1.5 s lie in between


def test_level_counts_are_those_of_the_chosen_task_run(page: Page, tercel: TercelServer) -> None:
    execution_id = tercel.create("steps")  # `hello` logs one INFO line; flaky and each more
    tercel.wait_state(execution_id, {"SUCCESS"})
    hello = tercel.task_run_id(execution_id, "hello")
    page.goto(f"/ui/executions/{execution_id}?tab=logs")
    expect(page.get_by_text("· live")).to_have_count(0)  # every line is in
    expect(page.locator('[data-level-count="INFO"]')).not_to_have_text("1 INFO")  # the whole's
    page.goto(f"/ui/executions/{execution_id}?tab=logs&taskRun={hello}")
    expect(page.locator("[data-log-line]")).to_have_count(1)
    expect(page.locator("[data-level-count]")).to_have_text(["1 INFO"])
    page.goto(f"/ui/executions/{execution_id}?tab=gantt&taskRun={hello}")  # the side panel
    expect(page.locator("aside [data-log-line]")).to_have_count(1)
    expect(page.locator("aside [data-level-count]")).to_have_text(["1 INFO"])
