"""A document sent again skips what depends on the document alone (the expanded-field count,
the literal checks, validation), which `querycost.CostedValidationCache` remembers by the
parsed document's identity; its variables are still checked, and a refused or invalid document
is checked every time."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from tests.api.conftest import Server

from tercel.schema import argbounds, querycost


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    counted: list[int] = []
    original = querycost.expanded_fields

    def counting(document: Any, max_fields: int) -> int:
        counted.append(1)
        return original(document, max_fields)

    monkeypatch.setattr(querycost, "expanded_fields", counting)
    return counted


def _fresh(document: str) -> str:
    """`document` with a comment no other request sent (the parser cache keys on the text)."""
    return f"{document} # {uuid.uuid4()}"


@pytest.mark.parametrize(
    ("document", "code", "counted_times"),
    [
        ("query($id: ID!) { execution(id: $id) { id } }", None, 1),  # passed: remembered
        ("{ noSuchField }", "GRAPHQL_VALIDATION_FAILED", 3),  # invalid: checked every time
    ],
)
def test_a_document_sent_again_is_checked_once_unless_refused(
    api: Server,
    monkeypatch: pytest.MonkeyPatch,
    document: str,
    code: str | None,
    counted_times: int,
) -> None:
    counted = _counting(monkeypatch)
    query = _fresh(document)
    for _ in range(3):
        body = api.gql(query, {"id": "nope"})
        if code is None:
            assert body == {"data": {"execution": None}}, body
        else:
            (error,) = body["errors"]
            assert error["extensions"]["code"] == code, error
    assert len(counted) == counted_times


def test_its_variables_are_checked_every_time(api: Server) -> None:
    query = _fresh("query($id: ID!) { execution(id: $id) { id } }")
    assert api.data(query, {"id": "nope"}) == {"execution": None}
    body = api.gql(query, {"id": "x" * (argbounds.MAX_TEXT + 1)})
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert api.data(query, {"id": "nope"}) == {"execution": None}
