"""Hardening of Strawberry's transports: malformed input gets a clear 4xx or close code.

- HTTP: a JSON body that is not an object (or a list, refused later as a batch) is a 400; a
  subscription is streamed as Server-Sent Events when `Accept` asks for `text/event-stream`
  (or as multipart for `multipart/mixed`), else refused at once with a 400 `BAD_REQUEST` that
  names the websocket protocols.
- graphql-transport-ws: a frame that is not a JSON object closes with 4400 instead of killing
  the handler; a subscribe whose document does not parse gets an `error` message (with
  `GRAPHQL_PARSE_FAILED`), as the protocol wants, instead of a bare `complete`.
- graphql-ws (legacy): a frame that is not an object, or a `start` without a payload object,
  gets a `connection_error`; a `start` whose payload is malformed, or whose operation is not a
  subscription, gets an `error` naming the problem (`BAD_REQUEST`).
- A subscribe (or start) whose `variables` or `extensions` is not an object, or whose
  `operationName` is not a string, or names no operation of the document, gets an `error`
  message (it used to run, to get a bare `complete`, or an INTERNAL_SERVER_ERROR).
- Both: an operation message whose `id` is not a string is refused as above (a list or an
  object as id used to crash the connection's handler).

Both handlers send every message as a *text* frame (the protocols' JSON messages; browsers'
clients parse `event.data` as a string), run each operation in a `fanout.OperationScope`, and
let shared events go out as ready frames (see `fanout`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from typing import Any, cast

from cross_web import HTTPException
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.websockets import WebSocketDisconnect, WebSocketState
from starlette.websockets import WebSocketDisconnected as SendAfterClose
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types import ExecutionResult

from tercel import fanout
from tercel.engine import storable
from tercel.resolvers.context import Context

__all__ = [
    "PROTOCOLS",
    "SUBSCRIPTION_OVER_HTTP",
    "LegacyWSHandler",
    "TransportWSHandler",
    "is_subscription",
    "missing_operation",
    "operation_type",
    "payload_problem",
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


def payload_problem(payload: dict[str, Any]) -> str | None:
    """What is wrong with the fields of an operation payload (both websocket protocols)."""
    if not isinstance(payload.get("query"), str):
        return "`payload.query` must be a string"
    for key, kind in (("variables", "an object"), ("extensions", "an object")):
        if payload.get(key) is not None and not isinstance(payload[key], dict):
            return f"`payload.{key}` must be {kind} or null"
    if payload.get("operationName") is not None and not isinstance(payload["operationName"], str):
        return "`payload.operationName` must be a string or null"
    return None


def request_object(decoded: object) -> object:
    """A decoded HTTP body must be an object (a list is a batch, refused by Strawberry)."""
    if not isinstance(decoded, dict | list):
        raise HTTPException(
            400,
            "The request body (or a `variables` or `extensions` parameter) must be a JSON object",
        )
    return decoded


#: messages that name an operation: its `id` must be a string (both protocols say so)
_WITH_ID = frozenset({"subscribe", "complete", "start", "stop"})


def _open_scope(
    handler: Any, kind: str, operation_id: str, query: str, name: str | None, variables: Any
) -> fanout.OperationScope:
    """The operation task's scope (call it in that task), writing through `handler`."""
    frames: fanout.Frames = handler.view.frames
    group = fanout.group_of(query, name, variables)
    prefix = _prefix(kind, operation_id)
    scope = fanout.OperationScope(frames, group, prefix, lambda text: _send_text(handler, text))
    fanout.opened(scope)
    return scope


async def _send_text(handler: Any, text: str) -> None:
    adapter: ASGIWebSocketAdapter = handler.websocket
    try:
        await adapter.ws.send_text(text)
    except (WebSocketDisconnect, SendAfterClose) as exc:  # gone, or closed by the server
        raise WebSocketDisconnected from exc


def _text(message: Any, kind: str) -> str:
    """`message` as JSON text; an operation's `kind` message through its scope's frames."""
    scope = fanout.scope_of_task()
    if scope is not None and message.get("type") == kind:
        return scope.prefix + scope.sent(message["payload"]) + "}"
    return fanout.json_text(message)


def _prefix(kind: str, operation_id: str) -> str:
    """The JSON of an operation's `kind` message up to its payload."""
    quoted_id = fanout.json_text(operation_id)
    if kind == "next":
        return '{"id":' + quoted_id + ',"type":"next","payload":'
    return '{"type":"data","id":' + quoted_id + ',"payload":'


#: the client messages of the legacy protocol
_LEGACY_TYPES = ("connection_init", "connection_terminate", "start", "stop")


def _bad(message: str) -> dict[str, Any]:
    """A BAD_REQUEST error payload."""
    return {"message": message, "extensions": {"code": "BAD_REQUEST"}}


async def _frames(adapter: ASGIWebSocketAdapter) -> AsyncIterator[str]:
    """The text frames a client sends until it goes (a binary frame raises KeyError)."""
    while adapter.ws.application_state != WebSocketState.DISCONNECTED:
        try:
            yield await adapter.ws.receive_text()
        except WebSocketDisconnect:
            return


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def run_operation(self, operation: Any) -> None:
        scope = _open_scope(
            self, "next", operation.id, operation.query, operation.operation_name,
            operation.variables,
        )  # fmt: skip
        try:
            await super().run_operation(operation)
        finally:
            scope.close()

    async def send_message(self, message: Any) -> None:
        await _send_text(self, _text(message, "next"))

    async def handle_message(self, message: Any) -> None:
        if not isinstance(message, dict):
            await self.handle_invalid_message("Failed to parse message: expected a JSON object")
            return
        if message.get("type") in _WITH_ID and not isinstance(message.get("id"), str):
            await self.handle_invalid_message("Invalid message: `id` must be a string")
            return
        if message.get("type") == "subscribe":
            payload = message.get("payload")
            if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
                await self.handle_invalid_message("Invalid subscribe message: no query")
                return
            if self.connection_acknowledged and not await self._acceptable(message, payload):
                return
        await super().handle_message(cast(Any, message))

    async def _acceptable(self, message: dict[str, Any], payload: dict[str, Any]) -> bool:
        """Send the operation an `error` (and return False) when its payload is malformed, its
        document does not parse or has no operation to run by `operationName`."""
        formatted = _operation_problem(payload, "subscribe")
        if formatted is None:
            return True
        reply = {"id": message.get("id"), "type": "error", "payload": [formatted]}
        await self.send_message(cast(Any, reply))
        return False


def _operation_problem(payload: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The formatted error a `kind` (subscribe or start) message gets, or None when it can run.
    A parse error's message is scrubbed of lone surrogates (its text quotes the bad escape)."""
    problem = payload_problem(payload)
    if problem is not None:
        return _bad(f"Invalid {kind} message: {problem}")
    try:
        problem = missing_operation(payload["query"], payload.get("operationName"))
    except GraphQLError as error:
        formatted = {**error.formatted, "message": storable.scrubbed(error.message)}
        return {**formatted, "extensions": {"code": "GRAPHQL_PARSE_FAILED"}}
    return None if problem is None else _bad(problem)


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        scope = _open_scope(self, "data", operation_id, query, operation_name, variables)
        try:
            await super().handle_async_results(operation_id, query, operation_name, variables)
        finally:
            scope.close()

    async def send_message(self, message: Any) -> None:
        try:
            await _send_text(self, _text(message, "data"))
        except WebSocketDisconnected:
            if message.get("type") != "complete":  # the `complete` of a cancelled operation
                raise  # goes nowhere once the client is gone

    async def handle(self) -> None:
        """Strawberry's loop, except that a frame that is not JSON (or nests too deep) gets a
        `connection_error` naming the problem instead of being dropped without a word."""
        adapter = cast(ASGIWebSocketAdapter, self.websocket)
        frames = _frames(adapter)
        try:
            async for text in frames:
                try:
                    message = self.view.decode_json(text)
                except (ValueError, RecursionError) as error:
                    problem = f"The frame is not a JSON message: {str(error)[:200]}"
                    await self.send_message({"type": "connection_error", "payload": _bad(problem)})
                    continue
                await self.handle_message(message)
        except KeyError:  # a binary frame, as Strawberry closes for it
            await adapter.ws.close(code=1002, reason="WebSocket message type must be text")
        except WebSocketDisconnected:
            pass
        finally:
            await self._stop_all()

    async def _stop_all(self) -> None:
        if self.keep_alive_task:
            self.keep_alive_task.cancel()
            with suppress(BaseException):
                await self.keep_alive_task
        await self.cleanup()

    async def handle_message(self, message: Any) -> None:
        if isinstance(message, dict) and message.get("type") not in _LEGACY_TYPES:
            unknown = f"Unknown message type {fanout.json_text(message.get('type'))[:100]}"
            unknown += ": the legacy `graphql-ws` protocol knows " + ", ".join(_LEGACY_TYPES)
            reply: dict[str, Any] = {"type": "error", "payload": _bad(unknown)}
            if isinstance(message.get("id"), str):
                reply["id"] = message["id"]
            await self.send_message(reply)
            return
        if not isinstance(message, dict) or (
            (message.get("type") == "start" and not isinstance(message.get("payload"), dict))
            or (message.get("type") in _WITH_ID and not isinstance(message.get("id"), str))
        ):
            await self.send_message({"type": "connection_error"})
            await self.websocket.close(code=1000, reason="")
            return
        if message.get("type") == "start":
            error = self._start_problem(message["payload"])
            if error is not None:
                await self.send_message({"type": "error", "id": message["id"], "payload": error})
                return
        await super().handle_message(cast(Any, message))

    @staticmethod
    def _start_problem(payload: dict[str, Any]) -> dict[str, Any] | None:
        """The formatted error of a `start` that cannot run: a malformed payload, a document
        that does not parse or has no such operation, or an operation that is not a
        subscription (this protocol serves subscriptions only)."""
        error = _operation_problem(payload, "start")
        if error is not None:
            return error
        kind = operation_type(payload["query"], payload.get("operationName"))
        if kind is not None and kind != OperationType.SUBSCRIPTION:
            return _bad(
                f"The legacy `graphql-ws` protocol serves subscriptions only, not a {kind.value}: "
                "send queries and mutations over HTTP or with `graphql-transport-ws`"
            )
        return None
