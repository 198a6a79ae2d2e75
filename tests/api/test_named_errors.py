"""Three #12 gaps of the API: every bad request gets an error that names what is wrong and
where, and a bug in a check made before validation is masked, never shown as the user's fault.

- A lone surrogate escape (`"\\udfff"`) in a string literal is a syntax error: its message names
  the argument (and field) that holds it, over HTTP and over both websocket protocols.
- A legacy `graphql-ws` `start` (or `stop`) whose `id` is not a string gets an `error` message
  naming `id`, and the connection serves on.
- An exception raised by a pre-validation check (query cost, Int literals, argument bounds) is
  an INTERNAL_SERVER_ERROR with an `errorId` logged beside the traceback (semantics.md#api-limits).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from tests.api.conftest import Server
from websockets.sync.client import ClientConnection, connect

from tercel.schema import argbounds, literals, querycost

SURROGATE_IN_ARGUMENT = '{ flow(namespace: "\\udfff", id: "x") { id } }'
SURROGATE_IN_FILTER = '{ executions(filter: {q: "a\\ud800"}) { totalCount } }'
SURROGATE_SUBSCRIPTION = 'subscription { executionUpdated(id: "\\udfff") { cursor } }'


@contextlib.contextmanager
def _ws(server: Server, protocol: str) -> Iterator[ClientConnection]:
    url = server.url.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=[protocol], open_timeout=5, close_timeout=2) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=5))["type"] == "connection_ack"
        yield ws


def _next(ws: ClientConnection) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(ws.recv(timeout=5))
        if message.get("type") != "ka":
            return message


def test_surrogate_literal_names_the_argument_over_http(api: Server) -> None:
    for query, names in (
        (SURROGATE_IN_ARGUMENT, ("`namespace`", "`flow`")),
        (SURROGATE_IN_FILTER, ("`filter.q`", "`executions`")),
    ):
        (error,) = api.gql(query)["errors"]
        assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED", error
        assert error["message"].startswith("Syntax Error"), error
        for name in names:
            assert name in error["message"], (name, error)
        assert error["locations"], error


@pytest.mark.parametrize(
    ("protocol", "kind"), [("graphql-transport-ws", "subscribe"), ("graphql-ws", "start")]
)
def test_surrogate_literal_names_the_argument_over_websockets(
    api: Server, protocol: str, kind: str
) -> None:
    with _ws(api, protocol) as ws:
        ws.send(json.dumps({"type": kind, "id": "1", "payload": {"query": SURROGATE_SUBSCRIPTION}}))
        answer = _next(ws)
    assert answer["type"] == "error", answer
    payload = answer["payload"]
    error = payload[0] if isinstance(payload, list) else payload
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED", error
    assert "`id`" in error["message"] and "`executionUpdated`" in error["message"], error


@pytest.mark.parametrize("op_id", [[1], {"a": 1}, 7, None])
@pytest.mark.parametrize("kind", ["start", "stop"])
def test_legacy_non_string_id_gets_an_error_naming_id(
    api: Server, op_id: object, kind: str
) -> None:
    with _ws(api, "graphql-ws") as ws:
        ws.send(json.dumps({"type": kind, "id": op_id, "payload": {"query": "{ namespaces }"}}))
        answer = _next(ws)
        assert answer["type"] == "error", answer
        assert "`id`" in answer["payload"]["message"], answer
        assert answer["payload"]["extensions"]["code"] == "BAD_REQUEST", answer
        # the connection serves on
        ws.send(json.dumps({"type": "start", "id": "ok", "payload": {"query": "{ namespaces }"}}))
        assert _next(ws)["type"] == "error"  # a query: this protocol serves subscriptions only


def _raising(*args: object, **kwargs: object) -> Any:
    raise RuntimeError("a bug in a pre-validation check")


@pytest.mark.parametrize(
    ("module", "name"),
    [
        (querycost, "expanded_fields"),
        (literals, "oversized_int_literal"),
        (argbounds, "too_long_argument"),
    ],
)
def test_a_bug_in_a_pre_validation_check_is_masked(
    api: Server,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    module: Any,
    name: str,
) -> None:
    monkeypatch.setattr(module, name, _raising)
    # a document the validation cache has not seen (a cached one skips the checks)
    query = f"{{ namespaces a{abs(hash(name))}: namespaces }}"
    with caplog.at_level(logging.ERROR, logger="tercel.api"):
        body = api.gql(query)
    (error,) = body["errors"]
    assert error["message"] == "Unexpected error.", error
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR", error
    error_id = error["extensions"]["errorId"]
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged and logged[0].exc_info is not None, caplog.records
    assert "a bug in a pre-validation check" in str(logged[0].exc_info[1])
    monkeypatch.undo()
    assert "namespaces" in api.data("{ namespaces }")
