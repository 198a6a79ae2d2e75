"""Webhook triggers over HTTP, at Kestra's path (docs/semantics.md#webhook).

`POST|GET|PUT /api/v1/executions/webhook/{namespace}/{flowId}/{key}` starts the flow whose
Webhook trigger has that key and answers 200 with `{id, namespace, flowId, state}`. The route is
open without the API token, as in Kestra: the key is the secret (compared in constant time by
`engine.actions.triggering.webhook`). Unknown flow or key, a disabled flow or trigger: 404. The
body is bounded by the application's `BodyLimit` (413 over the limit). `trigger.body` is the
parsed JSON when the content type says JSON, else the text (None when empty);
`trigger.headers` and `trigger.parameters` map each name to its list of values, as Kestra's do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tercel.engine import faults, model, service, storable
from tercel.engine.triggers import operations as triggering
from tercel.storage import codec

__all__ = ["PATH_PREFIX", "routes"]

PATH_PREFIX = "/api/v1/executions/webhook/"


class _BadBody(Exception):
    pass


def routes(engine_of: Callable[[], Any]) -> list[Route]:
    """The webhook route; `engine_of()` gives the running engine (None before the lifespan)."""

    async def webhook(request: Request) -> Response:
        engine = engine_of()
        if engine is None:
            return _error(503, "the server is starting", "UNAVAILABLE")
        try:
            call = triggering.WebhookCall(
                body=_body(await request.body(), request.headers.get("content-type", "")),
                headers=_multi(request.headers.items()),
                parameters=_multi(request.query_params.multi_items()),
            )
        except _BadBody as error:
            return _error(400, str(error), "BAD_USER_INPUT")
        params = request.path_params
        try:
            outcome = await triggering.webhook(
                engine, params["namespace"], params["flowId"], params["key"], call
            )
        except faults.EngineUnavailable as error:
            return _error(503, str(error), "UNAVAILABLE")
        if isinstance(outcome, model.Execution):
            return JSONResponse(
                {
                    "id": outcome.id,
                    "namespace": outcome.namespace,
                    "flowId": outcome.flow_id,
                    "state": outcome.state.current.value,
                }
            )
        if isinstance(outcome, service.NotFound):
            return _error(404, "Webhook not found", "NOT_FOUND")
        return _error(400, outcome.message, "BAD_USER_INPUT")

    path = PATH_PREFIX + "{namespace}/{flowId}/{key}"
    return [Route(path, webhook, methods=["GET", "POST", "PUT"])]


def _body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    media = content_type.split(";", 1)[0].strip().lower()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _BadBody(f"the body is not UTF-8 text (byte {error.start})") from error
    if media == "application/json" or media.endswith("+json"):
        try:
            value = codec.exact_loads(raw)
        except ValueError as error:
            raise _BadBody(f"the body is not valid JSON: {error}") from error
    else:
        value = text
    refused = storable.first_unstorable(value, "body")
    if refused is not None:
        raise _BadBody(f"`{refused[0]}` {refused[1]}")
    return value


def _multi(items: list[tuple[str, str]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in items:
        found.setdefault(name, []).append(value)
    return found


def _error(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse({"message": message, "code": code}, status_code=status)
