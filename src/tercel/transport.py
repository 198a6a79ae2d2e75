"""Hardening of Strawberry's transports: malformed input gets a clear 4xx or close code.

- HTTP: a JSON body that is not an object (or a list, refused later as a batch) is a 400.
- graphql-transport-ws: a frame that is not a JSON object closes with 4400 instead of killing
  the handler; a subscribe whose document does not parse gets an `error` message (with
  `GRAPHQL_PARSE_FAILED`), as the protocol wants, instead of a bare `complete`.
- graphql-ws (legacy): a frame that is not an object, or a `start` without a payload object,
  gets a `connection_error`.
- Both: an operation message whose `id` is not a string is refused as above (a list or an
  object as id used to crash the connection's handler).

Both handlers send every message as a *text* frame (the protocols' JSON messages; browsers'
clients parse `event.data` as a string), run each operation in a `fanout.OperationScope`, and
let shared events go out as ready frames (see `fanout`).
"""

from __future__ import annotations

from typing import Any, cast

from cross_web import HTTPException
from graphql import GraphQLError, parse
from starlette.websockets import WebSocketDisconnect
from starlette.websockets import WebSocketDisconnected as SendAfterClose
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from tercel import fanout
from tercel.resolvers.context import Context

__all__ = ["LegacyWSHandler", "TransportWSHandler", "request_object"]


def request_object(decoded: object) -> object:
    """A decoded HTTP body must be an object (a list is a batch, refused by Strawberry)."""
    if not isinstance(decoded, dict | list):
        raise HTTPException(400, "The request body must be a JSON object with a `query`")
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
            if self.connection_acknowledged and not await self._parses(message, payload["query"]):
                return
        await super().handle_message(cast(Any, message))

    async def _parses(self, message: dict[str, Any], query: str) -> bool:
        try:
            parse(query)
        except GraphQLError as error:
            formatted = {**error.formatted, "extensions": {"code": "GRAPHQL_PARSE_FAILED"}}
            reply = {"id": message.get("id"), "type": "error", "payload": [formatted]}
            await self.send_message(cast(Any, reply))
            return False
        return True


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

    async def handle_message(self, message: Any) -> None:
        if not isinstance(message, dict) or (
            (message.get("type") == "start" and not isinstance(message.get("payload"), dict))
            or (message.get("type") in _WITH_ID and not isinstance(message.get("id"), str))
        ):
            await self.send_message({"type": "connection_error"})
            await self.websocket.close(code=1000, reason="")
            return
        await super().handle_message(cast(Any, message))
