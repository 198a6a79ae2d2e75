"""The executions list's keyset pages: "Load more" appends the next page of the filter after the
rows on screen, in the server's order, each execution once and none skipped."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from tests.browser.conftest import TercelServer
from tests.browser.test_list import open_list
from tests.browser.test_list_bulk import ended_batch

PAGE = 50  # ExecutionsList.svelte's page size
ROW_IDS = "rows => rows.map(r => r.dataset.executionId)"


def server_order(tercel: TercelServer, batch: str) -> list[str]:
    """The filter's executions in the list's order, as the API pages them (one page of 100)."""
    found = tercel.data(
        """query($b: String!) { executions(filter: {labels: [{key: "batch", value: $b}]},
             first: 100) { edges { node { id } } pageInfo { hasNextPage } } }""",
        {"b": batch},
    )["executions"]
    assert not found["pageInfo"]["hasNextPage"]
    return [edge["node"]["id"] for edge in found["edges"]]


def test_load_more_appends_the_next_page_without_duplicates_or_gaps(
    page: Page, tercel: TercelServer
) -> None:
    batch, created = ended_batch(tercel, "fails", PAGE + 12, "FAILED")
    expected = server_order(tercel, batch)
    assert sorted(expected) == sorted(created)
    open_list(page, tercel, f"/ui/executions?labels=batch:{batch}")
    rows = page.locator("[data-execution-id]")
    expect(rows).to_have_count(PAGE)
    assert rows.evaluate_all(ROW_IDS) == expected[:PAGE]
    more = page.get_by_role("button", name="Load more")
    more.click()
    expect(rows).to_have_count(PAGE + 12)
    assert rows.evaluate_all(ROW_IDS) == expected  # the first page unmoved, the rest after it
    expect(more).to_have_count(0)  # the last page came: nothing more to load
