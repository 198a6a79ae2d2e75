"""Webhook triggers at Kestra's path over a real server (semantics.md#webhook), after Kestra's
`ExecutionControllerTest.webhook` and `webhookFlowNotFound`: JSON bodies (a map, a list), text,
no body, query parameters as lists, flow labels; unknown flow or key and disabled → 404; open
without the API token; bodies over the limit → 413."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from tests.api.conftest import Server

from tercel.settings import Limits

TOKEN = "s3cret-token"
KEY = "a-webhook-key-0123456789"
HOOKED = f"""\
id: webhook
namespace: trig.hook
labels:
  flow-label-1: flow-label-1
  flow-label-2: flow-label-2
tasks:
  - id: body
    type: io.kestra.plugin.core.debug.Return
    format: "{{{{ trigger.parameters.name[0] ?? 'none' }}}}"
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: {KEY}
  - id: off
    type: io.kestra.plugin.core.trigger.Webhook
    key: an-off-key-0123456789
    disabled: true
"""
EXECUTION = """query($id: ID!) { execution(id: $id) {
  id state { current } labels { key value } trigger { id type variables }
  taskRunList { outputs } } }"""


@pytest.fixture(scope="module")
def hooks(server_factory: Callable[..., Server]) -> Iterator[Server]:
    """A server with an API token and a 64 KiB body limit."""
    server = server_factory(token=TOKEN, limits=Limits(body_bytes=64 * 1024))
    server.deploy("trig.hook", "webhook", HOOKED)
    yield server


def url(server: Server, path: str) -> str:
    return f"{server.url}/api/v1/executions/webhook/{path}"


def started(server: Server, response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"id", "namespace", "flowId", "state"}
    assert (answer["namespace"], answer["flowId"]) == ("trig.hook", "webhook")
    found: dict[str, Any] = server.data(EXECUTION, {"id": answer["id"]})["execution"]
    return found


def test_webhook_like_kestra(hooks: Server) -> None:
    posted = started(
        hooks,
        httpx.post(
            url(hooks, f"trig.hook/webhook/{KEY}?name=john&age=12&age=13"),
            json={"a": 1, "b": True},
        ),
    )
    variables = posted["trigger"]["variables"]
    assert posted["trigger"]["id"] == "hook"
    assert posted["trigger"]["type"] == "io.kestra.plugin.core.trigger.Webhook"
    assert variables["body"] == {"a": 1, "b": True}
    assert variables["parameters"] == {"name": ["john"], "age": ["12", "13"]}
    assert variables["headers"]["content-type"] == ["application/json"]
    labels = {(label["key"], label["value"]) for label in posted["labels"]}
    assert {("flow-label-1", "flow-label-1"), ("flow-label-2", "flow-label-2")} <= labels
    assert hooks.wait_terminal(posted["id"]) == "SUCCESS"
    done = hooks.data(EXECUTION, {"id": posted["id"]})["execution"]
    assert done["taskRunList"][0]["outputs"]["value"] == "john"

    put = started(hooks, httpx.put(url(hooks, f"trig.hook/webhook/{KEY}"), json=[{"a": 1}]))
    assert put["trigger"]["variables"]["body"] == [{"a": 1}]
    text = started(hooks, httpx.post(url(hooks, f"trig.hook/webhook/{KEY}"), content=b"bla"))
    assert text["trigger"]["variables"]["body"] == "bla"
    got = started(hooks, httpx.get(url(hooks, f"trig.hook/webhook/{KEY}")))
    assert got["trigger"]["variables"]["body"] is None
    raw = '{"a":"","b":{"c":{"d":{"e":"","f":"1"}}}}'
    plain = httpx.post(
        url(hooks, f"trig.hook/webhook/{KEY}"),
        content=raw.encode(),
        headers={"content-type": "text/plain"},
    )
    assert started(hooks, plain)["trigger"]["variables"]["body"] == raw


@pytest.mark.parametrize(
    "path",
    [
        "not-found/webhook/not-found",
        f"trig.hook/nope/{KEY}",
        "trig.hook/webhook/wrong-key",
        f"trig.hook/webhook/{KEY}x",
        "trig.hook/webhook/an-off-key-0123456789",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
def test_unknown_flow_or_key_or_disabled_trigger_is_404(
    hooks: Server, path: str, method: str
) -> None:
    response = httpx.request(method, url(hooks, path) + "?name=john", json={"a": 1})
    assert response.status_code == 404, response.text
    assert response.json()["message"] == "Webhook not found"


def test_switched_off_trigger_and_disabled_flow_are_404(hooks: Server) -> None:
    hooks.deploy("trig.hook", "second", HOOKED.replace("id: webhook", "id: second"))
    path = f"trig.hook/second/{KEY}"
    assert httpx.post(url(hooks, path)).status_code == 200
    switch = """mutation($d: Boolean!) { setTriggerDisabled(namespace: "trig.hook",
      flowId: "second", triggerId: "hook", disabled: $d) { __typename } }"""
    hooks.data(switch, {"d": True})
    assert httpx.post(url(hooks, path)).status_code == 404
    hooks.data(switch, {"d": False})
    assert httpx.post(url(hooks, path)).status_code == 200
    hooks.data('mutation { setFlowDisabled(namespace: "trig.hook", id: "second") { __typename } }')
    assert httpx.post(url(hooks, path)).status_code == 404


def test_the_api_token_guards_graphql_but_not_the_webhook(hooks: Server) -> None:
    refused = httpx.post(hooks.url + "/graphql", json={"query": "{ __typename }"})
    assert refused.status_code == 401
    assert httpx.post(url(hooks, f"trig.hook/webhook/{KEY}")).status_code == 200


def test_bodies_over_the_limit_are_413_and_bad_json_is_400(hooks: Server) -> None:
    big = httpx.post(url(hooks, f"trig.hook/webhook/{KEY}"), content=b"x" * (64 * 1024 + 1))
    assert big.status_code == 413
    assert "request body over 65536 bytes" in big.text
    bad = httpx.post(
        url(hooks, f"trig.hook/webhook/{KEY}"),
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert bad.status_code == 400
    assert bad.json()["message"].startswith("the body is not valid JSON")
    binary = httpx.post(url(hooks, f"trig.hook/webhook/{KEY}"), content=b"\xff\xfe")
    assert binary.status_code == 400
    assert binary.json()["message"] == "the body is not UTF-8 text (byte 0)"
    wide = httpx.post(
        url(hooks, f"trig.hook/webhook/{KEY}"),
        content=b'{"n": 123456789012345678901234567890}',
        headers={"content-type": "application/json"},
    )
    assert wide.status_code == 400, wide.text
