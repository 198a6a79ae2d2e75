"""Failure families the seeded fuzz of #12 found, each closed with a regression test here.

Against the package's real server: a variable of the wrong type is the client's error
(`BAD_USER_INPUT`) over HTTP and both websocket protocols, while a scalar parser that fails
unexpectedly is still masked.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from graphql import GraphQLError
from tests.crash.server import TercelServer
from tests.hostile.test_hostile_input import assert_serving
from websockets.sync.client import connect

from tercel.schema import errors, extensions

#: (document, variables): each variable's value does not fit its declared type
BAD_VARIABLES = {
    "Int beyond 32 bits": (
        "query($f: Int) { executions(first: $f) { totalCount } }",
        {"f": 2**31},
    ),
    "unknown enum value": (
        'query($l: LogLevel) { logs(executionId: "x", minLevel: $l) { edges { cursor } } }',
        {"l": "NOPE"},
    ),
    "filter not an object": (
        "query($f: ExecutionFilter) { executions(filter: $f) { totalCount } }",
        {"f": "x"},
    ),
    "labels a string": (
        'mutation($l: [LabelInput!]) { createExecution(namespace: "n", flowId: "f", labels: $l)'
        " { __typename } }",
        {"l": "x"},
    ),
    "Boolean given yes": (
        'mutation($d: Boolean!) { setFlowDisabled(namespace: "n", id: "f", disabled: $d)'
        " { __typename } }",
        {"d": "yes"},
    ),
    "Duration P": (
        "query($b: Duration!) { executionStats(bucket: $b) { ended } }",
        {"b": "P"},
    ),
    "Duration in a filter": (
        "query($f: ExecutionFilter) { executions(filter: $f) { totalCount } }",
        {"f": {"timeRange": 5}},
    ),
}


def _variable_error(errors_: list[dict[str, Any]], name: str) -> None:
    [error] = errors_
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}, error
    assert error["message"].startswith(f"Variable '${name}' has invalid value"), error


@pytest.mark.parametrize(("query", "variables"), BAD_VARIABLES.values(), ids=BAD_VARIABLES)
def test_bad_variable_over_http(
    server: TercelServer, query: str, variables: dict[str, Any]
) -> None:
    body = server.gql(query, variables)
    assert body["data"] is None
    _variable_error(body["errors"], next(iter(variables)))
    assert_serving(server)


def _first_answer(server: TercelServer, protocol: str, start: dict[str, Any]) -> dict[str, Any]:
    url = server.url.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=[protocol], open_timeout=5, close_timeout=2) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=5))["type"] == "connection_ack"
        ws.send(json.dumps(start))
        while True:
            answer: dict[str, Any] = json.loads(ws.recv(timeout=5))
            if answer["type"] != "ka":
                return answer


LOGS = 'subscription($l: LogLevel) { logs(executionId: "x", minLevel: $l) { message } }'


@pytest.mark.parametrize(
    ("protocol", "kind", "query"),
    [
        ("graphql-transport-ws", "subscribe", BAD_VARIABLES["Int beyond 32 bits"][0]),
        ("graphql-transport-ws", "subscribe", LOGS),
        ("graphql-ws", "start", LOGS),
    ],
    ids=["transport query", "transport subscription", "legacy subscription"],
)
def test_bad_variable_over_websockets(
    server: TercelServer, protocol: str, kind: str, query: str
) -> None:
    variables = {"f": 2**31} if "$f" in query else {"l": "NOPE"}
    payload = {"query": query, "variables": variables}
    answer = _first_answer(server, protocol, {"type": kind, "id": "1", "payload": payload})
    assert answer["type"] in ("next", "data", "error"), answer
    found = answer["payload"]  # transport: a list of errors, legacy: one error; `next`: a result
    if isinstance(found, dict):
        found = found["errors"] if "errors" in found else [found]
    _variable_error(found, next(iter(variables)))
    assert_serving(server)


def _variable_failure(cause: Exception | None) -> GraphQLError:
    """The error graphql-core's `coerce_variable_values` builds: no path, wrapping the
    coercion's own error, which holds what the scalar's parser raised (if anything)."""
    coercion = GraphQLError("Expected value of type 'Duration'", original_error=cause)
    return GraphQLError("Variable '$b' has invalid value", original_error=coercion)


def test_variable_errors_are_masked_only_when_a_parser_fails_unexpectedly() -> None:
    refused = _variable_failure(None)
    told = _variable_failure(errors.BadUserInput("invalid duration `P`"))
    broken = _variable_failure(TypeError("a bug in the parser"))
    assert not extensions.should_mask(refused)
    assert not extensions.should_mask(told)
    assert extensions.should_mask(broken)
    assert extensions.code_of(refused) == extensions.code_of(told) == "BAD_USER_INPUT"


#: Duration arguments beyond dates and SQLite's 64-bit microseconds, literal and as variables
LONG_DURATIONS = [
    ('{ executionStats(bucket: "P999999999D") { ended } }', None),
    ('{ executions(filter: {timeRange: "PT9999999999999999999H"}) { totalCount } }', None),
    ('{ executions(filter: {timeRange: "P36501D"}) { totalCount } }', None),
    ("query($b: Duration!) { executionStats(bucket: $b) { ended } }", {"b": "P999999999D"}),
    (
        "query($f: ExecutionFilter) { executions(filter: $f) { totalCount } }",
        {"f": {"timeRange": "P999999999D"}},
    ),
]


@pytest.mark.parametrize(("query", "variables"), LONG_DURATIONS)
def test_too_long_durations_are_refused_with_the_bound(
    server: TercelServer, query: str, variables: dict[str, Any] | None
) -> None:
    body = server.gql(query, variables)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert "`bucket` and `timeRange` are at most P36500D (100 years)" in error["message"], error
    assert_serving(server)


def test_a_hundred_years_is_accepted(server: TercelServer) -> None:
    query = '{ executions(filter: {timeRange: "P36500D"}) { totalCount } }'
    assert server.data(query)["executions"]["totalCount"] >= 0
    assert server.data('{ executionStats(bucket: "P36500D") { ended } }')["executionStats"]


LONG_INT = "1" + "0" * 5000


@pytest.mark.parametrize(
    "query",
    [
        f"{{ executions(first: {LONG_INT}) {{ totalCount }} }}",
        f"{{ executions(last: -{LONG_INT}) {{ totalCount }} }}",
        f'mutation {{ createExecution(namespace: "n", flowId: "f", inputs: {{a: [{LONG_INT}]}})'
        " { __typename } }",
    ],
    ids=["Int argument", "negative", "inside a JSON literal"],
)
def test_int_literal_too_long_to_read(server: TercelServer, query: str) -> None:
    body = server.gql(query)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}, error
    assert error["message"] == "An integer literal has 5001 digits: at most 4300 are read"
    assert error["locations"][0]["line"] == 1, error
    assert_serving(server)


def test_digits_in_a_string_are_not_an_int_literal(server: TercelServer) -> None:
    body = server.gql(f'{{ flows(namespace: "{LONG_INT[:4400]}") {{ id }} }}')
    assert body.get("errors") is None or all(
        "integer literal" not in error["message"] for error in body["errors"]
    ), body


HUGE = "x" * 70_000

#: (document, variables, the argument the error names): queries, filters and mutations
LONG_NAMES = [
    ("query($n: String) { flows(namespace: $n) { id } }", {"n": HUGE}, "namespace"),
    (
        f'{{ executions(filter: {{namespace: "{HUGE}"}}) {{ totalCount }} }}',
        None,
        "filter.namespace",
    ),
    (
        "query($f: TaskRunFilter) { taskRuns(filter: $f) { totalCount } }",
        {"f": {"flowId": HUGE}},
        "filter.flowId",
    ),
    ('query($i: String!) { flow(namespace: "n", id: $i) { id } }', {"i": HUGE}, "id"),
    (
        'mutation($n: String!) { createExecution(namespace: $n, flowId: "f") { __typename } }',
        {"n": HUGE},
        "namespace",
    ),
    (
        'mutation($i: String!) { deleteFlow(namespace: "n", id: $i) { __typename } }',
        {"i": HUGE},
        "id",
    ),
    ("query($q: String) { executions(filter: {q: $q}) { totalCount } }", {"q": HUGE}, "filter.q"),
]


@pytest.mark.parametrize(("query", "variables", "where"), LONG_NAMES)
def test_names_and_ids_are_bounded_everywhere(
    server: TercelServer, query: str, variables: dict[str, Any] | None, where: str
) -> None:
    body = server.gql(query, variables)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}, error
    assert error["message"] == f"`{where}` is longer than 1000 characters (70000)", error
    assert_serving(server)


def test_long_namespace_filter_of_a_subscription(server: TercelServer) -> None:
    query = "subscription($f: StateChangeFilter) { stateChanges(filter: $f) { cursor } }"
    payload = {"query": query, "variables": {"f": {"namespace": HUGE}}}
    answer = _first_answer(
        server, "graphql-transport-ws", {"type": "subscribe", "id": "1", "payload": payload}
    )
    assert answer["type"] == "error", answer
    [error] = answer["payload"]
    assert error["message"] == "`filter.namespace` is longer than 1000 characters (70000)"
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}, error


def test_names_at_the_bound_are_served(server: TercelServer) -> None:
    found = server.data("query($n: String) { flows(namespace: $n) { id } }", {"n": "x" * 1000})
    assert found == {"flows": []}
