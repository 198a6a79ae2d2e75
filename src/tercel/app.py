"""The ASGI application: GraphQL over HTTP and websockets, `/health`, and the engine's lifespan.

Middlewares (`middleware.py`), outermost first: CORS (only when origins are configured), body
size (413), bearer token (401), websocket origin (403). Strawberry's `GraphQL` app serves
`/graphql` for both HTTP and websockets, with the handlers of `resolvers.live`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import orjson
import strawberry
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from tercel import filehttp, flowdir, middleware, nsfilehttp, supervision, webhooks, webui
from tercel.engine.runtime import pubsub
from tercel.engine.triggers import hub as triggerhub
from tercel.resolvers.build import build_schema, fast_path
from tercel.resolvers.live import fanout, http, legacy_ws, transport_ws
from tercel.schema import extensions
from tercel.schema.context import Context, Services, new_loaders
from tercel.settings import Settings
from tercel.storage import codec
from tercel.storage.read import connection

__all__ = ["TercelGraphQL", "create_app"]

#: on SIGTERM, running attempts get this long to finish before they are left for resubmission
SHUTDOWN_GRACE_SECONDS = 5.0


class TercelGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with Tercel's context, JSON codec, time limit and websocket auth."""

    graphql_transport_ws_handler_class = transport_ws.TransportWSHandler
    graphql_ws_handler_class = legacy_ws.LegacyWSHandler

    def __init__(
        self, schema: strawberry.Schema, runtime: supervision.Runtime, settings: Settings
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            keep_alive=True,
            keep_alive_interval=15,
            connection_init_wait_timeout=timedelta(seconds=settings.limits.connection_init_seconds),
            subscription_protocols=http.PROTOCOLS,
            max_subscriptions_per_connection=20,
            allowed_origins=settings.allowed_origins,
            # FILE inputs (docs/semantics.md#files); CSRF: BodyLimit asks for a preflight header
            multipart_uploads_enabled=True,
        )
        self._runtime, self._settings = runtime, settings
        #: validated documents skip strawberry's per-request extension machinery
        self.fast = fast_path(schema, settings)
        #: encoded subscription events, shared by the operations of both protocols
        self.frames = fanout.Frames()

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from the package's own build (Strawberry's page loads it from a CDN)."""
        return webui.graphiql_page(request)

    async def get_context(self, request: Any, response: Any) -> Context:
        services = self._runtime.services
        assert services is not None, "the lifespan has not started"
        if isinstance(
            request, WebSocket
        ):  # one context per connection: no loaders (docs/semantics.md#subscriptions)
            return Context(services=services, request=request, response=response)
        loaders = new_loaders(services.db)
        return Context(services=services, request=request, response=response, loaders=loaders)

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        # Errors raised before the operation hooks (a syntax error found by the parser cache)
        # miss the masking extension: give them their code (or mask them) here.
        if result.errors:
            result.errors = [
                error if (error.extensions or {}).get("code") else extensions.answered(error)
                for error in result.errors
            ]
        return await super().process_result(request, result)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)

    def decode_json(self, data: str | bytes) -> object:
        return codec.exact_loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        """HTTP bodies only (websocket frames are checked by the protocol handlers)."""
        return http.request_object(super().parse_json(data))

    async def run(
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Any:
        """Every request's uploaded files are closed once it is answered, used or not (a
        multipart request refused before any resolver, a file no resolver took)."""
        try:
            return await super().run(request, context, root_value)
        finally:
            if isinstance(request, Request):
                await request.close()

    async def parse_multipart(self, request: Any) -> dict[str, str]:
        """A multipart request (FILE inputs, docs/semantics.md#files) whose `map` is not an
        object of file keys to lists of variable paths is a 400, not a crash."""
        try:
            return await super().parse_multipart(request)
        except (AttributeError, TypeError, IndexError, ValueError) as error:
            raise HTTPException(400, http.BAD_FILE_MAP) from error
        except HTTPException as error:
            if error.status_code != 400 or "missing in form data" not in error.reason:
                raise
            form = await request.get_form_data()  # read already: Starlette keeps it
            file_map = self.parse_json(form.form.get("map", "{}"))
            parts = [key for key, value in form.files.items() if not isinstance(value, str)]
            raise HTTPException(400, http.file_map_problem(file_map, parts)) from error

    async def execute_operation(self, **kwargs: Any) -> Any:  # type: ignore[override]
        streams = self._get_stream_transport
        refused = http.refuse_http_subscription(streams, **kwargs)
        if refused is not None:
            return refused
        result = await super().execute_operation(**kwargs)
        if isinstance(result, ExecutionResult | list):
            return result
        return http.guarded(result)

    async def execute_single(self, **kwargs: Any) -> ExecutionResult:  # type: ignore[override]
        try:
            async with asyncio.timeout(self._settings.limits.operation_seconds):
                answered = await self._fast_answer(**kwargs)
                if answered is not None:
                    return answered
                return await super().execute_single(**kwargs)
        except TimeoutError:
            error = GraphQLError("operation timed out", extensions={"code": "TIMEOUT"})
            return ExecutionResult(data=None, errors=[error])

    async def _fast_answer(self, **kwargs: Any) -> ExecutionResult | None:
        """The answer of `schema.fastpath`, or None: `Schema.execute` answers."""
        data, method = kwargs["request_data"], kwargs["request_adapter"].method
        allowed = OperationType.from_http(method)
        if not self.allow_queries_via_get and method == "GET":
            allowed = allowed - {OperationType.QUERY}
        return await self.fast.execute(
            data.query,
            variables=data.variables,
            context_value=kwargs["context"],
            root_value=kwargs["root_value"],
            operation_name=data.operation_name,
            allowed=allowed,
            operation_extensions=data.extensions,
        )

    async def on_ws_connect(self, context: Context) -> None:
        token = self._settings.token
        if token is None:
            return
        given = middleware.payload_token(context.connection_params)
        if given is None and context.request is not None:
            given = context.request.headers.get("authorization")
        if not middleware.token_ok(token, given):
            raise ConnectionRejectionError({"message": "a valid bearer token is required"})


# ---------------------------------------------------------------------------------- the app


def create_app(settings: Settings, *, subscription: type | None = None) -> Starlette:
    """The application. `subscription` is the Subscription root type, when available."""
    from tercel.engine.runtime.scheduler import Engine

    runtime = supervision.Runtime()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = Engine(settings.db_path, files_dir=settings.files_dir)
        limits = settings.limits
        pubsub.attach(engine, limits.subscription_queue, limits.subscriptions)
        await engine.start()
        reader = connection.open_reader(settings.db_path)
        runtime.services = app.state.services = Services(settings, engine, reader)
        watch = supervision.supervise(engine, runtime)
        supervisor = asyncio.create_task(watch, name="tercel-supervisor")
        triggers = triggerhub.TriggerHub(engine)
        try:
            if settings.flows_dir:
                await flowdir.deploy_directory(engine, settings.flows_dir)
            await triggers.start()
            runtime.ready = True
            yield
        finally:
            runtime.ready = False
            await triggers.stop()
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
            await engine.stop(grace=SHUTDOWN_GRACE_SECONDS)
            await reader.close()

    async def health(request: Request) -> Response:
        """See supervision.health."""
        body, status = supervision.health(runtime.engine(), runtime.ready)
        return JSONResponse(body, status)

    graphql = TercelGraphQL(build_schema(settings, subscription), runtime, settings)
    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/health", health, methods=["GET"]),
        *webhooks.routes(runtime.engine),
        *filehttp.routes(runtime.engine),
        *nsfilehttp.routes(runtime.engine),
        *webui.routes(),
    ]
    layers = [
        Middleware(
            middleware.BodyLimit,
            limit=settings.limits.body_bytes,
            upload_limit=settings.limits.upload_bytes,
        ),
        Middleware(middleware.BearerAuth, token=settings.token),
        Middleware(middleware.WebSocketOrigin, allowed=settings.allowed_origins),
    ]
    if settings.allowed_origins:
        cors = Middleware(
            CORSMiddleware,
            allow_origins=list(settings.allowed_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=[
                "Content-Type",
                "Authorization",
                "Apollo-Require-Preflight",
                "X-Apollo-Operation-Name",
            ],
        )
        layers.insert(0, cors)
    app = Starlette(routes=routes, middleware=layers, lifespan=lifespan)
    app.state.frames = graphql.frames  # for diagnostics and tests
    app.state.fast_path = graphql.fast
    app.state.runtime = runtime
    return app
