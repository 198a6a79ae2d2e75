"""`replayExecution(…, files:)`: a replay with new inputs takes new files for its FILE inputs
(the multipart request specification, as createExecution and resumeExecution), over a real
server (docs/semantics.md#files)."""

from __future__ import annotations

import json
from typing import Any

from tests.api.conftest import Server
from tests.api.test_api_files import FILE_FLOW, PREFLIGHT, _files_of, _logs, _root, _upload

REPLAY = """mutation($id: ID!, $i: JSON, $files: [FileInput!]) {
  replayExecution(id: $id, inputs: $i, files: $files) {
    __typename ... on Execution { id inputs } ... on Error { message }
    ... on InvalidInputsError { issues { input message } } } }"""


def _replay(
    server: Server, execution_id: str, content: bytes, name: str = "data", **inputs: Any
) -> dict[str, Any]:
    operations = {
        "query": REPLAY,
        "variables": {
            "id": execution_id,
            "i": inputs or None,
            "files": [{"name": name, "file": None}],
        },
    }
    response = server.client.post(
        server.url + "/graphql",
        data={"operations": json.dumps(operations), "map": '{"0": ["variables.files.0.file"]}'},
        files={"0": ("new.csv", content, "text/csv")},
        headers=PREFLIGHT,
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["data"]["replayExecution"]
    return found


def _done(server: Server, namespace: str, content: bytes) -> str:
    server.deploy(namespace, "upload", FILE_FLOW.format(namespace=namespace))
    response = _upload(server, namespace, content)
    execution_id: str = response.json()["data"]["createExecution"]["id"]
    assert server.wait_terminal(execution_id) == "SUCCESS"
    return execution_id


def test_a_replay_takes_new_files_stored_under_the_new_execution(api: Server) -> None:
    old = _done(api, "files.replay", b"old\n")
    replayed = _replay(api, old, b"new\n", note="again")
    assert replayed["__typename"] == "Execution", replayed
    new = replayed["id"]
    uri = f"kestra:///files/replay/upload/executions/{new}/inputs/data/new.csv"
    assert replayed["inputs"] == {"data": uri, "note": "again"}
    assert api.wait_terminal(new) == "SUCCESS"
    assert _logs(api, new, "show") == ["new"]
    assert _logs(api, old, "show") == ["old"]
    download = api.client.get(f"{api.url}/api/v1/executions/{new}/file", params={"path": uri})
    assert download.status_code == 200 and download.content == b"new\n"


def test_a_refused_replay_keeps_no_file(api: Server) -> None:
    old = _done(api, "files.replayno", b"old\n")
    before = sorted(p for p in _root(api).rglob("*") if p.is_file())
    wrong = _replay(api, old, b"x", name="note")
    assert wrong["__typename"] == "InvalidInputsError", wrong
    assert "not a FILE input" in wrong["issues"][0]["message"]
    bad_value = _replay(api, old, b"x", note=["not", "a", "string"])
    assert bad_value["__typename"] == "InvalidInputsError", bad_value
    missing = _replay(api, "nosuchexecution", b"x")
    assert missing["__typename"] == "NotFoundError", missing
    assert sorted(p for p in _root(api).rglob("*") if p.is_file()) == before
    assert len(_files_of(api, old)) == 2  # its input and its output file, untouched
