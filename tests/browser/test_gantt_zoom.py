"""The Gantt's zoom: the time axis widens by the chosen factor, so each attempt's bar does, and
the rows keep their hooks (contract test hooks: data-task-run-id, data-state, data-attempt)."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from tests.browser.conftest import TercelServer

HOOKS = """rows => rows.map(r => [r.dataset.taskRunId, r.dataset.state,
  [...r.querySelectorAll('[data-attempt]')].map(a => a.dataset.attempt + a.dataset.state)])"""
WIDEST = """bars => Math.max(...bars.map(b => b.getBoundingClientRect().width))"""


def zoom_to(page: Page, factor: int) -> None:
    page.get_by_label("Zoom the time axis").evaluate(
        """(input, factor) => { input.value = String(factor);
             input.dispatchEvent(new Event('input', {bubbles: true})); }""",
        factor,
    )


def test_zoom_widens_the_bars_and_keeps_the_row_hooks(page: Page, tercel: TercelServer) -> None:
    execution_id = tercel.create("steps")
    tercel.wait_state(execution_id, {"SUCCESS"})
    page.goto(f"/ui/executions/{execution_id}?tab=gantt")
    rows = page.locator("[data-task-run-id]")
    expect(rows.first).to_have_attribute("data-state", "SUCCESS")
    hooks = rows.evaluate_all(HOOKS)
    assert hooks and any(attempts for _, _, attempts in hooks), hooks
    bars = page.locator("[data-task-run-id] [data-attempt]")
    before = bars.evaluate_all(WIDEST)
    assert before > 0
    zoom_to(page, 8)
    expect(page.get_by_text("8×")).to_be_visible()
    after = bars.evaluate_all(WIDEST)
    assert 7.5 <= after / before <= 8.5, (before, after)  # the axis is 8 times as wide
    assert rows.evaluate_all(HOOKS) == hooks
    zoom_to(page, 1)
    assert abs(bars.evaluate_all(WIDEST) - before) < 1
