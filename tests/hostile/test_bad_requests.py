"""Every bad request gets a clear error, never `INTERNAL_SERVER_ERROR` (#12 item 8;
semantics.md#api-limits).

Against the package's real server: subscriptions over plain HTTP and as Server-Sent Events, the
legacy protocol's `start` with a query, cursors holding out-of-range numbers, hostile `q`
filters, and operation payloads whose `variables` is not an object.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest
from tests.crash.server import TercelServer
from tests.hostile.test_hostile_input import BASE, NS, _init, _ws, assert_serving
from websockets.sync.client import connect


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors") or ()]


def _execution(server: TercelServer) -> str:
    """A finished execution, so filters and cursors have rows to read."""
    assert server.deploy(BASE.format(flow_id="bad-requests"))["__typename"] == "Flow"
    execution_id = server.create(NS, "bad-requests")
    server.wait_terminal(execution_id)
    return execution_id


SUBSCRIPTION = "subscription($id: ID!) { executionUpdated(id: $id) { execution { id } } }"


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_subscription_over_plain_http_names_the_websocket_protocols(
    server: TercelServer, method: str
) -> None:
    began = time.monotonic()
    request: dict[str, Any] = {"query": SUBSCRIPTION, "variables": {"id": "x"}}
    if method == "GET":
        request["variables"] = json.dumps(request["variables"])
        response = server.client.get(server.url + "/graphql", params=request, timeout=10)
    else:
        response = server.post(request, timeout=10)
    assert time.monotonic() - began < 1.0
    assert response.status_code == 400, response.text[:300]
    body = response.json()
    assert _codes(body) == ["BAD_REQUEST"], body
    message = body["errors"][0]["message"]
    for words in ("text/event-stream", "graphql-transport-ws", "graphql-ws"):
        assert words in message, message
    assert_serving(server)


def test_subscription_is_served_as_server_sent_events(server: TercelServer) -> None:
    execution_id = _execution(server)
    payload = {"query": SUBSCRIPTION, "variables": {"id": execution_id}}
    headers = {"accept": "text/event-stream"}
    url = server.url + "/graphql"
    with httpx.stream("POST", url, json=payload, headers=headers, timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = ""
        for chunk in response.iter_text():
            text += chunk
            if "\n\n" in text.replace("\r\n", "\n"):
                break
    event, data = text.replace("\r\n", "\n").split("\n")[:2]
    assert event == "event: next", text
    assert json.loads(data.removeprefix("data: "))["data"]["executionUpdated"]["execution"] == {
        "id": execution_id
    }
    assert_serving(server)


def test_legacy_start_with_a_query_gets_a_clear_error(server: TercelServer) -> None:
    url = server.url.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=["graphql-ws"], open_timeout=5) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=5))["type"] == "connection_ack"
        for operation in ("{ namespaces }", 'mutation { deleteExecution(id: "x") { __typename } }'):
            start = {"type": "start", "id": "1", "payload": {"query": operation}}
            ws.send(json.dumps(start))
            reply = _next_not_keepalive(ws)
            assert reply["type"] == "error" and reply["id"] == "1", reply
            assert reply["payload"]["extensions"]["code"] == "BAD_REQUEST", reply
            assert "serves subscriptions only" in reply["payload"]["message"], reply
    assert_serving(server)


def _next_not_keepalive(ws: Any) -> dict[str, Any]:
    while True:
        message = json.loads(ws.recv(timeout=5))
        if message.get("type") != "ka":
            return message  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "cursor",
    [
        _b64(json.dumps(["START_DATE", "DESC", 2**64 - 1, "x"]).encode()),
        _b64(json.dumps(["START_DATE", "DESC", 2**63, "x"]).encode()),
        _b64(json.dumps(["START_DATE", "DESC", [2**63], "x"]).encode()),
    ],
    ids=["u64", "2 to the 63", "in a list"],
)
def test_cursor_with_an_out_of_range_number_is_a_user_error(
    server: TercelServer, cursor: str
) -> None:
    _execution(server)
    for field in ("executions", "taskRuns"):
        query = f"query($c: String) {{ {field}(after: $c) {{ edges {{ cursor }} }} }}"
        body = server.post({"query": query, "variables": {"c": cursor}}).json()
        assert _codes(body) == ["BAD_USER_INPUT"], body
    assert_serving(server)


@pytest.mark.parametrize(
    ("document", "prefix"),
    [
        ('subscription($c: String) { logs(executionId: "{id}", after: $c) { message } }', "lg"),
        ("subscription($c: String) { stateChanges(after: $c) { executionId } }", "sc"),
    ],
)
def test_stream_cursor_with_an_out_of_range_position_is_a_user_error(
    server: TercelServer, document: str, prefix: str
) -> None:
    execution_id = _execution(server)
    cursor = _b64(f"{prefix}:{'9' * 25}".encode())
    with _ws(server) as ws:
        _init(ws)
        payload = {"query": document.replace("{id}", execution_id), "variables": {"c": cursor}}
        ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": payload}))
        reply = json.loads(ws.recv(timeout=5))
        assert reply["type"] in ("next", "error"), reply
        errors = reply["payload"] if reply["type"] == "error" else reply["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"], reply
        assert "out of range" in errors[0]["message"], reply
    assert_serving(server)


@pytest.mark.parametrize(
    ("q", "words"),
    [
        ("x" * 900_000, "longer than 1000 characters"),
        ("\u0000", "control character U+0000"),
        ("run\u001b[31m", "control character U+001B"),
    ],
    ids=["900 KB", "NUL", "escape"],
)
def test_hostile_search_text_is_a_user_error(server: TercelServer, q: str, words: str) -> None:
    _execution(server)
    for field in ("executions", "taskRuns"):
        query = f"query($q: String) {{ {field}(filter: {{q: $q}}) {{ edges {{ cursor }} }} }}"
        body = server.post({"query": query, "variables": {"q": q}}, timeout=30).json()
        assert _codes(body) == ["BAD_USER_INPUT"], str(body)[:300]
        assert words in body["errors"][0]["message"]
    assert_serving(server)


@pytest.mark.parametrize(
    "payload",
    [
        {"query": "{ namespaces }", "variables": "x"},
        {"query": "{ namespaces }", "variables": [1, 2]},
        {"query": "{ namespaces }", "variables": 7},
        {"query": "{ namespaces }", "extensions": "x"},
        {"query": "{ namespaces }", "operationName": ["a"]},
    ],
    ids=["string variables", "list variables", "number variables", "extensions", "name"],
)
def test_subscribe_with_a_malformed_payload_gets_an_error(
    server: TercelServer, payload: dict[str, Any]
) -> None:
    with _ws(server) as ws:
        _init(ws)
        ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": payload}))
        reply = json.loads(ws.recv(timeout=5))
        assert reply["type"] == "error" and reply["id"] == "1", reply
        assert reply["payload"][0]["extensions"]["code"] == "BAD_REQUEST", reply
        assert "must be" in reply["payload"][0]["message"], reply
    assert_serving(server)


def test_backtracking_validator_is_stopped(server: TercelServer) -> None:
    """A STRING input `validator` that backtracks exponentially (`re` holds the event loop for
    minutes on 41 characters); the match now stops after 50 ms with a clear issue."""
    source = BASE.format(flow_id="validator") + (
        "inputs:\n  - id: word\n    type: STRING\n    validator: '(a|aa)+'\n"
    )
    assert server.deploy(source)["__typename"] == "Flow"
    mutation = """mutation($i: JSON) { createExecution(namespace: "hostile.t", flowId: "validator",
      inputs: $i) { __typename ... on InvalidInputsError { issues { input message } } } }"""
    began = time.monotonic()
    found = server.data(mutation, {"i": {"word": "a" * 40 + "!"}})["createExecution"]
    assert time.monotonic() - began < 1.0
    assert found["__typename"] == "InvalidInputsError", found
    assert "took longer than 50 ms" in found["issues"][0]["message"], found
    ok = server.data(mutation, {"i": {"word": "aaa"}})["createExecution"]
    assert ok["__typename"] == "Execution", ok
    assert_serving(server)
