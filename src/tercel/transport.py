"""Hardening of Strawberry's transports: malformed input gets a clear 4xx or close code.

- HTTP: a JSON body that is not an object (or a list, refused later as a batch) is a 400.
- graphql-transport-ws: a frame that is not a JSON object closes with 4400 instead of killing
  the handler; a subscribe whose document does not parse gets an `error` message (with
  `GRAPHQL_PARSE_FAILED`), as the protocol wants, instead of a bare `complete`.
- graphql-ws (legacy): a frame that is not an object, or a `start` without a payload object,
  gets a `connection_error`.
"""

from __future__ import annotations

from typing import Any, cast

from cross_web import HTTPException
from graphql import GraphQLError, parse
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from tercel.resolvers.context import Context

__all__ = ["LegacyWSHandler", "TransportWSHandler", "request_object"]


def request_object(decoded: object) -> object:
    """A decoded HTTP body must be an object (a list is a batch, refused by Strawberry)."""
    if not isinstance(decoded, dict | list):
        raise HTTPException(400, "The request body must be a JSON object with a `query`")
    return decoded


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle_message(self, message: Any) -> None:
        if not isinstance(message, dict):
            await self.handle_invalid_message("Failed to parse message: expected a JSON object")
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
    async def handle_message(self, message: Any) -> None:
        if not isinstance(message, dict) or (
            message.get("type") == "start" and not isinstance(message.get("payload"), dict)
        ):
            await self.send_message({"type": "connection_error"})
            await self.websocket.close(code=1000, reason="")
            return
        await super().handle_message(cast(Any, message))
