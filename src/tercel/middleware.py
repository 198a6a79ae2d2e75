"""The ASGI middlewares of the application, outermost first after CORS: request body size
(413), bearer token (401), websocket origin (403); and the token checks the websocket
`connection_init` shares with them (docs/semantics.md#api-limits)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tercel import webhooks

__all__ = ["BearerAuth", "BodyLimit", "WebSocketOrigin", "payload_token", "token_ok"]


def payload_token(params: Any) -> str | None:
    """The token of a websocket `connection_init` payload (`authorization` or `token`, in any
    case), if any."""
    if not isinstance(params, Mapping):
        return None
    lowered = {str(k).lower(): v for k, v in params.items()}
    value = lowered.get("authorization", lowered.get("token"))
    return value if isinstance(value, str) else None


def token_ok(expected: str, given: str | None) -> bool:
    """`given` (`Bearer <token>` or the bare token) is the token, compared in constant time."""
    if given is None:
        return False
    scheme, _, value = given.strip().partition(" ")
    candidate = value.strip() if scheme.lower() == "bearer" else given.strip()
    return hmac.compare_digest(candidate.encode(), expected.encode())


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


#: the headers a multipart request must carry one of (non-empty), as Apollo asks: a browser
#: cannot send them cross-site without a CORS preflight, so a plain HTML form (CSRF) cannot
#: start an execution with files or upload a namespace file; `Authorization` (the API token)
#: is one of them, so Kestra's clients upload as they do to Kestra
PREFLIGHT_HEADERS = (b"apollo-require-preflight", b"x-apollo-operation-name", b"authorization")


def _is_multipart(scope: Scope) -> bool:
    content_type: bytes = dict(scope["headers"]).get(b"content-type", b"")
    return content_type.split(b";")[0].strip().lower() == b"multipart/form-data"


def _has_preflight_header(scope: Scope) -> bool:
    headers: dict[bytes, bytes] = dict(scope["headers"])
    return any(headers.get(name, b"").strip() for name in PREFLIGHT_HEADERS)


class BodyLimit:
    """413 for request bodies over the limit (declared or streamed); multipart requests (file
    uploads) have a limit of their own and must carry a preflight header (400 otherwise)."""

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int | None = None) -> None:
        self.app, self.limit = app, limit
        self.upload_limit = limit if upload_limit is None else upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        if _is_multipart(scope):
            limit = self.upload_limit
            if not _has_preflight_header(scope):
                why = (
                    "a multipart request must carry a non-empty `Apollo-Require-Preflight` "
                    "(or `X-Apollo-Operation-Name`, or `Authorization`) header"
                )
                body = _error_body(why, "BAD_REQUEST")
                await JSONResponse(body, status_code=400)(scope, receive, send)
                return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        messages: list[Message] = []
        size, more = 0, True
        while more:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            more = message.get("type") == "http.request" and message.get("more_body", False)
            if size > limit:
                await self._refuse(scope, receive, send, limit)
                return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        body = _error_body(f"request body over {limit} bytes", "BAD_USER_INPUT")
        await JSONResponse(body, status_code=413)(scope, receive, send)


class BearerAuth:
    """401 + `WWW-Authenticate: Bearer` unless the request carries the token. The GraphiQL page
    (GET, text/html, no query), `/health` and the UI's page shell and static files (`/`,
    `/ui/...`: they hold no data) are served without it; websockets check it in
    `connection_init` (`TercelGraphQL.on_ws_connect`)."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.token is None or scope["type"] != "http" or self._exempt(scope):
            await self.app(scope, receive, send)
            return
        given = Request(scope).headers.get("authorization")
        if (
            given is not None
            and given.lower().startswith("bearer ")
            and token_ok(self.token, given)
        ):
            await self.app(scope, receive, send)
            return
        body = _error_body("a valid bearer token is required", "UNAUTHENTICATED")
        headers = {"WWW-Authenticate": "Bearer"}
        await JSONResponse(body, status_code=401, headers=headers)(scope, receive, send)

    @staticmethod
    def _exempt(scope: Scope) -> bool:
        path = scope["path"]
        if path in ("/health", "/", "/ui") or path.startswith(("/ui/", webhooks.PATH_PREFIX)):
            return True  # a webhook's key is its secret, as in Kestra
        request = Request(scope)
        query = parse_qs(scope.get("query_string", b"").decode())
        return (  # GraphiQL's page, asked for by a browser; nothing else is open
            scope["method"] == "GET"
            and path == "/graphql"
            and "text/html" in request.headers.get("accept", "")
            and "query" not in query
        )


class WebSocketOrigin:
    """Refuse (HTTP 403) a websocket handshake from a foreign origin (`CORSMiddleware` does not
    cover websockets). No `Origin` header (non-browser clients) is allowed."""

    def __init__(self, app: ASGIApp, allowed: tuple[str, ...]) -> None:
        self.app, self.allowed = app, frozenset(o.lower() for o in allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            origin = headers.get("origin")
            if origin is not None and not self._allowed(origin.rstrip("/").lower(), scope, headers):
                await send({"type": "websocket.close", "code": 1008, "reason": "origin refused"})
                return
        await self.app(scope, receive, send)

    def _allowed(self, origin: str, scope: Scope, headers: dict[str, str]) -> bool:
        if origin in self.allowed or "*" in self.allowed:
            return True
        scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
        return origin == f"{scheme}://{headers.get('host', '').lower()}"
