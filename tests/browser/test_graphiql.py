"""GraphiQL at GET /graphql, served from the package: with every other host blocked it runs a
query over HTTP and a subscription over the server's websocket."""

from __future__ import annotations

from urllib.parse import quote

from playwright.sync_api import Page, expect
from tests.browser.conftest import TercelServer


def run_in_graphiql(page: Page, text: str) -> None:
    page.locator(".graphiql-query-editor .CodeMirror").first.wait_for()
    page.evaluate(
        "text => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
        ".setValue(text)",
        text,
    )
    page.wait_for_timeout(500)  # GraphiQL copies the editor's text into its state debounced
    page.locator(".graphiql-execute-button").click()


def test_graphiql_runs_a_query_offline(page: Page, tercel: TercelServer) -> None:
    execution_id = tercel.create("fails")
    tercel.wait_state(execution_id, {"FAILED"})
    page.goto("/graphql")
    run_in_graphiql(page, f'{{ execution(id: "{execution_id}") {{ id state {{ current }} }} }}')
    response = page.locator(".graphiql-response")
    expect(response).to_contain_text(execution_id)
    expect(response).to_contain_text('"FAILED"')


def test_graphiql_runs_a_subscription_over_the_websocket(page: Page, tercel: TercelServer) -> None:
    page.goto("/graphql")
    before = tercel.subscriptions()
    run_in_graphiql(
        page, 'subscription { stateChanges(after: "HEAD") { executionId entity state } }'
    )
    tercel.wait_subscriptions(before + 1)
    execution_id = tercel.create("fails")
    expect(page.locator(".graphiql-response")).to_contain_text(execution_id, timeout=5000)


def test_graphiql_opens_a_linked_query_and_links_back_to_the_ui(
    page: Page, tercel: TercelServer
) -> None:
    text = 'subscription { stateChanges(executionId: "x", after: "c2M6MQ") { cursor } }'
    page.goto("/graphql#query=" + quote(text))
    editor = page.locator(".graphiql-query-editor .CodeMirror").first
    expect(editor).to_contain_text('after: "c2M6MQ"')
    page.get_by_role("link", name="Tercel").click()
    expect(page).to_have_url(tercel.url + "/ui/executions")
