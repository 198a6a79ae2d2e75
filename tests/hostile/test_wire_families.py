"""Regressions for the wire and value families (4, 5, 7, 8, 9) the seeded fuzz (#12) found:
each case once answered a 5xx, an INTERNAL_SERVER_ERROR or nothing at all; now it gets a clear
answer and the server serves on."""

from __future__ import annotations

import json
from typing import Any

import httpx
from tests.crash.server import TercelServer
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

NS = "wire.families.t"
DEPLOY = "mutation($s: String!) { deployFlow(source: $s) { __typename ... on Error { message } } }"
RETURN_TASK = "tasks:\n  - id: r\n    type: io.kestra.plugin.core.debug.Return\n    format: x\n"


def _post(server: TercelServer, query: str, variables: dict[str, Any] | None = None) -> Any:
    answer = httpx.post(
        server.url + "/graphql", json={"query": query, "variables": variables or {}}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _deploy(server: TercelServer, flow_id: str, inputs: str) -> Any:
    source = f"id: {flow_id}\nnamespace: {NS}\ninputs:\n{inputs}{RETURN_TASK}"
    return _post(server, DEPLOY, {"s": source})["data"]["deployFlow"]


def _ws_answer(server: TercelServer, protocol: str, frame: str) -> dict[str, Any]:
    """The first message (keep-alives skipped) answering `frame` after the handshake."""
    url = server.url.replace("http", "ws") + "/graphql"
    with connect(url, subprotocols=[protocol], open_timeout=5, max_size=None) as client:
        client.send(json.dumps({"type": "connection_init"}))
        client.recv(timeout=5)
        client.send(frame)
        while True:
            message: dict[str, Any] = json.loads(client.recv(timeout=5))
            if message.get("type") != "ka":
                return message


def test_input_constraints_of_time_types_are_served_as_iso_text(server: TercelServer) -> None:
    inputs = (
        "  - id: wait\n    type: DURATION\n    min: PT0S\n    max: PT1H30M\n"
        "  - id: at\n    type: DATETIME\n    after: 2000-01-01T00:00:00Z\n"
    )
    assert _deploy(server, "times", inputs)["__typename"] == "Flow"
    one = _post(server, f'{{ flow(namespace: "{NS}", id: "times") {{ inputs }} }}')
    assert "errors" not in one, one
    wait, at = one["data"]["flow"]["inputs"]
    assert (wait["min"], wait["max"]) == ("PT0S", "PT1H30M")
    assert at["after"] == "2000-01-01T00:00:00.000000Z"
    listed = _post(server, f'{{ flows(namespace: "{NS}") {{ id inputs }} }}')
    assert "errors" not in listed, listed


def test_websocket_operation_name_that_names_no_operation(server: TercelServer) -> None:
    for protocol, kind in (("graphql-transport-ws", "subscribe"), ("graphql-ws", "start")):
        query = "subscription Mine { stateChanges { cursor } }"
        payload = {"query": query, "operationName": "nope"}
        frame = json.dumps({"type": kind, "id": "1", "payload": payload})
        answer = _ws_answer(server, protocol, frame)
        assert answer["type"] == "error", (protocol, answer)
        errors = answer["payload"] if isinstance(answer["payload"], list) else [answer["payload"]]
        assert errors[0]["extensions"]["code"] == "BAD_REQUEST", (protocol, answer)
        assert "`nope`" in errors[0]["message"] and "`Mine`" in errors[0]["message"]


def test_integers_beyond_64_bits_are_refused_naming_the_field(server: TercelServer) -> None:
    deployed = _deploy(
        server, "wide", "  - id: j\n    type: JSON\n    defaults: [-9223372036854775809]\n"
    )
    assert deployed["__typename"] == "FlowValidationError", deployed
    assert "defaults" in deployed["message"] and "64 bits" in deployed["message"]
    assert (
        _deploy(server, "json", "  - id: j\n    type: JSON\n    required: false\n")["__typename"]
        == "Flow"
    )
    create = (
        f'mutation($i: JSON) {{ createExecution(namespace: "{NS}", flowId: "json", inputs: $i) '
        "{ __typename ... on Error { message } } }"
    )
    for given in (2**64, [1, -(2**63) - 1], "18446744073709551616"):
        created = _post(server, create, {"i": {"j": given}})
        assert "errors" not in created, created
        answer = created["data"]["createExecution"]
        assert answer["__typename"] != "Execution", (given, answer)
        assert "`j" in answer["message"] and "64 bits" in answer["message"], answer
    widest = _post(server, create, {"i": {"j": [2**63 - 1, -(2**63)]}})
    assert widest["data"]["createExecution"]["__typename"] == "Execution", widest


def test_legacy_protocol_answers_every_bad_frame(server: TercelServer) -> None:
    surrogate_id = 'subscription { executionUpdated(id: "\\udfff") { cursor } }'
    frames = {
        "x" * 1000: "connection_error",
        "[" * 50_000 + "]" * 50_000: "connection_error",
        json.dumps(
            {"type": "subscribe", "id": "1", "payload": {"query": "{ namespaces }"}}
        ): "error",
        json.dumps({"type": "start", "id": "1", "payload": {"query": surrogate_id}}): "error",
    }
    for frame, kind in frames.items():
        answer = _ws_answer(server, "graphql-ws", frame)
        assert answer["type"] == kind, (frame[:60], answer)
        assert answer["payload"]["message"], answer
    # the surrogate escape is a syntax error in the document: located, the escape scrubbed
    assert answer["payload"]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED", answer
    assert answer["payload"]["locations"] == [{"line": 1, "column": 38}], answer


def test_transport_protocol_closes_4400_for_bad_frames(server: TercelServer) -> None:
    for frame in ("x" * 1000, "[" * 50_000 + "]" * 50_000, '{"type": "nope"}'):
        url = server.url.replace("http", "ws") + "/graphql"
        with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=5) as client:
            client.send(json.dumps({"type": "connection_init"}))
            client.recv(timeout=5)
            client.send(frame)
            try:
                while True:
                    client.recv(timeout=5)
            except ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code == 4400, (frame[:20], closed)


def test_server_sent_events_answer_a_document_that_does_not_parse(server: TercelServer) -> None:
    for query in ("{ namespaces", "é" * 100, '{ flow(namespace: "\\udfff", id: "x") { id } }'):
        answer = httpx.get(
            server.url + "/graphql",
            params={"query": query},
            headers={"accept": "text/event-stream"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        text = answer.text.replace("\r\n", "\n")
        events = [part for part in text.split("\n\n") if part.strip()]
        assert events[-1].startswith("event: complete"), events
        first = json.loads(events[0].removeprefix("event: next\ndata: "))
        assert first["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED", first
