"""The ASGI application: GraphQL over HTTP and websockets, `/health`, and the engine's lifespan.

Middlewares, outermost first: CORS (only when origins are configured), body size (413), bearer
token (401), websocket origin (403). Strawberry's `GraphQL` app serves `/graphql` for both HTTP
and websockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import orjson
import strawberry
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from tercel import fanout, flowdir, streamguard, supervision, transport, webui
from tercel.engine.runtime import pubsub
from tercel.resolvers.context import Context, Services, new_loaders
from tercel.schema import build_schema, extensions
from tercel.settings import Settings
from tercel.storage import codec, readdb

__all__ = ["Runtime", "TercelGraphQL", "create_app"]

#: on SIGTERM, running attempts get this long to finish before they are left for resubmission
SHUTDOWN_GRACE_SECONDS = 5.0


class Runtime:
    """What the lifespan starts: the services while the app runs."""

    services: Services | None = None
    ready: bool = False
    #: why the engine loop died (the process should exit with status 4), None while it runs
    engine_stopped: str | None = None
    #: set by `tercel server`: stops the process once the engine loop died
    request_exit: Callable[[], None] | None = None


class TercelGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with Tercel's context, JSON codec, time limit and websocket auth."""

    graphql_transport_ws_handler_class = transport.TransportWSHandler
    graphql_ws_handler_class = transport.LegacyWSHandler

    def __init__(self, schema: strawberry.Schema, runtime: Runtime, settings: Settings) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            keep_alive=True,
            keep_alive_interval=15,
            connection_init_wait_timeout=timedelta(seconds=settings.limits.connection_init_seconds),
            subscription_protocols=transport.PROTOCOLS,
            max_subscriptions_per_connection=20,
            allowed_origins=settings.allowed_origins,
        )
        self._runtime, self._settings = runtime, settings
        #: encoded subscription events, shared by the operations of both protocols
        self.frames = fanout.Frames()

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from the package's own build (Strawberry's page loads it from a CDN)."""
        return webui.graphiql_page(request)

    async def get_context(self, request: Any, response: Any) -> Context:
        services = self._runtime.services
        assert services is not None, "the lifespan has not started"
        # one context per connection: no loaders (docs/semantics.md#subscriptions)
        if isinstance(request, WebSocket):
            return Context(services=services, request=request, response=response)
        loaders = new_loaders(services.db)
        return Context(services=services, request=request, response=response, loaders=loaders)

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        # Errors raised before the operation hooks (a syntax error found by the parser cache)
        # miss the masking extension: give them their code here.
        for error in result.errors or ():
            if not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": extensions.code_of(error)}
        return await super().process_result(request, result)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)

    def decode_json(self, data: str | bytes) -> object:
        return codec.exact_loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        """HTTP bodies only (websocket frames are checked by the protocol handlers)."""
        return transport.request_object(super().parse_json(data))

    async def execute_operation(self, **kwargs: Any) -> Any:  # type: ignore[override]
        streams = self._get_stream_transport
        refused = transport.refuse_http_subscription(streams, **kwargs)
        if refused is not None:
            return refused
        result = await super().execute_operation(**kwargs)
        if isinstance(result, ExecutionResult | list):
            return result
        return streamguard.guarded(result)

    async def execute_single(self, **kwargs: Any) -> ExecutionResult:  # type: ignore[override]
        try:
            async with asyncio.timeout(self._settings.limits.operation_seconds):
                return await super().execute_single(**kwargs)
        except TimeoutError:
            error = GraphQLError("operation timed out", extensions={"code": "TIMEOUT"})
            return ExecutionResult(data=None, errors=[error])

    async def on_ws_connect(self, context: Context) -> None:
        token = self._settings.token
        if token is None:
            return
        given = _payload_token(context.connection_params)
        if given is None and context.request is not None:
            given = context.request.headers.get("authorization")
        if not _token_ok(token, given):
            raise ConnectionRejectionError({"message": "a valid bearer token is required"})


def _payload_token(params: Any) -> str | None:
    if not isinstance(params, Mapping):
        return None
    lowered = {str(k).lower(): v for k, v in params.items()}
    value = lowered.get("authorization", lowered.get("token"))
    return value if isinstance(value, str) else None


def _token_ok(expected: str, given: str | None) -> bool:
    if given is None:
        return False
    scheme, _, value = given.strip().partition(" ")
    candidate = value.strip() if scheme.lower() == "bearer" else given.strip()
    return hmac.compare_digest(candidate.encode(), expected.encode())


# ---------------------------------------------------------------------------------- middleware


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


class BodyLimit:
    """413 for request bodies over the limit (declared or streamed)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        messages: list[Message] = []
        size, more = 0, True
        while more:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            more = message.get("type") == "http.request" and message.get("more_body", False)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = _error_body(f"request body over {self.limit} bytes", "BAD_USER_INPUT")
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
            and _token_ok(self.token, given)
        ):
            await self.app(scope, receive, send)
            return
        body = _error_body("a valid bearer token is required", "UNAUTHENTICATED")
        headers = {"WWW-Authenticate": "Bearer"}
        await JSONResponse(body, status_code=401, headers=headers)(scope, receive, send)

    @staticmethod
    def _exempt(scope: Scope) -> bool:
        path = scope["path"]
        if path in ("/health", "/", "/ui") or path.startswith("/ui/"):
            return True
        request = Request(scope)
        query = parse_qs(scope.get("query_string", b"").decode())
        return (
            scope["method"] == "GET"
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


# ---------------------------------------------------------------------------------- the app


def create_app(settings: Settings, *, subscription: type | None = None) -> Starlette:
    """The application. `subscription` is the Subscription root type, when available."""
    from tercel.engine.runtime.scheduler import Engine

    runtime = Runtime()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = Engine(settings.db_path)
        limits = settings.limits
        pubsub.attach(engine, limits.subscription_queue, limits.subscriptions)
        await engine.start()
        reader = readdb.open_reader(settings.db_path)
        runtime.services = app.state.services = Services(settings, engine, reader)
        watch = supervision.supervise(engine, runtime)
        supervisor = asyncio.create_task(watch, name="tercel-supervisor")
        try:
            if settings.flows_dir:
                await flowdir.deploy_directory(engine, settings.flows_dir)
            runtime.ready = True
            yield
        finally:
            runtime.ready = False
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
            await engine.stop(grace=SHUTDOWN_GRACE_SECONDS)
            await reader.close()

    async def health(request: Request) -> Response:
        """See supervision.health."""
        engine = None if runtime.services is None else runtime.services.engine
        body, status = supervision.health(engine, runtime.ready)
        return JSONResponse(body, status)

    graphql = TercelGraphQL(build_schema(settings, subscription), runtime, settings)
    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/health", health, methods=["GET"]),
        *webui.routes(),
    ]
    middleware = [
        Middleware(BodyLimit, limit=settings.limits.body_bytes),
        Middleware(BearerAuth, token=settings.token),
        Middleware(WebSocketOrigin, allowed=settings.allowed_origins),
    ]
    if settings.allowed_origins:
        cors = Middleware(
            CORSMiddleware,
            allow_origins=list(settings.allowed_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Authorization"],
        )
        middleware.insert(0, cors)
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.frames = graphql.frames  # for diagnostics and tests
    app.state.runtime = runtime
    return app
