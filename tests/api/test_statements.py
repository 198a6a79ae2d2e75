"""The number of SQL statements of a request does not depend on the page size
(semantics.md#queries)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.api.conftest import Server
from tests.api.documents import EXECUTION_QUERY, EXECUTIONS_PAGE, TASK_RUNS_PAGE

NAMESPACE = "stmt.count"


@pytest.fixture(scope="module")
def hundred(api: Server) -> list[str]:
    api.deploy(NAMESPACE)
    ids = [api.create(NAMESPACE) for _ in range(100)]
    for execution_id in ids:
        api.wait_terminal(execution_id)
    return ids


def _statements(api: Server, query: str, variables: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    api.data(query, variables)  # warm up (pool connections, caches)
    stop = api.count_statements()
    try:
        data = api.data(query, variables)
    finally:
        stop()
    return len(api.statements), data


def test_executions_page_statements(api: Server, hundred: list[str]) -> None:
    counts = {}
    for n in (1, 100):
        variables = {"filter": {"namespace": NAMESPACE}, "first": n}
        counts[n], data = _statements(api, EXECUTIONS_PAGE, variables)
        edges = data["executions"]["edges"]
        assert len(edges) == n
        assert all(len(e["node"]["taskRunList"]) == 2 for e in edges)
        assert data["executions"]["totalCount"] == 100
    assert counts[1] == counts[100]
    assert counts[100] <= 7, counts


def test_execution_statements(api: Server, hundred: list[str]) -> None:
    count, data = _statements(api, EXECUTION_QUERY, {"id": hundred[0]})
    assert data["execution"]["id"] == hundred[0]
    assert count <= 6


def test_task_runs_page_statements(api: Server, hundred: list[str]) -> None:
    counts = {}
    for n in (1, 100):
        variables = {"filter": {"namespace": NAMESPACE}, "first": n}
        counts[n], data = _statements(api, TASK_RUNS_PAGE, variables)
        assert len(data["taskRuns"]["edges"]) == n
        assert data["taskRuns"]["totalCount"] == 200
    assert counts[1] == counts[100]
    assert counts[100] <= 5, counts
