"""Namespace files at Kestra's paths (NamespaceFileControllerTest's file, list,
listWithoutPreCreation, createFile and delete), their path tricks, the token, and `read()` of
a namespace file by a running flow, over a real server (docs/semantics.md#namespace-files)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.api.conftest import Server
from tests.unit.storage.flushes import Flushes

PREFLIGHT = {"Apollo-Require-Preflight": "true"}


def _base(server: Server, namespace: str) -> str:
    return f"{server.url}/api/v1/namespaces/{namespace}/files"


def _put(
    server: Server,
    namespace: str,
    path: str,
    content: bytes,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return server.client.post(
        _base(server, namespace),
        params={"path": path},
        files={"fileContent": ("x.bin", content, "application/octet-stream")},
        headers=PREFLIGHT if headers is None else headers,
    )


def _get(server: Server, namespace: str, path: str, **headers: str) -> httpx.Response:
    return server.client.get(_base(server, namespace), params={"path": path}, headers=headers)


def _list(server: Server, namespace: str, path: str | None = None) -> Any:
    params = {} if path is None else {"path": path}
    response = server.client.get(_base(server, namespace) + "/directory", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _delete(server: Server, namespace: str, path: str) -> httpx.Response:
    return server.client.delete(_base(server, namespace), params={"path": path})


def _root(server: Server) -> Path:
    return Path(server.app.state.services.engine.files.root)


def test_create_then_get_list_and_delete_as_kestra(api: Server) -> None:
    assert _list(api, "nsfiles.crud") == []  # listWithoutPreCreation
    for path, content in [
        ("/test/test.txt", b"Hello"),
        ("/test/test2.txt", b"2"),
        ("/other/deep/x.txt", b"x"),
        ("/other/y.txt", b"y"),
    ]:
        response = _put(api, "nsfiles.crud", path, content)
        assert response.status_code == 200, response.text
    assert _get(api, "nsfiles.crud", "/test/test.txt").content == b"Hello"
    assert _get(api, "nsfiles.crud", "test/test.txt").content == b"Hello"
    assert [e["fileName"] for e in _list(api, "nsfiles.crud")] == ["other", "test"]
    listed = _list(api, "nsfiles.crud", "/test")
    assert [(e["fileName"], e["type"], e["size"]) for e in listed] == [
        ("test.txt", "File", 5),
        ("test2.txt", "File", 1),
    ]
    assert set(listed[0]) == {
        "fileName",
        "type",
        "size",
        "lastModifiedTime",
        "creationTime",
        "metadata",
    }
    assert _put(api, "nsfiles.crud", "/test/test.txt", b"Replaced").status_code == 200
    assert _get(api, "nsfiles.crud", "/test/test.txt").content == b"Replaced"
    assert _delete(api, "nsfiles.crud", "/other/deep/x.txt").status_code == 200
    assert [e["fileName"] for e in _list(api, "nsfiles.crud", "/other")] == ["y.txt"]
    assert _delete(api, "nsfiles.crud", "/test").status_code == 200
    assert [e["fileName"] for e in _list(api, "nsfiles.crud")] == ["other"]
    missing = _get(api, "nsfiles.crud", "/test/test.txt")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    assert _delete(api, "nsfiles.crud", "/test").status_code == 404
    assert _list(api, "nsfiles.other") == []  # another namespace sees none of them


@pytest.mark.parametrize(
    "path",
    [
        "/../crud2/_files/a.txt",
        "/a/../../x",
        "a/./b",
        "a//b",
        "/",
        "",
        "/a\\b",
        "/a\x00b",
        "/_flows/flow.yml",
    ],
)
def test_path_tricks_are_refused(api: Server, path: str) -> None:
    for response in (
        _put(api, "nsfiles.tricks", path, b"x"),
        _get(api, "nsfiles.tricks", path),
        _delete(api, "nsfiles.tricks", path),
    ):
        assert response.status_code == 400, (path, response.text)
        assert response.json()["code"] == "BAD_USER_INPUT"
    assert not (_root(api) / "nsfiles" / "crud2").exists()


def test_an_encoded_slash_is_a_name_not_a_separator(api: Server) -> None:
    response = api.client.post(
        _base(api, "nsfiles.encoded") + "?path=/a%252Fb.txt",
        files={"fileContent": ("x", b"e", "text/plain")},
        headers=PREFLIGHT,
    )
    assert response.status_code == 200, response.text
    assert [e["fileName"] for e in _list(api, "nsfiles.encoded")] == ["a%2Fb.txt"]


def test_bad_namespaces_are_refused(api: Server) -> None:
    for namespace in ("Upper", "a..b", "_files", "a._files", ".a"):
        response = _put(api, namespace, "/x.txt", b"x")
        assert response.status_code == 400, (namespace, response.text)
        assert "is not a namespace" in response.json()["message"]


def test_a_symlink_inside_the_namespace_folder_is_never_followed(
    api: Server, tmp_path: Path
) -> None:
    assert _put(api, "nsfiles.link", "/real/a.txt", b"a").status_code == 200
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (_root(api) / "nsfiles/link/_files/escape").symlink_to(outside)
    assert _get(api, "nsfiles.link", "/escape/secret.txt").status_code == 400
    assert _put(api, "nsfiles.link", "/escape/new.txt", b"n").status_code == 400
    assert _delete(api, "nsfiles.link", "/escape/secret.txt").status_code == 400
    assert _delete(api, "nsfiles.link", "/escape").status_code == 200  # the link, not its target
    assert (outside / "secret.txt").read_text() == "secret"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert [e["fileName"] for e in _list(api, "nsfiles.link")] == ["real"]


def test_a_file_where_a_folder_is_is_a_conflict(api: Server) -> None:
    assert _put(api, "nsfiles.conflict", "/a/b.txt", b"x").status_code == 200
    assert _put(api, "nsfiles.conflict", "/a", b"x").status_code == 409
    assert _put(api, "nsfiles.conflict", "/a/b.txt/c", b"x").status_code == 400
    assert _get(api, "nsfiles.conflict", "/a").status_code == 404


def test_an_upload_needs_a_file_part_and_a_preflight_header(api: Server) -> None:
    response = api.client.post(
        _base(api, "nsfiles.form"),
        params={"path": "/x"},
        files={"other": ("x", b"x")},
        headers=PREFLIGHT,
    )
    assert response.status_code == 400 and "fileContent" in response.json()["message"]
    assert _put(api, "nsfiles.form", "/x", b"x", headers={}).status_code == 400
    assert _list(api, "nsfiles.form") == []


def test_namespace_files_need_the_token(server_factory: Callable[..., Server]) -> None:
    secured = server_factory(token="ns-token")
    bearer = {"Authorization": "Bearer ns-token"}
    assert _put(secured, "nsfiles.tok", "/x.txt", b"t", headers={}).status_code == 400
    assert _put(secured, "nsfiles.tok", "/x.txt", b"t", headers=PREFLIGHT).status_code == 401
    assert _put(secured, "nsfiles.tok", "/x.txt", b"t", headers=bearer).status_code == 200
    assert _get(secured, "nsfiles.tok", "/x.txt").status_code == 401
    assert _get(secured, "nsfiles.tok", "/x.txt", accept="text/html").status_code == 401
    assert _get(secured, "nsfiles.tok", "/x.txt", **bearer).content == b"t"
    listing = secured.client.get(_base(secured, "nsfiles.tok") + "/directory")
    assert listing.status_code == 401
    removal = secured.client.delete(_base(secured, "nsfiles.tok"), params={"path": "/x.txt"})
    assert removal.status_code == 401
    assert _get(secured, "nsfiles.tok", "/x.txt", **bearer).status_code == 200


READER = """\
id: reader
namespace: nsfiles.read.team
tasks:
  - id: own
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read('conf/who.txt') }}"
  - id: parent
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read('/conf/who.txt', namespace='nsfiles.read') }}"
  - id: uri
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read('kestra:///nsfiles/read/_files/conf/who.txt') }}"
"""

SIBLING = """\
id: sibling
namespace: nsfiles.read.team
tasks:
  - id: other
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read('conf/who.txt', namespace='nsfiles.read.other') }}"
"""


def test_a_flow_reads_its_namespace_files_and_its_parent_namespaces(api: Server) -> None:
    for namespace in ("nsfiles.read", "nsfiles.read.team", "nsfiles.read.other"):
        assert _put(api, namespace, "/conf/who.txt", namespace.encode()).status_code == 200
    api.deploy("nsfiles.read.team", "reader", READER)
    execution_id = api.run("nsfiles.read.team", "reader")
    found = api.data(
        """query($id: ID!) { execution(id: $id) { state { current } taskRunList {
             taskId outputs } } }""",
        {"id": execution_id},
    )["execution"]
    assert found["state"]["current"] == "SUCCESS", found
    runs = found["taskRunList"]
    assert {run["taskId"]: run["outputs"]["value"] for run in runs} == {
        "own": "nsfiles.read.team",
        "parent": "nsfiles.read",
        "uri": "nsfiles.read",
    }
    api.deploy("nsfiles.read.team", "sibling", SIBLING)
    refused = api.run("nsfiles.read.team", "sibling")
    assert api.wait_terminal(refused) == "FAILED"


def test_an_uploaded_namespace_file_is_durable_when_answered(
    server_factory: Callable[..., Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No commit refers to a namespace file, so the writer's flush before each commit never
    covers it: the route syncs it before its 200 (an idle server kept it in the page cache)."""
    idle = server_factory()
    flushes = Flushes(monkeypatch)
    assert _put(idle, "nsfiles.durable", "/conf/a.txt", b"kept").status_code == 200
    stored = _root(idle) / "nsfiles/durable/_files/conf/a.txt"
    assert flushes.has(stored) and flushes.has(stored.parent)
