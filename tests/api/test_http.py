"""Transport: status codes, GraphiQL, GET queries, bearer token, websocket auth and origin."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from tests.api.conftest import Server, error_codes
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def secured(server_factory: Callable[..., Server]) -> Server:
    return server_factory(token=TOKEN, allowed_origins=("https://ui.example",))


def test_malformed_requests(api: Server) -> None:
    url = api.url + "/graphql"
    headers = {"Content-Type": "application/json"}
    assert api.client.post(url, content=b"{not json", headers=headers).status_code == 400
    assert api.client.post(url, json={"variables": {}}).status_code == 400
    assert api.client.post(url, json={"query": 5}).status_code == 400
    mutation = api.client.get(
        url, params={"query": 'mutation { deleteExecution(id: "x") { __typename } }'}
    )
    assert mutation.status_code == 400
    got = api.client.get(url, params={"query": "{ namespaces }"})
    assert got.status_code == 200 and "namespaces" in got.json()["data"]
    page = api.client.get(url, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    health = api.client.get(api.url + "/health").json()
    assert health["status"] == "ok" and isinstance(health["subscriptions"], int)


def test_results_with_errors_are_200(api: Server) -> None:
    response = api.post({"query": "{ nosuchfield }"})
    assert response.status_code == 200 and response.json()["data"] is None


def test_token_required(secured: Server) -> None:
    url = secured.url + "/graphql"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = httpx.post(url, json={"query": "{ namespaces }"}, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert error_codes(response.json()) == ["UNAUTHENTICATED"]
    assert secured.data("{ namespaces }") == {"namespaces": []}
    page = httpx.get(url, headers={"Accept": "text/html"})
    assert page.status_code == 200  # the GraphiQL page itself needs no token
    assert httpx.get(url, params={"query": "{ namespaces }"}).status_code == 401


def test_cors_only_for_allowed_origins(api: Server, secured: Server) -> None:
    preflight = {
        "Origin": "https://ui.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,authorization",
    }
    allowed = httpx.options(secured.url + "/graphql", headers=preflight)
    assert allowed.headers.get("access-control-allow-origin") == "https://ui.example"
    plain = api.post({"query": "{ namespaces }"}, headers={"Origin": "https://ui.example"})
    assert "access-control-allow-origin" not in plain.headers


def _ws_url(server: Server) -> str:
    return server.url.replace("http://", "ws://") + "/graphql"


def _init(server: Server, payload: dict[str, object], **kwargs: object) -> str:
    with connect(_ws_url(server), subprotocols=["graphql-transport-ws"], **kwargs) as ws:  # type: ignore[arg-type]
        ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        try:
            answer = json.loads(ws.recv(timeout=5))
        except ConnectionClosed as closed:
            return f"closed {closed.rcvd.code if closed.rcvd else None}"
        if answer["type"] == "connection_ack":
            ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ namespaces }"}})
            )
            result = json.loads(ws.recv(timeout=5))
            return f"{answer['type']} {result['type']}"
        return str(answer["type"])


def test_websocket_token(secured: Server) -> None:
    assert _init(secured, {}) == "closed 4403"
    assert _init(secured, {"authorization": "Bearer wrong"}) == "closed 4403"
    assert _init(secured, {"Authorization": f"Bearer {TOKEN}"}) == "connection_ack next"
    assert _init(secured, {"token": TOKEN}) == "connection_ack next"


def test_websocket_origin(api: Server, secured: Server) -> None:
    with pytest.raises(InvalidStatus) as refused:
        _init(api, {}, origin="https://evil.example")
    assert refused.value.response.status_code == 403
    assert _init(api, {}, origin=api.url) == "connection_ack next"
    assert _init(secured, {"token": TOKEN}, origin="https://ui.example") == "connection_ack next"


def test_introspection_can_be_disabled(server_factory: Callable[..., Server]) -> None:
    closed = server_factory(introspection=False)
    body = closed.gql("{ __schema { queryType { name } } }")
    assert body["data"] is None and "introspection" in body["errors"][0]["message"].lower()
    assert closed.data("{ namespaces }") == {"namespaces": []}
