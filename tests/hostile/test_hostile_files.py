"""Hostile file names and paths against the real server (#15; docs/semantics.md#files): a name
longer than a file system allows or a path deeper than the limit, on every route that takes
one, gets a clear 4xx naming it or is shortened (a client's upload name), never a 5xx, a reset
connection or a stalled engine."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
from tests.crash.server import TercelServer, upload_input
from tests.hostile.test_hostile_input import assert_serving

from tercel.engine import files

NS = "hostile.files"
FLOW = f"""\
id: upload
namespace: {NS}
inputs:
  - id: data
    type: FILE
tasks:
  - id: show
    type: io.kestra.plugin.core.debug.Return
    format: "{{{{ read(inputs.data) }}}}"
"""
CREATE = """mutation($files: [FileInput!]) {
  createExecution(namespace: "hostile.files", flowId: "upload", files: $files) {
    __typename ... on Execution { id inputs } ... on Error { message } } }"""
PREFLIGHT = {"Apollo-Require-Preflight": "true"}
LONG = "y" * 300


def _upload(server: TercelServer, filename: str, content: bytes) -> dict[str, Any]:
    response = upload_input(server, CREATE, filename, content)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    created: dict[str, Any] = body["data"]["createExecution"]
    return created


def _nsfiles(server: TercelServer) -> str:
    return f"{server.url}/api/v1/namespaces/{NS}/files"


def test_an_upload_with_a_file_name_too_long_for_the_disk_is_stored_shortened(
    server: TercelServer,
) -> None:
    assert server.deploy(FLOW)["__typename"] == "Flow"
    created = _upload(server, LONG + ".csv", b"a,b\n")
    assert created["__typename"] == "Execution", created  # was INTERNAL_SERVER_ERROR, "try again"
    uri = created["inputs"]["data"]
    assert uri.endswith("/inputs/data/" + "y" * 251 + ".csv"), uri
    assert server.wait_terminal(created["id"]) == "SUCCESS"
    answer = server.client.get(
        f"{server.url}/api/v1/executions/{created['id']}/file", params={"path": uri}
    )
    assert answer.status_code == 200 and answer.content == b"a,b\n"
    assert_serving(server)


def test_a_download_of_a_name_too_long_is_a_404_naming_it(server: TercelServer) -> None:
    assert server.deploy(FLOW)["__typename"] == "Flow"
    created = _upload(server, "rows.csv", b"a\n")
    base = created["inputs"]["data"].rsplit("/", 1)[0]
    for route in ("file", "file/preview"):
        try:
            answer = server.client.get(
                f"{server.url}/api/v1/executions/{created['id']}/{route}",
                params={"path": f"{base}/{LONG}"},
            )
        except httpx.HTTPError as error:  # was: the connection reset, a 500 in the log
            raise AssertionError(f"{route}: {error!r}") from None
        assert answer.status_code == 404, (route, answer.status_code, answer.text[:300])
        assert "longer than 255 bytes" in answer.json()["message"]
    assert_serving(server)


def test_namespace_file_paths_too_long_or_too_deep_are_400s(server: TercelServer) -> None:
    deep = "/" + "d/" * 150 + "x.txt"
    for path, words in ((f"/{LONG}", "longer than 255 bytes"), (deep, "more than 100")):
        put = server.client.post(
            _nsfiles(server),
            params={"path": path},
            files={"fileContent": ("x", b"x")},
            headers=PREFLIGHT,
        )
        got = server.client.get(_nsfiles(server), params={"path": path})
        listed = server.client.get(_nsfiles(server) + "/directory", params={"path": path})
        deleted = server.client.delete(_nsfiles(server), params={"path": path})
        for answer in (put, got, listed, deleted):  # were 503 `File name too long`
            assert answer.status_code == 400, (path[:40], answer.status_code, answer.text[:300])
            assert words in answer.json()["message"], answer.text[:300]
    assert_serving(server)


def test_a_fifo_placed_in_the_storage_folder_is_refused_not_waited_on(
    server: TercelServer,
) -> None:
    """Opening a FIFO for reading waits for a writer: each download of one held a thread of
    the server's pool for good, and 40 of them stalled every later download and upload."""
    assert server.deploy(FLOW)["__typename"] == "Flow"
    created = _upload(server, "rows.csv", b"a\n")
    uri = created["inputs"]["data"]
    folder = Path(str(server.db_path) + ".files").joinpath(*files.segments(uri)[:-1])
    os.mkfifo(folder / "fifo")
    fifo = uri.rsplit("/", 1)[0] + "/fifo"
    for route in ("file", "file/preview"):
        answer = server.client.get(
            f"{server.url}/api/v1/executions/{created['id']}/{route}",
            params={"path": fifo},
            timeout=5,  # was: no answer
        )
        assert answer.status_code == 404, (route, answer.status_code, answer.text[:300])
        assert "is not a file" in answer.json()["message"]
    assert_serving(server)
