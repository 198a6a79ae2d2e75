"""Bulk actions from the executions list (`bulkExecutions`): rows picked with a click and a
shift-click, or every execution matching the filter; a dry run is the confirmation; the result
shows per row and the rows follow their new states live."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect
from tests.browser.conftest import TercelServer
from tests.browser.test_list import open_list

# every data-state a row took, recorded in the page as it happens
RECORD_STATES = """ids => {
  window.seenStates = Object.fromEntries(ids.map(id => [id, []]));
  new MutationObserver(records => {
    for (const r of records) {
      const id = r.target.dataset.executionId;
      if (id in window.seenStates) window.seenStates[id].push(r.target.dataset.state);
    }
  }).observe(document.querySelector('table'), {subtree: true, attributeFilter: ['data-state']});
}"""
KILL = """mutation($id: ID!) { killExecution(id: $id) { __typename } }"""


def create_labelled(tercel: TercelServer, flow_id: str, batch: str) -> str:
    found = tercel.data(
        """mutation($f: String!, $b: String!) { createExecution(namespace: "uitest",
             flowId: $f, labels: [{key: "batch", value: $b}]) { ... on Execution { id } } }""",
        {"f": flow_id, "b": batch},
    )["createExecution"]
    execution_id: str = found["id"]
    return execution_id


def ended_batch(
    tercel: TercelServer, flow_id: str, count: int, state: str
) -> tuple[str, list[str]]:
    """`count` executions of a flow under a fresh `batch` label, each waited for until `state`."""
    batch = uuid.uuid4().hex[:10]
    ids = [create_labelled(tercel, flow_id, batch) for _ in range(count)]
    for execution_id in ids:
        tercel.wait_state(execution_id, {state})
    return batch, ids


def test_restart_three_failed_executions(page: Page, tercel: TercelServer) -> None:
    # slowfail fails after 1 s: restarted, it is RUNNING long enough to be seen (a row whose
    # RESTARTED and FAILED arrive in one batch of the stream would never change in the DOM)
    batch, failed = ended_batch(tercel, "slowfail", 3, "FAILED")
    open_list(page, tercel, f"/ui/executions?labels=batch:{batch}")
    rows = page.locator("[data-execution-id]")
    expect(rows).to_have_count(3)
    order = rows.evaluate_all("rows => rows.map(r => r.dataset.executionId)")
    assert sorted(order) == sorted(failed)
    rows.nth(0).locator("[data-select-execution]").click()
    rows.nth(2).locator("[data-select-execution]").click(modifiers=["Shift"])  # the range
    expect(page.locator("[data-selected-count]")).to_have_attribute("data-selected-count", "3")
    expect(page.locator("[data-select-loaded]")).to_be_checked()
    page.evaluate(RECORD_STATES, failed)
    page.locator('[data-bulk-action="restart"]').click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator("[data-bulk-dry-run]")).to_contain_text(
        "over 3 executions: 3 would be restarted"
    )
    for execution_id in failed:  # the dry run changed nothing
        assert tercel.wait_state(execution_id, {"FAILED"}, timeout=1) == "FAILED"
    page.locator("[data-confirm]").click()
    expect(dialog).to_have_count(0)
    expect(page.locator("[data-bulk-result]")).to_contain_text("Restart: 3 restarted")
    for execution_id in failed:
        row = page.locator(f'[data-execution-id="{execution_id}"]')
        expect(row.locator("[data-bulk-outcome]")).to_have_attribute("data-bulk-outcome", "OK")
        # it fails again: the row went through RESTARTED/RUNNING to FAILED, live
        expect(row).to_have_attribute("data-state", "FAILED", timeout=20_000)
        expect(row.locator("td.num")).to_have_text("2")  # the attempts column, read again
    seen = page.evaluate("() => window.seenStates")
    for execution_id in failed:
        assert "RUNNING" in seen[execution_id], seen
        assert seen[execution_id][-1] == "FAILED", seen
        execution = tercel.data(
            "query($id: ID!) { execution(id: $id) { metadata { attemptNumber } } }",
            {"id": execution_id},
        )["execution"]
        assert execution["metadata"]["attemptNumber"] == 2


def test_a_dry_run_delete_skips_a_running_execution_with_the_reason(
    page: Page, tercel: TercelServer
) -> None:
    batch, (done,) = ended_batch(tercel, "steps", 1, "SUCCESS")
    running = create_labelled(tercel, "sleeper", batch)
    tercel.wait_state(running, {"RUNNING"})
    try:
        open_list(page, tercel, f"/ui/executions?labels=batch:{batch}")
        expect(page.locator("[data-execution-id]")).to_have_count(2)
        page.locator("[data-select-loaded]").check()  # the header box: every loaded row
        page.locator('[data-bulk-action="delete"]').click()
        dialog = page.get_by_role("dialog")
        expect(dialog.locator("[data-bulk-dry-run]")).to_contain_text(
            "over 2 executions: 1 would be deleted, 1 skipped"
        )
        reason = dialog.locator('[data-bulk-reason="SKIPPED"]')
        expect(reason).to_contain_text(re.compile(r"is RUNNING: only ended", re.IGNORECASE))
        expect(reason).to_contain_text(running[:8])
        expect(dialog.locator("[data-confirm]")).to_have_text("Delete 1")
        page.locator("[data-confirm]").click()
        row = page.locator(f'[data-execution-id="{done}"]')
        expect(row.locator("[data-bulk-outcome]")).to_have_attribute("data-bulk-outcome", "OK")
        skipped = page.locator(f'[data-execution-id="{running}"] [data-bulk-outcome]')
        expect(skipped).to_have_attribute("data-bulk-outcome", "SKIPPED")
        expect(skipped).to_contain_text("RUNNING")
        assert tercel.execution(done) is None
        assert tercel.execution(running) is not None
    finally:
        tercel.data(KILL, {"id": running})


def test_an_action_on_every_execution_matching_the_filter(page: Page, tercel: TercelServer) -> None:
    batch, ids = ended_batch(tercel, "steps", 4, "SUCCESS")
    open_list(page, tercel, f"/ui/executions?labels=batch:{batch}")
    expect(page.locator("[data-execution-id]")).to_have_count(4)
    boxes = page.locator("[data-select-execution]")
    boxes.nth(0).focus()  # from the keyboard: Space, then Shift+Space picks the range
    page.keyboard.press("Space")
    boxes.nth(2).focus()
    page.keyboard.press("Shift+Space")
    expect(page.locator("[data-selected-count]")).to_have_attribute("data-selected-count", "3")
    matching = page.locator("[data-select-matching]")
    expect(matching).to_have_text("Select all 4 matching the filter")  # the server's count
    matching.click()
    expect(page.locator("[data-selected-count]")).to_have_text("All 4 matching the filter")
    expect(page.locator("[data-select-execution]:checked")).to_have_count(4)
    page.locator('[data-bulk-action="set_labels"]').click()
    dialog = page.get_by_role("dialog")
    dialog.locator("[data-bulk-labels]").fill("batch")
    page.locator("[data-confirm]").click()  # a label without a value is refused here
    expect(dialog.locator("[data-bulk-error]")).to_contain_text('"batch": write key:value')
    dialog.locator("[data-bulk-labels]").fill(f"batch:{batch}, reviewed:yes")
    page.locator("[data-confirm]").click()  # the dry run
    expect(dialog.locator("[data-bulk-dry-run]")).to_contain_text(
        "over 4 executions: 4 would be relabelled"
    )
    page.locator("[data-confirm]").click()
    expect(page.locator("[data-bulk-result]")).to_contain_text("Set labels: 4 relabelled")
    expect(page.locator('[data-bulk-outcome="OK"]')).to_have_count(4)
    for execution_id in ids:  # the rows show the new labels
        expect(page.locator(f'[data-execution-id="{execution_id}"]')).to_contain_text(
            "reviewed:yes"
        )
    for execution_id in ids:
        labels = tercel.data(
            "query($id: ID!) { execution(id: $id) { labels { key value } } }",
            {"id": execution_id},
        )["execution"]["labels"]
        assert {"key": "reviewed", "value": "yes"} in labels, labels


def test_a_refusal_of_the_server_shows_in_the_dialog(page: Page, tercel: TercelServer) -> None:
    """A call the server refuses as a whole (as it refuses a filter matching more than 10,000
    executions, with the count) shows the server's message and cannot be confirmed."""
    batch, _ = ended_batch(tercel, "steps", 1, "SUCCESS")
    open_list(page, tercel, f"/ui/executions?labels=batch:{batch}")
    page.locator("[data-select-execution]").first.click()
    page.locator('[data-bulk-action="set_labels"]').click()
    dialog = page.get_by_role("dialog")
    dialog.locator("[data-bulk-labels]").fill("system.owner:me")
    page.locator("[data-confirm]").click()
    expect(dialog.locator("[data-bulk-error]")).to_contain_text(
        "system labels are set by Tercel only"
    )
    expect(dialog.locator("[data-bulk-dry-run]")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(page.locator('[data-bulk-action="set_labels"]')).to_be_focused()  # focus came back
    page.get_by_role("button", name="SUCCESS", exact=True).click()  # another filter
    expect(page.locator("[data-bulk-bar]")).to_have_count(0)  # another selection: none yet
    expect(page.locator("[data-select-execution]:checked")).to_have_count(0)


def test_a_bulk_replay_links_each_row_to_its_new_execution(
    page: Page, tercel: TercelServer
) -> None:
    batch, (done,) = ended_batch(tercel, "steps", 1, "SUCCESS")
    open_list(page, tercel, f"/ui/executions?labels=batch:{batch}")
    page.locator("[data-select-execution]").first.click()
    page.locator('[data-bulk-action="replay"]').click()
    expect(page.get_by_role("dialog").locator("[data-bulk-dry-run]")).to_contain_text(
        "1 would be replayed"
    )
    page.locator("[data-confirm]").click()
    link = page.locator(f'[data-execution-id="{done}"] [data-replayed-as]')
    replay = link.get_attribute("data-replayed-as")
    assert replay and replay != done
    assert tercel.wait_state(replay, {"SUCCESS"}) == "SUCCESS"
    link.click()
    expect(page).to_have_url(f"{tercel.url}/ui/executions/{replay}")
