"""The `graphql-transport-ws` handler: Strawberry's, hardened, with each operation in its scope.

- A frame that is not a JSON object closes with 4400 instead of killing the handler; so does an
  operation message whose `id` is not a string, or a subscribe without a query.
- A subscribe whose payload is malformed, whose document does not parse or names no operation
  by `operationName` gets an `error` message (with `GRAPHQL_PARSE_FAILED` or `BAD_REQUEST`), as
  the protocol wants, instead of a bare `complete` (`messages.operation_problem`).
- Every message is one text frame; an operation's `next` messages go through its `fanout`
  scope, so shared events go out as ready frames.
"""

from __future__ import annotations

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ErrorMessage, Message

from tercel.resolvers.live import messages
from tercel.schema.context import Context

__all__ = ["TransportWSHandler"]


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def run_operation(self, operation: Operation[Context, None]) -> None:
        scope = messages.open_scope(
            self.view, self.websocket, "next", operation.id, operation.query,
            operation.operation_name, operation.variables,
        )  # fmt: skip
        try:
            await super().run_operation(operation)
        finally:
            scope.close()

    async def send_message(self, message: Message) -> None:
        socket = messages.starlette_socket(self.websocket)
        await messages.send_text(socket, messages.text_of(message, "next"))

    async def handle_message(self, message: Message) -> None:
        raw: object = message  # any decoded JSON value, whatever the annotation says
        if not isinstance(raw, dict):
            await self.handle_invalid_message("Failed to parse message: expected a JSON object")
            return
        operation_id = raw.get("id")
        if raw.get("type") in messages.WITH_ID and not isinstance(operation_id, str):
            await self.handle_invalid_message("Invalid message: `id` must be a string")
            return
        if raw.get("type") == "subscribe":
            payload = raw.get("payload")
            if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
                await self.handle_invalid_message("Invalid subscribe message: no query")
                return
            if self.connection_acknowledged and not await self._acceptable(
                str(operation_id), payload
            ):
                return
        await super().handle_message(message)

    async def _acceptable(self, operation_id: str, payload: dict[str, object]) -> bool:
        """Send the operation an `error` (and return False) when its payload is malformed, its
        document does not parse or has no operation to run by `operationName`."""
        formatted = messages.operation_problem(payload, "subscribe")
        if formatted is None:
            return True
        reply: ErrorMessage = {"id": operation_id, "type": "error", "payload": [formatted]}
        await self.send_message(reply)
        return False
