"""Kill, resume (with the Pause's onResume form), restart, replay and delete from the
execution page, each through its confirmation."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect
from tests.browser.conftest import TercelServer


def act(page: Page, action: str) -> None:
    page.locator(f'button[data-action="{action}"]').click()
    page.locator("[data-confirm]").click()


def badge(page: Page, state: str, timeout: float = 15_000) -> None:
    expect(page.locator("[data-execution-state]")).to_have_attribute(
        "data-execution-state", state, timeout=timeout
    )


def test_kill(page: Page, tercel: TercelServer) -> None:
    execution_id = tercel.create("sleeper")
    page.goto(f"/ui/executions/{execution_id}")
    badge(page, "RUNNING")
    expect(page.locator('button[data-action="delete"]')).to_be_disabled()
    act(page, "kill")
    badge(page, "KILLED")
    assert tercel.wait_state(execution_id, {"KILLED"}) == "KILLED"


def open_resume(page: Page, tercel: TercelServer) -> tuple[str, Locator]:
    """A paused `approve` execution's page with its Resume dialog open."""
    execution_id = tercel.create("approve")
    page.goto(f"/ui/executions/{execution_id}")
    badge(page, "PAUSED")
    page.locator('button[data-action="resume"]').click()
    return execution_id, page.get_by_role("dialog")


def test_resume_with_the_pause_inputs(page: Page, tercel: TercelServer) -> None:
    execution_id, dialog = open_resume(page, tercel)
    dialog.locator('input[name="approved"]').check()
    dialog.locator('input[name="note"]').fill("ship it")
    page.locator("[data-confirm]").click()
    badge(page, "SUCCESS")
    execution = tercel.execution(execution_id)
    assert execution is not None
    echo = next(run for run in execution["taskRunList"] if run["taskId"] == "echo")
    assert echo["outputs"]["value"] == "true ship it"


def test_resume_shows_an_invalid_input_next_to_its_field(page: Page, tercel: TercelServer) -> None:
    _, dialog = open_resume(page, tercel)
    copies = dialog.get_by_label("copies")  # a labelled field, its bounds as a hint
    expect(copies).to_have_value("1")
    expect(dialog.locator('[data-input="copies"]')).to_contain_text("min 1 · max 3")
    dialog.locator('input[name="note"]').fill("ship it")
    copies.fill("9")
    page.locator("[data-confirm]").click()
    issue = dialog.locator('[data-issue="copies"]')
    expect(issue).to_be_visible()  # next to its field, as the Execute dialog shows them
    expect(copies).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_role("alert")).to_have_text("1 invalid input: see the fields above.")
    badge(page, "PAUSED")
    copies.fill("2")
    page.locator("[data-confirm]").click()
    badge(page, "SUCCESS")


def test_restart_adds_an_attempt(page: Page, tercel: TercelServer) -> None:
    execution_id = tercel.create("fails")
    tercel.wait_state(execution_id, {"FAILED"})
    page.goto(f"/ui/executions/{execution_id}")
    badge(page, "FAILED")
    boom = next(
        run["id"]
        for run in tercel.execution(execution_id)["taskRunList"]  # type: ignore[index]
        if run["taskId"] == "boom"
    )
    row = page.locator(f'[data-task-run-id="{boom}"]')
    expect(row.locator("[data-attempt]")).to_have_count(1)
    act(page, "restart")
    expect(row.locator('[data-attempt="2"]')).to_have_attribute(
        "data-state", "FAILED", timeout=15_000
    )
    badge(page, "FAILED")


def test_replay_from_a_task_run(page: Page, tercel: TercelServer) -> None:
    execution_id = tercel.create("fails")
    tercel.wait_state(execution_id, {"FAILED"})
    page.goto(f"/ui/executions/{execution_id}")
    badge(page, "FAILED")
    boom = next(
        run["id"]
        for run in tercel.execution(execution_id)["taskRunList"]  # type: ignore[index]
        if run["taskId"] == "boom"
    )
    page.locator('button[data-action="replay"]').click()
    page.locator("[data-replay-from]").select_option(boom)
    page.locator("[data-confirm]").click()
    expect(page).not_to_have_url(re.compile(execution_id))
    replay_id = page.url.rsplit("/", 1)[-1]
    badge(page, "FAILED")
    replay = tercel.execution(replay_id)
    assert replay is not None and replay["parentId"] == execution_id


def test_delete(page: Page, tercel: TercelServer) -> None:
    execution_id = tercel.create("fails")
    tercel.wait_state(execution_id, {"FAILED"})
    page.goto(f"/ui/executions/{execution_id}")
    badge(page, "FAILED")
    page.locator('button[data-action="delete"]').click()
    page.get_by_role("button", name="Cancel").click()
    assert tercel.execution(execution_id) is not None  # cancelling keeps it
    act(page, "delete")
    expect(page).to_have_url(tercel.url + "/ui/executions")
    assert tercel.execution(execution_id) is None
    page.goto(f"/ui/executions/{execution_id}")
    expect(page.get_by_role("heading", name="Execution not found")).to_be_visible()


def test_pause_then_resume(page: Page, tercel: TercelServer) -> None:
    execution_id = tercel.create("sleeper")
    page.goto(f"/ui/executions/{execution_id}")
    badge(page, "RUNNING")
    expect(page.locator('button[data-action="resume"]')).to_be_disabled()
    act(page, "pause")
    badge(page, "PAUSED")
    expect(page.locator('button[data-action="pause"]')).to_be_disabled()
    act(page, "resume")  # a manual pause: no inputs, straight back to RUNNING
    badge(page, "RUNNING")
    query = "query($id: ID!) { execution(id: $id) { state { histories { state } } } }"
    found = tercel.data(query, {"id": execution_id})["execution"]["state"]["histories"]
    assert [h["state"] for h in found] == ["CREATED", "RUNNING", "PAUSED", "RUNNING"]
    act(page, "kill")
    badge(page, "KILLED")
