"""Namespace files over HTTP, at Kestra's paths (docs/semantics.md#namespace-files).

Under the API token like the rest of the API (`middleware.BearerAuth`):

- `POST /api/v1/namespaces/{namespace}/files?path=/x.txt`, multipart with the part
  `fileContent`: store (or replace) the file, durably; a multipart request carries the token or
  a preflight header (`middleware.BodyLimit`), so a plain HTML form cannot post one;
- `GET /api/v1/namespaces/{namespace}/files?path=/x.txt`: its bytes;
- `GET /api/v1/namespaces/{namespace}/files/directory?path=/folder`: the folder's entries as
  Kestra's FileAttributes (`fileName`, `type` File or Directory, `size`, `lastModifiedTime`,
  `creationTime`, `metadata`); the namespace's root when `path` is absent (empty before any
  upload);
- `DELETE /api/v1/namespaces/{namespace}/files?path=/x.txt`: remove a file or a folder, and
  the parent folders it leaves empty, as Kestra does.

Paths go through `engine.namespacefiles` (no `..`, `.`, empty parts or NUL) and the storage
opens every folder without following links (`storage/files.py`). Kestra's `_flows` folder
(flows as files) is not a namespace-file folder here: refused with 400.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tercel.engine import files, namespacefiles
from tercel.filehttp import error_response, file_chunks

__all__ = ["routes"]

_FLOWS_FOLDER = "_flows"


def routes(engine_of: Callable[[], Any]) -> list[Route]:
    """The namespace-file routes; `engine_of()` gives the running engine (None before the
    lifespan)."""

    async def download(request: Request) -> Response:
        storage, namespace, path = _target(engine_of(), request)
        uri = namespacefiles.file_uri(namespace, path or "")
        scope = namespacefiles.namespace_scope(namespace)
        handle = await asyncio.to_thread(storage.open, uri, scope)
        return StreamingResponse(file_chunks(handle), media_type="application/octet-stream")

    async def upload(request: Request) -> Response:
        storage, namespace, path = _target(engine_of(), request)
        uri = namespacefiles.file_uri(namespace, path or "")
        form = await request.form(max_files=1, max_fields=10)
        try:
            part = form.get("fileContent")
            if not isinstance(part, UploadFile):
                message = "the multipart part `fileContent` (the file) is required"
                return error_response(400, message)
            await asyncio.to_thread(_put_durably, storage, uri, part.file)
        finally:
            await form.close()
        return Response(status_code=200)

    async def listing(request: Request) -> Response:
        storage, namespace, path = _target(engine_of(), request)
        folder = namespacefiles.folder_parts(namespace, path)
        try:
            entries = await asyncio.to_thread(storage.listing, folder)
        except files.FileMissing:
            if len(folder) > len(namespacefiles.namespace_scope(namespace)):
                raise
            entries = []  # the namespace's root before its first file, as Kestra answers
        return JSONResponse([_attributes(entry) for entry in entries])

    async def delete(request: Request) -> Response:
        storage, namespace, path = _target(engine_of(), request)
        scope = namespacefiles.namespace_scope(namespace)
        parts = files.segments(namespacefiles.file_uri(namespace, path or ""))
        await asyncio.to_thread(storage.remove, parts, scope)
        return Response(status_code=200)

    base = "/api/v1/namespaces/{namespace}/files"
    return [
        Route(base, _answering(download), methods=["GET"]),
        Route(base, _answering(upload), methods=["POST"]),
        Route(base, _answering(delete), methods=["DELETE"]),
        Route(base + "/directory", _answering(listing), methods=["GET"]),
    ]


def _put_durably(storage: files.FileStorage, uri: str, source: Any) -> None:
    """Store the file and sync it before answering: the engine's writer syncs files only at
    its next commit, and a namespace file is referred to by no commit (an idle server would
    leave an answered upload in the page cache)."""
    storage.put(uri, source)
    storage.sync()


class _Unavailable(Exception):
    pass


def _target(engine: Any, request: Request) -> tuple[files.FileStorage, str, str | None]:
    """The storage, the namespace and the `path` query parameter of a request."""
    if engine is None:
        raise _Unavailable("the server is starting")
    path = request.query_params.get("path")
    if path is not None and path.lstrip("/").split("/")[0] == _FLOWS_FOLDER:
        raise files.FileRefused(
            f"`{files.shown(path)}`: the `{_FLOWS_FOLDER}` folder holds Kestra's flows as "
            "files, which Tercel does not keep there (deploy flows with `deployFlow`)"
        )
    storage: files.FileStorage = engine.files
    return storage, request.path_params["namespace"], path


def _answering(
    handler: Callable[[Request], Any],
) -> Callable[[Request], Any]:
    """`handler` with its refusals answered: 400 for a bad namespace or path, 404 for a
    missing file, 409 for a file where a folder is (or the reverse), 503 for a storage that
    cannot be written."""

    async def answer(request: Request) -> Response:
        try:
            response: Response = await handler(request)
        except _Unavailable as error:
            return error_response(503, str(error), "UNAVAILABLE")
        except files.FileMissing as error:
            return error_response(404, str(error), "NOT_FOUND")
        except files.FileRefused as error:
            return error_response(400, str(error))
        except (IsADirectoryError, NotADirectoryError, FileExistsError) as error:
            message = f"a folder or a file is in the way: {error.strerror}"
            return error_response(409, message, "CONFLICT")
        except OSError as error:
            message = f"the internal storage cannot be written: {error.strerror}"
            return error_response(503, message, "UNAVAILABLE")
        return response

    return answer


def _attributes(entry: files.Entry) -> dict[str, Any]:
    """Kestra's FileAttributes of one entry."""
    return {
        "fileName": entry.name,
        "type": "Directory" if entry.folder else "File",
        "size": entry.size,
        "lastModifiedTime": entry.modified,
        "creationTime": entry.created,
        "metadata": {},
    }
