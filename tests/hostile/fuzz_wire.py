"""The fuzz's wire-level cases: subscriptions over both websocket protocols with hostile
arguments, variables of the wrong shape and broken frames, and raw HTTP requests (binary,
truncated and deeply nested bodies, odd methods, content types and paths)."""

from __future__ import annotations

import json
import random
from typing import Any
from urllib.parse import quote

from tests.hostile import fuzz_args as fa
from tests.hostile import fuzz_values as fv
from tests.hostile.fuzz_cases import KINDS, Case

TRANSPORT, LEGACY = "graphql-transport-ws", "graphql-ws"


def _frame(rng: random.Random) -> str | bytes:
    """A frame that is not a well-formed message."""
    return rng.choice(
        [
            b"\x00\x01\xff binary",
            '{"type": "subscribe", "id": "x", "payload": {"query": "subscription {',
            "[" * 50_000 + "]" * 50_000,
            '{"type": "subscribe", "id": "y", "payload": ' + "[" * 5000 + "]" * 5000 + "}",
            json.dumps(fv.text(rng)[1]),
            "x" * 300_000,
            '{"type": "subscribe", "id": "z", "payload": {"query": "{ namespaces }"}} trailing',
        ]
    )


def _payload(rng: random.Random, case: Case) -> tuple[Any, bool]:
    """A subscribe payload, and whether silence is a fair answer (an open global stream)."""
    op = rng.choice(fa.SUBSCRIPTIONS if rng.random() < 0.8 else fa.QUERIES + fa.MUTATIONS)
    query, variables, values = fa.document(rng, case.pools, op)
    # silence is a fair answer from a stream that is open: every execution, or one that is not
    # terminal (PAUSED) and has nothing after the given cursor
    target = values.get("executionId") or values.get("id")
    silence_ok = op.kind == "subscription" and (not target or target in case.pools.paused)
    roll = rng.random()
    if roll < 0.25:  # variables of the wrong shape
        return {
            "query": query,
            "variables": rng.choice([[1], "x", 7, True, fv.deep_list(99)]),
        }, False
    if roll < 0.35:
        return {"query": query, "operationName": fv.text(rng)[1], "extensions": [1]}, silence_ok
    if roll < 0.42:
        return rng.choice([None, [], "query", 5, {"query": 5}, {"variables": {}}]), False
    return {"query": query, "variables": variables}, silence_ok


def ws_case(case: Case, index: int) -> None:
    rng = case.rng
    protocol = TRANSPORT if rng.random() < 0.7 else LEGACY
    start = "subscribe" if protocol == TRANSPORT else "start"
    if rng.random() < 0.2:
        frames: list[str | bytes] = [_frame(rng)]
        op_id, silence_ok = None, False
    else:
        payload, silence_ok = _payload(rng, case)
        op_id = "op1"
        given_id: Any = op_id if rng.random() < 0.85 else rng.choice([1, None, ["op1"], ""])
        message = {"type": start, "id": given_id, "payload": payload}
        if given_id != op_id:
            op_id, silence_ok = None, False  # the server must close the connection
        frames = [fv.to_json(message)]
    case.notes.append(f"{protocol}: {fv.shorten(frames[0], 400)}")
    case.mutated = case.mutated or "mutation" in str(frames[0])
    ended = case.client.ws_exchange(protocol, frames, op_id, silence_ok)
    case.notes.append(f"answered by {ended}")


BODIES: list[tuple[bytes, str]] = [
    (bytes(range(256)) * 4, "application/json"),
    (b'{"query": "{ namespaces }", "variables": {"a": ', "application/json"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    (b'{"query": "{ namespaces }", "variables": ' + b'{"a":' * 3000 + b"1" + b"}" * 3001,
     "application/json"),
    (b'\xef\xbb\xbf{"query": "{ namespaces }"}', "application/json"),
    (b'{"query": "{ namespaces }"}', "application/json; charset=latin-1"),
    (b'{"query": "{ namespaces }"}', "text/plain"),
    (b"{ namespaces }", "application/graphql"),
    (b"--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\r\n--x--",
     "multipart/form-data; boundary=x"),
    (b"query=%FF%FE", "application/x-www-form-urlencoded"),
    (b'{"query": "{ namespaces }", "variables": {"n": NaN, "m": 1e99999}}', "application/json"),
    (b'{"query": "\xed\xbf\xbf"}', "application/json"),  # a surrogate encoded as UTF-8
    (b'{"query": "{ namespaces }", "query": 5}', "application/json"),
    (b'{"query": "subscription { stateChanges { cursor } }"}', "application/json"),
    (b"", "application/json"),
]  # fmt: skip


def _hostile_request(rng: random.Random) -> dict[str, Any]:
    query = rng.choice(["{ namespaces }", fv.text(rng)[1], "mutation { x }"])
    request: dict[str, Any] = {"query": query}
    for key in rng.sample(["variables", "operationName", "extensions"], rng.randint(0, 3)):
        request[key] = fv.any_value(rng)[1]
    return request


def http_case(case: Case, index: int) -> None:
    rng, client = case.rng, case.client
    roll = rng.random()
    if roll < 0.35:
        body, content_type = rng.choice(BODIES)
        case.notes.append(f"POST /graphql {content_type}: {fv.shorten(body.decode('latin-1'))}")
        client.last = case.notes[-1]
        client.request("POST", "/graphql", body, {"content-type": content_type})
    elif roll < 0.65:
        request = _hostile_request(rng)
        case.notes.append(f"POST /graphql {fv.shorten(request, 400)}")
        client.last = case.notes[-1]
        body = fv.to_json(request).encode("utf-8", "surrogatepass")
        client.request("POST", "/graphql", body, {"content-type": "application/json"})
    elif roll < 0.85:
        _get(case, rng)
    else:
        method = rng.choice(["PUT", "DELETE", "PATCH", "OPTIONS", "POST"])
        path = rng.choice(["/graphql/../health", "/%00", "/" + "a" * 8000, "/health", "/graphql"])
        case.notes.append(f"{method} {path[:80]}")
        client.last = case.notes[-1]
        client.request(method, path, b"\x00", {"content-type": "application/octet-stream"})


def _get(case: Case, rng: random.Random) -> None:
    """GET /graphql with hostile parameters; a subscription only on an id that is ended or
    not there (an SSE stream of a live execution would rightly stay open)."""
    query = rng.choice(
        [
            "{ namespaces }",
            fv.text(rng)[1],
            'mutation { deleteFlow(namespace: "fuzz.fix", id: "probe") { __typename } }',
            "subscription($id: ID!) { executionUpdated(id: $id) { cursor } }",
        ]
    )
    ended = fa.pick(rng, case.pools.ended, "none")
    variables = rng.choice([{"id": ended}, {"id": fv.text(rng)[1]}, fv.any_value(rng)[1]])
    accept = rng.choice(["application/json", "text/event-stream", "text/html", "multipart/mixed"])
    encoded = quote(query.encode("utf-8", "surrogatepass"))[:20_000]  # httpx caps URLs at 64 KiB
    params = f"?query={encoded}&variables={quote(fv.to_json(variables)[:20_000])}"
    case.notes.append(f"GET /graphql accept={accept} query={fv.shorten(query)} "
                      f"variables={fv.shorten(variables)}")  # fmt: skip
    case.client.last = case.notes[-1]
    case.client.request("GET", "/graphql" + params, headers={"accept": accept})


ALL_KINDS = [*KINDS, (ws_case, 10), (http_case, 10)]
