"""The legacy `graphql-ws` handler: Strawberry's, hardened, with each operation in its scope.

- A frame that is not JSON (or nests too deep) gets a `connection_error` naming the problem
  instead of being dropped without a word; a JSON value that is not an object gets one too,
  and the connection closes.
- An unknown message type, an operation `id` that is not a string, a `start` without a payload
  object, with a malformed payload, a document that does not parse or names no operation, or
  an operation that is not a subscription (this protocol serves subscriptions only) gets an
  `error` naming the problem (`BAD_REQUEST`, or `GRAPHQL_PARSE_FAILED` with its location), and
  the connection serves on.
- Every message is one text frame; an operation's `data` messages go through its `fanout`
  scope, so shared events go out as ready frames.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import suppress
from typing import cast

from graphql import GraphQLFormattedError, OperationType
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionErrorMessage,
    ErrorMessage,
    OperationMessage,
)

from tercel.resolvers.live import fanout, http, messages
from tercel.schema.context import Context

__all__ = ["LegacyWSHandler"]

#: the client messages of the legacy protocol
_LEGACY_TYPES = ("connection_init", "connection_terminate", "start", "stop")


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        scope = messages.open_scope(
            self.view, self.websocket, "data", operation_id, query, operation_name, variables
        )
        try:
            await super().handle_async_results(operation_id, query, operation_name, variables)
        finally:
            scope.close()

    async def send_message(self, message: OperationMessage) -> None:
        socket = messages.starlette_socket(self.websocket)
        try:
            await messages.send_text(socket, messages.text_of(message, "data"))
        except WebSocketDisconnected:
            if message["type"] != "complete":  # the `complete` of a cancelled operation
                raise  # goes nowhere once the client is gone

    async def handle(self) -> None:
        """Strawberry's loop, except that a frame that is not JSON (or nests too deep) gets a
        `connection_error` naming the problem instead of being dropped without a word."""
        socket = messages.starlette_socket(self.websocket)
        try:
            async for text in _frames(socket):
                try:
                    message = self.view.decode_json(text)
                except (ValueError, RecursionError) as error:
                    problem = f"The frame is not a JSON message: {str(error)[:200]}"
                    await self._connection_error(messages.bad(problem))
                    continue
                await self.handle_message(cast(OperationMessage, message))
        except KeyError:  # a binary frame, as Strawberry closes for it
            await socket.close(code=1002, reason="WebSocket message type must be text")
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

    async def handle_message(self, message: OperationMessage) -> None:
        raw: object = message  # any decoded JSON value, whatever the annotation says
        if not isinstance(raw, dict):
            await self._connection_error(messages.bad("The frame must be a JSON object"))
            await self.websocket.close(code=1000, reason="")
            return
        problem = _problem(raw)
        if problem is not None:
            await self._error(problem, raw.get("id"))
            return
        await super().handle_message(message)

    async def _connection_error(self, problem: GraphQLFormattedError) -> None:
        reply: ConnectionErrorMessage = {"type": "connection_error", "payload": dict(problem)}
        await self.send_message(reply)

    async def _error(self, problem: GraphQLFormattedError, operation_id: object) -> None:
        """An `error` for the operation, or for the connection when the message names no
        operation it could be sent to (no string `id`)."""
        if isinstance(operation_id, str):
            reply: ErrorMessage = {"type": "error", "id": operation_id, "payload": problem}
            await self.send_message(reply)
            return
        socket = messages.starlette_socket(self.websocket)
        await messages.send_text(socket, fanout.json_text({"type": "error", "payload": problem}))


def _problem(message: dict[str, object]) -> GraphQLFormattedError | None:
    """The error a client message gets instead of being handled, or None when it is fine."""
    kind = message.get("type")
    if kind not in _LEGACY_TYPES:
        unknown = f"Unknown message type {fanout.json_text(kind)[:100]}"
        return messages.bad(
            unknown + ": the legacy `graphql-ws` protocol knows " + ", ".join(_LEGACY_TYPES)
        )
    if kind in messages.WITH_ID and not isinstance(message.get("id"), str):
        # the operation cannot be named in an answer: the error names `id` instead
        return messages.bad(f"Invalid {kind} message: `id` must be a string")
    if kind != "start":
        return None
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return messages.bad("Invalid start message: `payload` must be an object")
    return _start_problem(payload)


def _start_problem(payload: dict[str, object]) -> GraphQLFormattedError | None:
    """The formatted error of a `start` that cannot run: a malformed payload, a document that
    does not parse or has no such operation, or an operation that is not a subscription."""
    error = messages.operation_problem(payload, "start")
    if error is not None:
        return error
    kind = http.operation_type(cast(str, payload["query"]), payload.get("operationName"))
    if kind is not None and kind != OperationType.SUBSCRIPTION:
        return messages.bad(
            f"The legacy `graphql-ws` protocol serves subscriptions only, not a {kind.value}: "
            "send queries and mutations over HTTP or with `graphql-transport-ws`"
        )
    return None


async def _frames(socket: WebSocket) -> AsyncIterator[str]:
    """The text frames a client sends until it goes (a binary frame raises KeyError)."""
    while socket.application_state != WebSocketState.DISCONNECTED:
        try:
            yield await socket.receive_text()
        except WebSocketDisconnect:
            return
