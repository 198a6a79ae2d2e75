"""A document validated before is executed by `schema.fastpath` without strawberry's extension
machinery: its HTTP answers must be byte for byte those of the general path (`Schema.execute`
with every extension), for data, errors, partial errors, wrong variables, refused limits,
masked errors, GET and named operations."""

from __future__ import annotations

import gc
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from strawberry.dataloader import DataLoader
from tests.api.conftest import Server

from tercel.engine import service
from tercel.schema import argbounds
from tercel.schema.context import Context, Loaders
from tercel.schema.errors import PublicError
from tercel.schema.execution import FastExecutionContext
from tercel.storage.read import flows as flow_reads

NAMESPACE = "fast.path"
EXECUTION = """query($id: ID!) { execution(id: $id) {
  id namespace flowId state { current histories { state } } labels { key value }
  taskRunList { taskId state { current } } } }"""
#: one root field answers, the others fail (see `_failing_reads`): partial data
PARTIAL = """query($id: ID!) { execution(id: $id) { id }
  a: flow(namespace: "fast.path", id: "public") { id }
  b: flow(namespace: "fast.path", id: "boom") { id }
  c: flow(namespace: "fast.path", id: "hello") { id } }"""
CREATE = """mutation($ns: String!, $f: String!) { createExecution(namespace: $ns, flowId: $f) {
  __typename ... on Error { message } ... on NotFoundError { kind id } } }"""
TWO = "query A { __typename } query B { executions(first: 1) { totalCount } }"
#: the error id of a masked error is new every time
_ERROR_ID = re.compile(rb'"errorId":"[0-9a-f]{32}"')


def _cases(execution_id: str) -> list[tuple[str, dict[str, Any]]]:
    """(method, request) pairs: GET requests carry `params`, POST requests `json`."""

    def post(query: str, variables: Any = None, **more: Any) -> tuple[str, dict[str, Any]]:
        return "POST", {"json": {"query": query, "variables": variables, **more}}

    return [
        post(EXECUTION, {"id": execution_id}),
        post(EXECUTION, {"id": "missing"}),
        post(PARTIAL, {"id": execution_id}),
        post(EXECUTION, {"id": None}),  # a variable of the wrong type
        post(EXECUTION, {}),  # a variable missing
        post(EXECUTION, {"id": "x" * (argbounds.MAX_TEXT + 1)}),  # a variable over its limit
        post(CREATE, {"ns": NAMESPACE, "f": "missing"}),
        post(CREATE, {"ns": NAMESPACE, "f": "boom"}),  # masked (see `_failing_reads`)
        post(TWO, operationName="B"),
        post(TWO, operationName="C"),
        post(TWO),  # two operations, no name
        post("{ executions(first: 1) { " + "a: totalCount " * 200 + "} }"),  # over the aliases
        post("{ execution(id: 1) { id } "),  # a syntax error
        ("GET", {"params": {"query": "{ executions(first: 1) { totalCount } }"}}),
        (
            "GET",
            {
                "params": {
                    "query": 'mutation { deleteFlow(namespace: "a", id: "b") { __typename } }'
                }
            },
        ),
    ]


@pytest.fixture
def _failing_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """createExecution of flow `boom` and the read of flow `boom` raise an unexpected error
    (masked, with an errorId); the read of flow `public` a `PublicError`."""
    create, read = service.create_execution, flow_reads.flow_latest

    async def creating(engine: Any, namespace: str, flow_id: str, *args: Any, **kw: Any) -> Any:
        if flow_id == "boom":
            raise RuntimeError("an unexpected failure")
        return await create(engine, namespace, flow_id, *args, **kw)

    async def reading(db: Any, namespace: str, flow_id: str) -> Any:
        if flow_id == "boom":
            raise RuntimeError("an unexpected failure")
        if flow_id == "public":
            raise PublicError("this flow cannot be read", "BAD_REQUEST")
        return await read(db, namespace, flow_id)

    monkeypatch.setattr(service, "create_execution", creating)
    monkeypatch.setattr(flow_reads, "flow_latest", reading)
    yield


def _answers(api: Server, method: str, request: dict[str, Any]) -> list[tuple[int, str, bytes]]:
    answers = []
    for _ in range(2):
        response = api.client.request(method, api.url + "/graphql", **request)
        answers.append(_answer(response))
    return answers


def _answer(response: httpx.Response) -> tuple[int, str, bytes]:
    body = _ERROR_ID.sub(b'"errorId":"-"', response.content)
    return response.status_code, response.headers.get("content-type", ""), body


@pytest.mark.usefixtures("_failing_reads")
def test_the_fast_path_answers_as_the_general_path(api: Server) -> None:
    api.deploy(NAMESPACE)
    execution_id = api.run(NAMESPACE)
    fast = api.app.state.fast_path
    assert fast.enabled
    for method, request in _cases(execution_id):
        request = _fresh(request)
        fast.enabled = False
        try:
            general = _answers(api, method, request)
        finally:
            fast.enabled = True
        served = fast.served
        answered = _answers(api, method, request)
        assert answered == general, (method, request)
        assert general[0] == general[1], (method, request)
        refused = b'"errors"' in general[0][2] and b'"data":null' in general[0][2]
        if not refused and general[0][0] == 200:
            assert fast.served == served + 2, (method, request, general)


def _fresh(request: dict[str, Any]) -> dict[str, Any]:
    """The request with a document no other test sent (the parser cache keys on the text)."""
    key = "json" if "json" in request else "params"
    payload = dict(request[key])
    payload["query"] = f"{payload['query']}\n# {uuid.uuid4()}"
    return {key: payload}


def test_a_validated_document_takes_the_fast_path(api: Server) -> None:
    fast = api.app.state.fast_path
    query = f"{{ executions(first: 1) {{ totalCount }} }} # {uuid.uuid4()}"
    before = fast.served
    for _ in range(3):
        assert "errors" not in api.gql(query)
    assert fast.served == before + 2  # the first request validated it


def test_a_request_leaves_no_cyclic_garbage(api: Server) -> None:
    """The request's context, loaders and executor are freed by reference counting when it is
    answered, not left in cycles for the collector's young collections."""
    query = f"{CREATE} # {uuid.uuid4()}"
    variables = {"ns": NAMESPACE, "f": "missing"}
    api.gql(query, variables)  # validated: the next ones take the fast path
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(5):
            assert "errors" not in api.gql(query, variables)
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage if type(o) in _REQUEST_TYPES]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert left == []


_REQUEST_TYPES = (Context, Loaders, DataLoader, FastExecutionContext)
