"""An execution's files over HTTP, at Kestra's path (docs/semantics.md#files).

`GET /api/v1/executions/{id}/file?path=kestra:///...` answers the file's bytes as an
attachment, `.../file/preview?path=...&maxRows=100` its first rows (`filepreview`), both under
the API token like the rest of the API (`middleware.BearerAuth`). Only what
the execution itself may read is served (its own files and its FILE inputs); an unknown
execution, a missing file, a path of another execution or a malformed path all answer 404 with
the reason, and never open anything outside the internal storage (`storage/files.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, BinaryIO
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tercel import filepreview
from tercel.engine import faults, filereach, files, service

__all__ = ["error_response", "file_chunks", "routes"]

_CHUNK = 256 * 1024


def routes(engine_of: Callable[[], Any]) -> list[Route]:
    """The download and preview routes; `engine_of()` gives the running engine (None before
    the lifespan)."""

    async def download(request: Request) -> Response:
        opened = await _open(engine_of(), request)
        if isinstance(opened, Response):
            return opened
        handle, name = opened
        disposition = f"attachment; filename*=UTF-8''{quote(name, safe='')}"
        return StreamingResponse(
            file_chunks(handle),
            media_type="application/octet-stream",
            headers={"Content-Disposition": disposition},
        )

    async def show(request: Request) -> Response:
        rows = _max_rows(request.query_params.get("maxRows"))
        if rows is None:
            return error_response(
                400, f"`maxRows` must be an integer from 1 to {filepreview.MAX_ROWS}"
            )
        opened = await _open(engine_of(), request)
        if isinstance(opened, Response):
            return opened
        handle, name = opened
        try:
            with handle:
                answer = await asyncio.to_thread(filepreview.preview, handle, name, rows)
        except ValueError as error:
            return error_response(422, str(error))
        return JSONResponse(answer)

    base = "/api/v1/executions/{id}/file"
    return [
        Route(base, download, methods=["GET"]),
        Route(base + "/preview", show, methods=["GET"]),
    ]


async def _open(engine: Any, request: Request) -> tuple[BinaryIO, str] | Response:
    """The file `path` of the execution `id`, open, and its name; or the error response."""
    if engine is None:
        return error_response(503, "the server is starting", "UNAVAILABLE")
    execution_id = request.path_params["id"]
    uri = request.query_params.get("path")
    if not uri:
        return error_response(400, "the query parameter `path` (a kestra:/// URI) is required")
    try:
        ex = await service.get_execution(engine, execution_id)
    except faults.EngineUnavailable as error:
        return error_response(503, str(error), "UNAVAILABLE")
    if ex is None:
        return error_response(404, f"execution `{execution_id}` not found", "NOT_FOUND")
    flow = await engine.flow(ex.namespace, ex.flow_id, ex.flow_revision)
    defs = flow.inputs if flow is not None else ()
    try:
        handle = await asyncio.to_thread(filereach.open_of_execution, engine.files, ex, defs, uri)
    except (files.FileRefused, files.FileMissing) as error:
        return error_response(404, str(error), "NOT_FOUND")
    return handle, files.segments(uri)[-1]


def _max_rows(given: str | None) -> int | None:
    if given is None:
        return 100
    if not given.isdigit() or not 1 <= int(given) <= filepreview.MAX_ROWS:
        return None
    return int(given)


async def file_chunks(handle: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(handle.read, _CHUNK):
            yield chunk
    finally:
        handle.close()


def error_response(status: int, message: str, code: str = "BAD_USER_INPUT") -> JSONResponse:
    return JSONResponse({"message": message, "code": code}, status_code=status)
