"""Limits and error masking (semantics.md#api-limits)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.api.conftest import Server, error_codes

from tercel.settings import Limits
from tercel.storage.read import flows


def _deep(levels: int) -> str:
    """`levels` nested selections under `executions` (no type of the schema is that deep, and
    the depth rule counts fields whether or not they exist)."""
    query = "leaf"
    for i in range(levels - 1):
        query = f"f{i} {{ {query} }}"
    return "{ executions { " + query + " } }"


def _depth_errors(body: dict[str, object]) -> list[str]:
    errors = body.get("errors") or []
    assert isinstance(errors, list)
    return [e["message"] for e in errors if "depth" in e["message"]]


def test_depth_limit(api: Server) -> None:
    full = (
        "{ executions { edges { node { taskRunList { attempts { state { histories { date } } } } }"
        " } } }"
    )
    assert "errors" not in api.gql(full)
    assert _depth_errors(api.gql(_deep(10))) == []
    refused = api.gql(_deep(11))
    assert _depth_errors(refused) == ["'anonymous' exceeds maximum operation depth of 10"]
    assert refused["data"] is None
    introspection = (
        "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType"
        " { name } } } } } } } } } }"
    )
    assert _depth_errors(api.gql(introspection)) == []  # introspection fields are not counted


def test_aliases(api: Server) -> None:
    fifteen = "{ " + " ".join(f"a{i}: namespaces" for i in range(15)) + " }"
    assert "errors" not in api.gql(fifteen)
    sixteen = "{ " + " ".join(f"a{i}: namespaces" for i in range(16)) + " }"
    body = api.gql(sixteen)
    assert body["data"] is None
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "aliases" in body["errors"][0]["message"]


def test_tokens(api: Server) -> None:
    def document(tokens: int) -> str:  # 16 tokens (<EOF> included) + one per list item
        items = " ".join(["SUCCESS"] * (tokens - 16))
        return f"{{ executions(filter: {{state: [{items}]}}) {{ totalCount }} }}"

    assert "errors" not in api.gql(document(2000))
    body = api.gql(document(2001))
    assert body["data"] is None
    assert "token" in body["errors"][0]["message"].lower()
    assert error_codes(body) == ["GRAPHQL_PARSE_FAILED"]


def test_page_size(api: Server) -> None:
    body = api.gql("{ executions(first: 101) { edges { cursor } } }")
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == "`first` must be between 0 and 100, got 101"
    assert "errors" not in api.gql("{ executions(first: 100) { edges { cursor } } }")


def test_body_limit(api: Server) -> None:
    padding = " " * (2 * 1024 * 1024)
    response = api.post({"query": "{ namespaces }" + padding})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert api.post({"query": "{ namespaces }" + " " * 1000}).status_code == 200


def test_introspection_depth(api: Server) -> None:
    ok = "{ __schema { types { name fields { name type { name } } } } }"
    assert "errors" not in api.gql(ok)
    nested = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    body = api.gql(nested)
    assert body["data"] is None
    assert "introspection" in body["errors"][0]["message"].lower()
    assert set(error_codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}


def test_masking(api: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    syntax = api.gql("{ executions { ")
    assert syntax["data"] is None
    assert syntax["errors"][0]["message"].startswith("Syntax Error")
    assert error_codes(syntax) == ["GRAPHQL_PARSE_FAILED"]
    unknown = api.gql("{ nosuchfield }")
    assert unknown["errors"][0]["message"] == "Cannot query field 'nosuchfield' on type 'Query'."
    assert error_codes(unknown) == ["GRAPHQL_VALIDATION_FAILED"]

    async def broken(*_args: object) -> list[str]:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(flows, "namespaces", broken)
    masked = api.gql("{ namespaces }")
    error = masked["errors"][0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert len(error["extensions"]["errorId"]) == 32
    assert "secret" not in str(masked)


def test_operation_timeout(server_factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    slow = server_factory(limits=Limits(operation_seconds=0.2))

    async def sleepy(*_args: object) -> list[str]:
        await asyncio.sleep(2)
        return []

    monkeypatch.setattr(flows, "namespaces", sleepy)
    body = slow.gql("{ namespaces }")
    assert body["data"] is None
    assert error_codes(body) == ["TIMEOUT"]
