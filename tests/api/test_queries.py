"""Queries: filters, ordering and keyset pagination of executions and task runs; flows."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.api.conftest import SLEEPER, Server, error_codes
from tests.api.documents import IDS_PAGE

NS = "filters"


@pytest.fixture(scope="module")
def seeded(api: Server) -> dict[str, list[str]]:
    """Executions in `filters`, `filters.sub`, `filtersx` and a sleeping (RUNNING) one."""
    found: dict[str, list[str]] = {}
    for namespace in (NS, f"{NS}.sub", f"{NS}x"):
        api.deploy(namespace)
        found[namespace] = [api.run(namespace) for _ in range(3)]
    found["labelled"] = [api.run(NS, labels=[{"key": "env", "value": "prod_%"}])]
    api.deploy(NS, "sleeper", SLEEPER.format(namespace=NS))
    found["sleeping"] = [api.create(NS, "sleeper")]
    return found


def ids(api: Server, flt: dict[str, Any], **variables: Any) -> list[str]:
    data = api.data(IDS_PAGE, {"filter": flt, "first": 100, **variables})
    return [edge["node"]["id"] for edge in data["executions"]["edges"]]


def test_namespace_filters(api: Server, seeded: dict[str, list[str]]) -> None:
    own = seeded[NS] + seeded["labelled"] + seeded["sleeping"]
    assert set(ids(api, {"namespace": NS})) == set(own + seeded[f"{NS}.sub"])
    assert set(ids(api, {"namespaceEquals": NS})) == set(own)
    assert set(ids(api, {"namespace": f"{NS}x"})) == set(seeded[f"{NS}x"])
    assert ids(api, {"namespace": "filt"}) == []
    assert set(ids(api, {"namespace": NS, "flowId": "sleeper"})) == set(seeded["sleeping"])


def test_state_filters(api: Server, seeded: dict[str, list[str]]) -> None:
    assert ids(api, {"namespace": NS, "state": ["RUNNING", "CREATED"]}) == seeded["sleeping"]
    done = ids(api, {"namespace": NS, "stateNotIn": ["RUNNING", "CREATED"]})
    assert seeded["sleeping"][0] not in done and len(done) == 7
    assert ids(api, {"namespace": NS, "state": ["SUCCESS"], "stateNotIn": ["SUCCESS"]}) == []


def test_label_and_text_filters(api: Server, seeded: dict[str, list[str]]) -> None:
    labelled = seeded["labelled"]
    assert ids(api, {"labels": [{"key": "env", "value": "prod_%"}]}) == labelled
    assert ids(api, {"labels": [{"key": "env"}]}) == labelled
    assert ids(api, {"labels": [{"key": "env", "value": "prodx%"}]}) == []
    assert ids(api, {"labels": [{"key": "env"}, {"key": "team", "value": "core"}]}) == labelled
    assert set(ids(api, {"q": "FILTERS.SU"})) == set(seeded[f"{NS}.sub"])
    assert ids(api, {"q": "%"}) == [] and ids(api, {"q": "_"}) == []
    one = seeded[NS][0]
    assert ids(api, {"q": one[3:12]}) == [one]


def test_date_filters(api: Server, seeded: dict[str, list[str]]) -> None:
    now = datetime.now(UTC)
    future = (now + timedelta(hours=1)).isoformat()
    past = (now - timedelta(hours=1)).isoformat()
    everything = ids(api, {"namespace": NS})
    assert set(ids(api, {"namespace": NS, "startDate": {"gte": past, "lt": future}})) == set(
        everything
    )
    assert ids(api, {"namespace": NS, "startDate": {"gte": future}}) == []
    ended = ids(api, {"namespace": NS, "endDate": {"gte": past}})
    assert seeded["sleeping"][0] not in ended and len(ended) == len(everything) - 1
    assert set(ids(api, {"namespace": NS, "timeRange": "PT1H"})) == set(everything)
    body = api.gql(IDS_PAGE, {"filter": {"timeRange": "PT1H", "startDate": {"gte": past}}})
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "timeRange" in body["errors"][0]["message"]


def test_parent_and_original_filters(api: Server, seeded: dict[str, list[str]]) -> None:
    one = seeded[NS][0]
    assert ids(api, {"originalId": one}) == [one]
    assert ids(api, {"parentId": one}) == []


def _walk(api: Server, flt: dict[str, Any], order: dict[str, str] | None, size: int) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        variables = {"filter": flt, "first": size, "after": after, "orderBy": order}
        page = api.data(IDS_PAGE, variables)["executions"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize(
    "field", ["START_DATE", "END_DATE", "DURATION", "NAMESPACE", "FLOW_ID", "STATE"]
)
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
def test_every_order_walks_every_row_once(
    api: Server, seeded: dict[str, list[str]], field: str, direction: str
) -> None:
    flt = {"namespace": NS}
    order = {"field": field, "direction": direction}
    everything = ids(api, flt, orderBy=order)
    assert _walk(api, flt, order, 2) == everything
    assert len(set(everything)) == len(everything) == 8
    if field in ("END_DATE", "DURATION"):  # nulls (the running execution) last both ways
        assert everything[-1] == seeded["sleeping"][0]


def test_default_order_is_newest_first(api: Server, seeded: dict[str, list[str]]) -> None:
    assert ids(api, {"namespace": f"{NS}x"}) == list(reversed(seeded[f"{NS}x"]))


def test_walk_with_concurrent_inserts(api: Server) -> None:
    namespace = "walk.concurrent"
    api.deploy(namespace)
    before = [api.create(namespace) for _ in range(12)]
    stop = threading.Event()

    def insert() -> None:
        while not stop.is_set():
            api.create(namespace)

    writer = threading.Thread(target=insert)
    writer.start()
    try:
        walked = _walk(api, {"namespace": namespace}, None, 3)
    finally:
        stop.set()
        writer.join()
    assert len(walked) == len(set(walked))  # no row twice
    assert set(before) <= set(walked)  # none skipped of those present at the start
    assert walked[-len(before) :] == list(reversed(before))


@pytest.mark.parametrize(
    ("variables", "fragment"),
    [
        ({"first": 101}, "between 0 and 100"),
        ({"first": -1}, "between 0 and 100"),
        ({"after": "not a cursor!"}, "invalid cursor"),
        ({"after": "WzEsMl0"}, "invalid cursor"),
    ],
)
def test_bad_user_input(api: Server, variables: dict[str, Any], fragment: str) -> None:
    body = api.gql(IDS_PAGE, variables)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert fragment in body["errors"][0]["message"]


def test_cursor_of_another_order_is_refused(api: Server, seeded: dict[str, list[str]]) -> None:
    page = api.data(IDS_PAGE, {"filter": {"namespace": NS}, "first": 1})["executions"]
    order = {"field": "NAMESPACE", "direction": "ASC"}
    body = api.gql(IDS_PAGE, {"after": page["pageInfo"]["endCursor"], "orderBy": order})
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "orderBy" in body["errors"][0]["message"]


def test_first_zero_and_total_count(api: Server, seeded: dict[str, list[str]]) -> None:
    query = """query($f: ExecutionFilter) { executions(filter: $f, first: 0) {
        edges { cursor } pageInfo { hasNextPage endCursor } totalCount } }"""
    page = api.data(query, {"f": {"namespace": NS}})["executions"]
    assert page == {
        "edges": [],
        "pageInfo": {"hasNextPage": True, "endCursor": None},
        "totalCount": 8,
    }
    default = api.data("{ executions { edges { cursor } } }")["executions"]["edges"]
    assert len(default) == 20


TASK_RUNS = """query($f: TaskRunFilter, $first: Int, $after: String, $o: TaskRunOrder) {
  taskRuns(filter: $f, first: $first, after: $after, orderBy: $o) {
    edges { cursor node { id taskId executionId namespace flowId state { current } } }
    pageInfo { hasNextPage endCursor } totalCount } }"""


def test_task_runs(api: Server, seeded: dict[str, list[str]]) -> None:
    one = seeded[NS][0]
    page = api.data(TASK_RUNS, {"f": {"executionId": one}})["taskRuns"]
    assert [e["node"]["taskId"] for e in page["edges"]] == ["first", "ret"]
    assert page["totalCount"] == 2
    assert {e["node"]["namespace"] for e in page["edges"]} == {NS}
    by_task = api.data(TASK_RUNS, {"f": {"namespace": NS, "taskId": "ret"}})["taskRuns"]
    assert by_task["totalCount"] == 7
    running = api.data(TASK_RUNS, {"f": {"namespace": NS, "state": ["RUNNING"]}})["taskRuns"]
    assert [e["node"]["taskId"] for e in running["edges"]] == ["nap"]
    q = api.data(TASK_RUNS, {"f": {"namespaceEquals": f"{NS}.sub", "q": "FIR"}})["taskRuns"]
    assert q["totalCount"] == 3
    seen, after = [], None
    while True:
        page = api.data(TASK_RUNS, {"f": {"namespace": NS}, "first": 3, "after": after})["taskRuns"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == page["totalCount"]
    desc = api.data(
        TASK_RUNS, {"f": {"executionId": one}, "o": {"field": "START_DATE", "direction": "DESC"}}
    )
    assert [e["node"]["taskId"] for e in desc["taskRuns"]["edges"]] == ["ret", "first"]


def test_flows(api: Server, seeded: dict[str, list[str]]) -> None:
    flow = api.data(
        """{ flow(namespace: "filters", id: "hello") {
             namespace id revision disabled source updated description labels { key value }
             inputs outputs } }"""
    )["flow"]
    assert (flow["namespace"], flow["id"], flow["revision"], flow["disabled"]) == (
        NS,
        "hello",
        1,
        False,
    )
    assert flow["labels"] == [{"key": "team", "value": "core"}]
    assert flow["updated"].endswith("Z") and len(flow["updated"]) == 27
    assert api.data('{ flow(namespace: "filters", id: "nope") { id } }') == {"flow": None}
    listed = api.data('{ flows(namespace: "filters") { namespace id } }')["flows"]
    assert listed == [
        {"namespace": NS, "id": "hello"},
        {"namespace": NS, "id": "sleeper"},
        {"namespace": f"{NS}.sub", "id": "hello"},
    ]
    names = api.data("{ namespaces }")["namespaces"]
    assert {NS, f"{NS}.sub", f"{NS}x"} <= set(names)
    revisions = api.data('{ flowRevisions(namespace: "filters", id: "hello") { revision } }')
    assert revisions["flowRevisions"] == [{"revision": 1}]
