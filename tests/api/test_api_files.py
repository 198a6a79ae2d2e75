"""FILE inputs over GraphQL (the multipart request specification) and execution files removed
with their execution, over a real server (docs/semantics.md#files)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from tests.api.conftest import Server
from tests.api.lifecycle_helpers import wait_state

FILE_FLOW = """\
id: upload
namespace: {namespace}
inputs:
  - id: data
    type: FILE
  - id: note
    type: STRING
    required: false
tasks:
  - id: show
    type: io.kestra.plugin.scripts.shell.Commands
    inputFiles:
      data.csv: "{{{{ inputs.data }}}}"
    outputFiles: ["copy.csv"]
    commands:
      - cat data.csv
      - cp data.csv copy.csv
"""

CREATE = """mutation($ns: String!, $i: JSON, $files: [FileInput!]) {
  createExecution(namespace: $ns, flowId: "upload", inputs: $i, files: $files) {
    __typename ... on Execution { id inputs } ... on Error { message }
    ... on InvalidInputsError { issues { input message } } } }"""

PREFLIGHT = {"Apollo-Require-Preflight": "true"}


def _upload(
    server: Server,
    namespace: str,
    content: bytes,
    *,
    name: str = "data",
    filename: str = "rows.csv",
    headers: dict[str, str] | None = None,
    inputs: dict[str, Any] | None = None,
) -> httpx.Response:
    operations = {
        "query": CREATE,
        "variables": {"ns": namespace, "i": inputs, "files": [{"name": name, "file": None}]},
    }
    parts = {
        "operations": json.dumps(operations),
        "map": json.dumps({"0": ["variables.files.0.file"]}),
    }
    return server.client.post(
        server.url + "/graphql",
        data=parts,
        files={"0": (filename, content, "text/csv")},
        headers=PREFLIGHT if headers is None else headers,
    )


def _root(server: Server) -> Path:
    return Path(server.app.state.services.engine.files.root)


def _files_of(server: Server, execution_id: str) -> list[Path]:
    return sorted(p for p in _root(server).rglob("*") if p.is_file() and execution_id in p.parts)


def _logs(server: Server, execution_id: str, task_id: str) -> list[str]:
    found = server.data(
        """query($id: ID!) { logs(executionId: $id, first: 50) {
             edges { node { taskId message } } } }""",
        {"id": execution_id},
    )["logs"]["edges"]
    return [edge["node"]["message"] for edge in found if edge["node"]["taskId"] == task_id]


def test_an_uploaded_file_is_the_input_and_is_read_by_the_task(api: Server) -> None:
    api.deploy("files.up", "upload", FILE_FLOW.format(namespace="files.up"))
    response = _upload(api, "files.up", b"a,b\n1,2\n", filename="../../my rows.csv")
    assert response.status_code == 200, response.text
    created = response.json()["data"]["createExecution"]
    assert created["__typename"] == "Execution", created
    execution_id = created["id"]
    uri = f"kestra:///files/up/upload/executions/{execution_id}/inputs/data/my%20rows.csv"
    assert created["inputs"] == {"data": uri, "note": None}
    assert api.wait_terminal(execution_id) == "SUCCESS"
    assert _logs(api, execution_id, "show") == ["a,b", "1,2"]
    stored = _root(api) / f"files/up/upload/executions/{execution_id}/inputs/data/my rows.csv"
    assert stored.read_bytes() == b"a,b\n1,2\n"


def test_a_multipart_request_without_a_preflight_header_is_refused(api: Server) -> None:
    api.deploy("files.csrf", "upload", FILE_FLOW.format(namespace="files.csrf"))
    before = set(_root(api).rglob("*")) if _root(api).exists() else set()
    response = _upload(api, "files.csrf", b"x", headers={})
    assert response.status_code == 400
    assert "Apollo-Require-Preflight" in response.json()["errors"][0]["message"]
    after = set(_root(api).rglob("*")) if _root(api).exists() else set()
    assert after == before
    found = api.data(
        "query($f: ExecutionFilter) { executions(filter: $f) { totalCount } }",
        {"f": {"namespace": "files.csrf"}},
    )
    assert found["executions"]["totalCount"] == 0


def test_a_file_for_an_input_that_is_not_a_file_input_is_refused(api: Server) -> None:
    api.deploy("files.wrong", "upload", FILE_FLOW.format(namespace="files.wrong"))
    response = _upload(api, "files.wrong", b"x", name="note")
    found = response.json()["data"]["createExecution"]
    assert found["__typename"] == "InvalidInputsError"
    messages = [issue["message"] for issue in found["issues"]]
    assert messages == [
        "Invalid file for `note`: the flow has a STRING input `note`, not a FILE input"
    ]
    assert not (_root(api) / "files/wrong").exists()


def test_a_file_uri_of_another_namespace_is_refused(api: Server) -> None:
    api.deploy("files.ns", "upload", FILE_FLOW.format(namespace="files.ns"))
    stolen = "kestra:///other/team/flow/executions/E1/inputs/data/secret.csv"
    found = api.data(CREATE, {"ns": "files.ns", "i": {"data": stolen}})["createExecution"]
    assert found["__typename"] == "InvalidInputsError"
    assert [issue["message"] for issue in found["issues"]] == [
        "Invalid input for `data`, the file must belong to namespace `files.ns` or a parent "
        f"namespace, but received `{stolen}`"
    ]
    tricks = ["kestra:///files/ns/upload/executions/../../../other/x", "/etc/passwd"]
    for trick in tricks:
        found = api.data(CREATE, {"ns": "files.ns", "i": {"data": trick}})["createExecution"]
        assert found["__typename"] == "InvalidInputsError", trick
        assert "expected FILE (a kestra:/// URI)" in found["issues"][0]["message"]


def test_a_file_variable_that_is_not_a_file_part_is_refused(api: Server) -> None:
    api.deploy("files.json", "upload", FILE_FLOW.format(namespace="files.json"))
    body = api.gql(CREATE, {"ns": "files.json", "files": [{"name": "data", "file": "a,b"}]})
    found = body["data"]["createExecution"]
    assert found["__typename"] == "InvalidInputsError", body
    assert "`file` must be a file part of a multipart request" in found["issues"][0]["message"]


def test_an_upload_over_the_limit_is_refused(server_factory: Callable[..., Server]) -> None:
    from tercel.settings import Limits

    small = server_factory(limits=Limits(upload_bytes=10_000))
    small.deploy("files.big", "upload", FILE_FLOW.format(namespace="files.big"))
    response = _upload(small, "files.big", b"x" * 20_000)
    assert response.status_code == 413
    assert "request body over 10000 bytes" in response.json()["errors"][0]["message"]
    assert _upload(small, "files.big", b"x" * 5_000).status_code == 200


DELETE = """mutation($id: ID!, $storage: Boolean!) {
  deleteExecution(id: $id, deleteStorage: $storage) { __typename } }"""


def _run_with_file(server: Server, namespace: str) -> str:
    response = _upload(server, namespace, b"1\n")
    execution_id: str = response.json()["data"]["createExecution"]["id"]
    assert server.wait_terminal(execution_id) == "SUCCESS"
    assert len(_files_of(server, execution_id)) == 2  # the input and the output file
    return execution_id


def test_delete_execution_removes_its_files_unless_asked_to_keep_them(api: Server) -> None:
    api.deploy("files.del", "upload", FILE_FLOW.format(namespace="files.del"))
    removed, kept = _run_with_file(api, "files.del"), _run_with_file(api, "files.del")
    assert api.data(DELETE, {"id": removed, "storage": True})["deleteExecution"]
    assert _files_of(api, removed) == []
    assert api.data(DELETE, {"id": kept, "storage": False})["deleteExecution"]
    assert len(_files_of(api, kept)) == 2


def test_bulk_delete_removes_the_files(api: Server) -> None:
    api.deploy("files.bulk", "upload", FILE_FLOW.format(namespace="files.bulk"))
    ids = [_run_with_file(api, "files.bulk") for _ in range(2)]
    found = api.data(
        "mutation($ids: [ID!]) { bulkExecutions(action: DELETE, ids: $ids) { items { outcome } } }",
        {"ids": ids},
    )["bulkExecutions"]
    assert [item["outcome"] for item in found["items"]] == ["OK", "OK"]
    assert [_files_of(api, execution_id) for execution_id in ids] == [[], []]


def _output_uri(server: Server, execution_id: str) -> str:
    found = server.data(
        "query($id: ID!) { execution(id: $id) { taskRunList { taskId outputs } } }",
        {"id": execution_id},
    )["execution"]["taskRunList"]
    uri: str = found[0]["outputs"]["outputFiles"]["copy.csv"]
    return uri


def _download(server: Server, execution_id: str, path: str, **headers: str) -> httpx.Response:
    return server.client.get(
        f"{server.url}/api/v1/executions/{execution_id}/file",
        params={"path": path},
        headers=headers,
    )


def test_files_are_downloaded_at_kestras_path_only_from_their_execution(api: Server) -> None:
    api.deploy("files.http", "upload", FILE_FLOW.format(namespace="files.http"))
    first, second = _run_with_file(api, "files.http"), _run_with_file(api, "files.http")
    uri = _output_uri(api, first)
    response = _download(api, first, uri)
    assert response.status_code == 200 and response.content == b"1\n"
    assert response.headers["content-disposition"] == "attachment; filename*=UTF-8''copy.csv"
    refused = [
        (second, uri),  # a file of another execution
        (first, uri.replace(f"/executions/{first}/", f"/executions/{first}/../{second}/")),
        (first, uri.replace(f"/executions/{first}/", f"/executions/{first}%2F..%2F{second}/")),
        (first, uri.replace("copy.csv", "missing.csv")),
        (first, "/etc/passwd"),
        (first, "kestra:////etc/passwd"),
        (first, uri + "%00.png"),
        ("nosuchexecution", uri),
    ]
    for execution_id, path in refused:
        response = _download(api, execution_id, path)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["code"] == "NOT_FOUND"
    response = api.client.get(f"{api.url}/api/v1/executions/{first}/file")
    assert response.status_code == 400


def test_file_downloads_need_the_token(server_factory: Callable[..., Server]) -> None:
    secured = server_factory(token="files-token")
    secured.deploy("files.tok", "upload", FILE_FLOW.format(namespace="files.tok"))
    response = _upload(
        secured, "files.tok", b"1\n", headers={**PREFLIGHT, "Authorization": "Bearer files-token"}
    )
    execution_id = response.json()["data"]["createExecution"]["id"]
    assert secured.wait_terminal(execution_id) == "SUCCESS"
    uri = _output_uri(secured, execution_id)
    assert _download(secured, execution_id, uri).status_code == 401
    # a browser's Accept header opens GraphiQL's page only, never a file
    assert _download(secured, execution_id, uri, accept="text/html").status_code == 401
    with_token = _download(secured, execution_id, uri, Authorization="Bearer files-token")
    assert with_token.status_code == 200 and with_token.content == b"1\n"


PAUSED = """\
id: approve
namespace: {namespace}
tasks:
  - id: gate
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: proof
        type: FILE
      - id: note
        type: STRING
        required: false
  - id: show
    type: io.kestra.plugin.scripts.shell.Commands
    inputFiles:
      proof.txt: "{{{{ outputs.gate.onResume.proof }}}}"
    commands:
      - cat proof.txt
"""

RESUME = """mutation($id: ID!, $i: JSON, $files: [FileInput!]) {
  resumeExecution(id: $id, inputs: $i, files: $files) {
    __typename ... on Error { message } ... on InvalidInputsError { issues { message } } } }"""


def _resume(server: Server, execution_id: str, name: str, content: bytes) -> dict[str, Any]:
    operations = {
        "query": RESUME,
        "variables": {"id": execution_id, "files": [{"name": name, "file": None}]},
    }
    response = server.client.post(
        server.url + "/graphql",
        data={"operations": json.dumps(operations), "map": '{"0": ["variables.files.0.file"]}'},
        files={"0": ("proof.txt", content, "text/plain")},
        headers=PREFLIGHT,
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["data"]["resumeExecution"]
    return found


def _paused(server: Server, namespace: str) -> str:
    server.deploy(namespace, "approve", PAUSED.format(namespace=namespace))
    execution_id = server.create(namespace, "approve")
    wait_state(server, execution_id, "PAUSED")
    return execution_id


def test_resume_takes_the_files_of_on_resume_file_inputs(api: Server) -> None:
    execution_id = _paused(api, "files.resume")
    refused = _resume(api, execution_id, "note", b"x")
    assert refused["__typename"] == "InvalidInputsError"
    assert refused["issues"][0]["message"] == (
        "Invalid file for `note`: the paused task's onResume has a STRING input `note`, "
        "not a FILE input"
    )
    assert _resume(api, execution_id, "proof", b"signed")["__typename"] == "Execution"
    assert api.wait_terminal(execution_id) == "SUCCESS"
    assert _logs(api, execution_id, "show") == ["signed"]
    (stored,) = [p for p in _files_of(api, execution_id) if "inputs" in p.parts]
    assert stored.parts[-3:] == ("inputs", "proof", "proof.txt")
    assert stored.read_bytes() == b"signed"


def test_a_preview_gives_the_first_rows_of_a_file_of_the_execution(api: Server) -> None:
    api.deploy("files.preview", "upload", FILE_FLOW.format(namespace="files.preview"))
    response = _upload(api, "files.preview", b"a,b\n1,2\n3,4\n")
    execution_id = response.json()["data"]["createExecution"]["id"]
    assert api.wait_terminal(execution_id) == "SUCCESS"
    uri = _output_uri(api, execution_id)
    url = f"{api.url}/api/v1/executions/{execution_id}/file/preview"
    found = api.client.get(url, params={"path": uri, "maxRows": "2"})
    assert found.status_code == 200
    assert found.json() == {
        "extension": "csv", "type": "LIST", "content": [["a", "b"], ["1", "2"]],
        "truncated": True,
    }  # fmt: skip
    other = _run_with_file(api, "files.preview")
    assert api.client.get(url, params={"path": _output_uri(api, other)}).status_code == 404
    bad = api.client.get(url, params={"path": uri, "maxRows": "0"})
    assert bad.status_code == 400 and "maxRows" in bad.json()["message"]


# Kestra's test flow core/src/test/resources/flows/valids/pause_on_resume.yaml, with the
# assertions of PauseTest.runOnResume and runOnResumeMissingInputs, black-box over the API.
PAUSE_ON_RESUME = """\
id: pause_on_resume
namespace: io.kestra.tests
tasks:
  - id: pause
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: asked
        type: STRING
      - id: data
        type: FILE
        required: false
  - id: last
    type: io.kestra.plugin.core.output.OutputValues
    values:
      asked: "{{outputs.pause.onResume.asked}}"
      data: "{{outputs.pause.onResume.data}}"
"""


def test_kestra_pause_on_resume_takes_a_file(server_factory: Callable[..., Server]) -> None:
    # a server of its own: the shared one's text-filter tests expect no `_` in its flow ids
    api = server_factory()
    api.deploy("io.kestra.tests", "pause_on_resume", PAUSE_ON_RESUME)
    execution_id = api.create("io.kestra.tests", "pause_on_resume")
    paused = wait_state(api, execution_id, "PAUSED")
    assert len(paused["taskRunList"]) == 1
    missing = api.data(RESUME, {"id": execution_id})["resumeExecution"]
    assert "Invalid input for `asked`, missing required input, but received `null`" in str(
        missing["issues"]
    )
    operations = {
        "query": RESUME,
        "variables": {
            "id": execution_id,
            "i": {"asked": "restarted"},
            "files": [{"name": "data", "file": None}],
        },
    }
    response = api.client.post(
        api.url + "/graphql",
        data={"operations": json.dumps(operations), "map": '{"0": ["variables.files.0.file"]}'},
        files={"0": ("data", execution_id.encode(), "text/plain")},
        headers=PREFLIGHT,
    )
    assert response.json()["data"]["resumeExecution"]["__typename"] == "Execution"
    assert api.wait_terminal(execution_id) == "SUCCESS"
    runs = api.data(
        "query($id: ID!) { execution(id: $id) { taskRunList { taskId outputs } } }",
        {"id": execution_id},
    )["execution"]["taskRunList"]
    values = next(run for run in runs if run["taskId"] == "last")["outputs"]["values"]
    assert values["asked"] == "restarted"
    assert values["data"].startswith("kestra://")
    assert _download(api, execution_id, values["data"]).text == execution_id


def test_malformed_multipart_requests_are_400s(api: Server) -> None:
    url = api.url + "/graphql"
    typename = json.dumps({"query": "{ __typename }"})
    form = "multipart/form-data"
    cases: list[dict[str, Any]] = [
        {"content": b"--x\r\nnot a part", "headers": {"content-type": f"{form}; boundary=x"}},
        {"content": b"abc", "headers": {"content-type": form}},
        {"data": {"operations": "{nope", "map": "{}"}},
        {"data": {"operations": typename, "map": "[1]"}},
        {"data": {"operations": typename, "map": '{"0": [1]}'}},
        {"data": {"operations": typename, "map": '{"9": ["variables.x"]}'}},
    ]  # fmt: skip
    for case in cases:
        headers = {**PREFLIGHT, **case.pop("headers", {})}
        if "data" in case:
            case["files"] = {"0": ("a", b"x")}
        response = api.client.post(url, headers=headers, **case)
        assert response.status_code == 400, (case, response.text)
    assert api.client.get(api.url + "/health").json()["status"] == "ok"


def test_a_map_naming_a_part_the_request_lacks_says_which(api: Server) -> None:
    """Strawberry answered `File(s) missing in form data` for both, naming nothing."""
    typename = json.dumps({"query": "{ __typename }"})
    cases = {
        '{"9": ["variables.x"]}': "names the file part `9`, which the request does not hold "
        "(its file parts: `0`)",
        '{"0": "variables.x"}': "the multipart `map` must be an object mapping each file part "
        "to a list of variable paths",
    }
    for file_map, words in cases.items():
        response = api.client.post(
            api.url + "/graphql",
            headers=PREFLIGHT,
            data={"operations": typename, "map": file_map},
            files={"0": ("a", b"x")},
        )
        assert response.status_code == 400, response.text
        assert words in response.text, response.text


def test_a_storage_folder_that_cannot_be_written_is_a_clear_error(
    server_factory: Callable[..., Server], tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the storage folder should be")
    broken = server_factory(files_dir=str(blocked))
    broken.deploy("files.broken", "upload", FILE_FLOW.format(namespace="files.broken"))
    body = _upload(broken, "files.broken", b"1\n").json()
    (error,) = body["errors"]
    assert "errorId" not in error["extensions"]  # not masked: the message says what failed
    assert error["message"].startswith(
        "the internal storage cannot be written now (cannot store an input file: "
    )
    found = broken.data(
        "query($f: ExecutionFilter) { executions(filter: $f) { totalCount } }",
        {"f": {"namespace": "files.broken"}},
    )
    assert found["executions"]["totalCount"] == 0
    assert broken.client.get(broken.url + "/health").json()["status"] == "ok"
    broken.deploy("files.broken", "produce", PRODUCE)
    execution_id = broken.run("files.broken", "produce")
    assert broken.wait_terminal(execution_id) == "FAILED"
    (message,) = _logs(broken, execution_id, "sh")
    assert message.startswith("outputFiles `out.txt`: cannot store it: ")


PRODUCE = """\
id: produce
namespace: files.broken
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    outputFiles: ["out.txt"]
    commands: ["echo x > out.txt"]
"""
