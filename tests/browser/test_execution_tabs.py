"""The execution page's Logs, Outputs, Metrics, History and Time travel tabs as a Kestra user
reads them: a header that never goes back in time, log lines that say which iteration wrote
them, the full text of a long line, metrics in units, cursors that resume a subscription, a
scrubber over a fixed time axis."""

from __future__ import annotations

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
