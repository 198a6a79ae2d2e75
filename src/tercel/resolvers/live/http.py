"""GraphQL over HTTP, where the live streams meet it (docs/semantics.md#subscriptions).

- A JSON body that is not an object (or a list, refused later as a batch) is a 400.
- A subscription is streamed as Server-Sent Events when `Accept` asks for `text/event-stream`
  (or as multipart for `multipart/mixed`), else refused at once with a 400 `BAD_REQUEST` that
  names the websocket protocols.
- A streamed answer always ends in a complete message: Strawberry's `schema.stream` parses the
  document inside the stream, so a syntax error raised there (by the parser cache) used to
  escape the generator after the response had started, and the client saw the chunked body cut
  off. Such an error is now the stream's one result, with its code (`guarded`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types import ExecutionResult

from tercel.engine import storable

__all__ = [
    "BAD_FILE_MAP",
    "PROTOCOLS",
    "SUBSCRIPTION_OVER_HTTP",
    "file_map_problem",
    "guarded",
    "is_subscription",
    "operation_type",
    "refuse_http_subscription",
    "request_object",
]


#: websockets (both protocols), then the HTTP streams Strawberry serves by `Accept`
PROTOCOLS = (
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    GRAPHQL_SSE_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
#: the answer to a subscription sent over plain HTTP (docs/semantics.md#subscriptions)
SUBSCRIPTION_OVER_HTTP = (
    "Subscriptions are not served over plain HTTP: send `Accept: text/event-stream` (Server-Sent "
    "Events), or use a websocket on /graphql with the `graphql-transport-ws` or the legacy "
    "`graphql-ws` protocol"
)


def refuse_http_subscription(
    stream_transport: Callable[[str], object], **request: Any
) -> ExecutionResult | None:
    """The 400 answer to a subscription sent over HTTP without a stream `Accept` (an error
    naming the websocket protocols), or None for every other request."""
    data = request["request_data"]
    if isinstance(data, list) or stream_transport(data.protocol) is not None:
        return None
    if not is_subscription(data.query, data.operation_name):
        return None
    request["sub_response"].status_code = 400
    error = GraphQLError(SUBSCRIPTION_OVER_HTTP, extensions={"code": "BAD_REQUEST"})
    return ExecutionResult(data=None, errors=[error])


def is_subscription(query: object, operation_name: object) -> bool:
    """The operation `query` runs (by `operation_name`) is a subscription. Only documents that
    spell the keyword are parsed; an unparsable one is left for the parser to report."""
    if not isinstance(query, str) or "subscription" not in query:
        return False
    return operation_type(query, operation_name) == OperationType.SUBSCRIPTION


def operation_type(query: str, operation_name: object) -> OperationType | None:
    """The type of the operation `query` runs; None when it does not parse or is ambiguous."""
    try:
        document = parse(query)
    except GraphQLError:
        return None
    chosen = [
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
        and (operation_name is None or (d.name is not None and d.name.value == operation_name))
    ]
    return chosen[0].operation if len(chosen) == 1 else None


#: why a multipart request's `map` is refused (400)
BAD_FILE_MAP = (
    "the multipart `map` must be an object mapping each file part to a list of variable paths "
    "(the GraphQL multipart request specification)"
)


def file_map_problem(file_map: object, parts: Iterable[str]) -> str:
    """Why a multipart `map` does not fit the request's file parts (what Strawberry answers
    as `File(s) missing in form data`, naming nothing)."""
    if not isinstance(file_map, dict) or not all(
        isinstance(paths, list) and all(isinstance(path, str) for path in paths)
        for paths in file_map.values()
    ):
        return BAD_FILE_MAP
    held = sorted(parts)
    missing = sorted(str(key) for key in file_map if key not in held)
    if not missing:
        return BAD_FILE_MAP
    return (
        f"the multipart `map` names the file part `{'`, `'.join(missing)}`, which the request "
        f"does not hold (its file parts: `{'`, `'.join(held) or 'none'}`)"
    )


def request_object(decoded: object) -> object:
    """A decoded HTTP body must be an object (a list is a batch, refused by Strawberry)."""
    if not isinstance(decoded, dict | list):
        raise HTTPException(
            400,
            "The request body (or a `variables` or `extensions` parameter) must be a JSON object",
        )
    return decoded


async def guarded(results: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """`results`, with a GraphQL error raised while streaming yielded as a result instead."""
    try:
        async for value in results:
            yield value
    except GraphQLError as error:
        error.message = storable.scrubbed(error.message)  # it may quote a bad escape
        yield ExecutionResult(data=None, errors=[error])
