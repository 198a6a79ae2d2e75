"""What both websocket handlers share: the checks of an operation message, the errors they
answer, each operation's `fanout` scope, and every message written as one text frame.

- An operation message whose `id` is not a string is refused (a list or an object as id used
  to crash the connection's handler).
- A subscribe (or start) whose `variables` or `extensions` is not an object, whose
  `operationName` is not a string or names no operation of the document, or whose document
  does not parse, gets an `error` message naming the problem (it used to run, to get a bare
  `complete`, or an INTERNAL_SERVER_ERROR). A syntax error inside a string names the argument
  that holds the string (`schema.syntax`), with any lone surrogate of its text scrubbed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol, cast

from graphql import GraphQLError, GraphQLFormattedError, OperationDefinitionNode, parse
from starlette.websockets import WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketDisconnected as SendAfterClose
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected

from tercel.engine import storable
from tercel.resolvers.live import fanout
from tercel.schema import syntax

__all__ = [
    "WITH_ID",
    "Kind",
    "bad",
    "missing_operation",
    "open_scope",
    "operation_problem",
    "payload_problem",
    "send_text",
    "starlette_socket",
    "text_of",
]

#: messages that name an operation: its `id` must be a string (both protocols say so)
WITH_ID = frozenset({"subscribe", "complete", "start", "stop"})

#: the message that carries an operation's results: `next` (graphql-transport-ws) or `data`
Kind = Literal["next", "data"]


def bad(message: str) -> GraphQLFormattedError:
    """A BAD_REQUEST error payload."""
    return {"message": message, "extensions": {"code": "BAD_REQUEST"}}


def payload_problem(payload: Mapping[str, object]) -> str | None:
    """What is wrong with the fields of an operation payload (both websocket protocols)."""
    if not isinstance(payload.get("query"), str):
        return "`payload.query` must be a string"
    for key in ("variables", "extensions"):
        if payload.get(key) is not None and not isinstance(payload[key], dict):
            return f"`payload.{key}` must be an object or null"
    if payload.get("operationName") is not None and not isinstance(payload["operationName"], str):
        return "`payload.operationName` must be a string or null"
    return None


def missing_operation(query: str, operation_name: str | None) -> str | None:
    """Why the document (which parses) has no operation to run by `operation_name`: none of
    that name, or several and no name given; None when there is exactly one to run."""
    document = parse(query)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    names = [d.name.value for d in operations if d.name is not None]
    if operation_name is not None and operation_name not in names:
        defined = ", ".join(f"`{name}`" for name in names) or "no named operation"
        return f"Unknown operation named `{operation_name}`: the document defines {defined}"
    if operation_name is None and len(operations) != 1:
        return "The document must define exactly one operation, or `operationName` must name one"
    return None


def operation_problem(payload: Mapping[str, object], kind: str) -> GraphQLFormattedError | None:
    """The formatted error a `kind` (subscribe or start) message gets, or None when it can run.
    A parse error's message is scrubbed of lone surrogates (its text may quote the bad escape)."""
    problem = payload_problem(payload)
    if problem is not None:
        return bad(f"Invalid {kind} message: {problem}")
    query, name = cast(str, payload["query"]), cast("str | None", payload.get("operationName"))
    try:
        problem = missing_operation(query, name)
    except GraphQLError as error:
        formatted = syntax.named_syntax_error(error, query).formatted
        formatted["message"] = storable.scrubbed(formatted["message"])
        formatted["extensions"] = {"code": "GRAPHQL_PARSE_FAILED"}
        return formatted
    return None if problem is None else bad(problem)


# ------------------------------------------------------------------ frames and scopes


class _FramesView(Protocol):
    """The application view (`app.TercelGraphQL`) keeps the encoded frames of both protocols."""

    frames: fanout.Frames


def open_scope(
    view: object,
    websocket: AsyncWebSocketAdapter,
    kind: Kind,
    operation_id: str,
    query: str,
    name: str | None,
    variables: Mapping[str, object] | None,
) -> fanout.OperationScope:
    """The operation task's scope (call it in that task), writing on `websocket`."""
    frames = cast(_FramesView, view).frames
    group = fanout.group_of(query, name, variables)
    socket = starlette_socket(websocket)

    async def write(text: str) -> None:
        await send_text(socket, text)

    scope = fanout.OperationScope(frames, group, _prefix(kind, operation_id), write)
    fanout.opened(scope)
    return scope


def starlette_socket(websocket: AsyncWebSocketAdapter) -> WebSocket:
    """The Starlette websocket under Strawberry's adapter (the app is always ASGI)."""
    assert isinstance(websocket, ASGIWebSocketAdapter)
    return websocket.ws


async def send_text(socket: WebSocket, text: str) -> None:
    """One text frame; a client gone (or a socket closed by the server) is Strawberry's
    `WebSocketDisconnected`, which ends the connection's handler quietly."""
    try:
        await socket.send_text(text)
    except (WebSocketDisconnect, SendAfterClose) as exc:
        raise WebSocketDisconnected from exc


def text_of(message: Mapping[str, object], kind: Kind) -> str:
    """`message` as JSON text; an operation's `kind` message through its scope's frames."""
    scope = fanout.scope_of_task()
    if scope is not None and message.get("type") == kind:
        payload = cast("Mapping[str, object]", message["payload"])  # a result: an object
        return scope.prefix + scope.sent(payload) + "}"
    return fanout.json_text(message)


def _prefix(kind: Kind, operation_id: str) -> str:
    """The JSON of an operation's `kind` message up to its payload."""
    quoted_id = fanout.json_text(operation_id)
    if kind == "next":
        return '{"id":' + quoted_id + ',"type":"next","payload":'
    return '{"type":"data","id":' + quoted_id + ',"payload":'
