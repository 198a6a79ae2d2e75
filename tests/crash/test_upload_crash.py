"""Files of an execution that never committed (the server SIGKILLed between storing its FILE
input and committing it, fail point `before_upload_commit`) are removed at the next start;
files kept on purpose (`deleteStorage: false`) and committed executions' files stay
(docs/semantics.md#files)."""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.crash.server import TercelServer, running_server, upload_input

FLOW = """\
id: upload
namespace: crash.files
inputs:
  - id: data
    type: FILE
tasks:
  - id: show
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(inputs.data) }}"
"""

CREATE = """mutation($files: [FileInput!]) {
  createExecution(namespace: "crash.files", flowId: "upload", files: $files) {
    __typename ... on Execution { id } } }"""


def _upload(server: TercelServer, content: bytes) -> httpx.Response:
    return upload_input(server, CREATE, "rows.csv", content)


def _executions_folder(tmp_path: Path) -> Path:
    return tmp_path / "tercel.db.files" / "crash" / "files" / "upload" / "executions"


def test_the_files_of_an_execution_never_committed_go_at_the_next_start(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        server.deploy(FLOW)
        kept = _upload(server, b"kept\n").json()["data"]["createExecution"]["id"]
        assert server.wait_terminal(kept) == "SUCCESS"
        deleted = _upload(server, b"deleted, files kept\n").json()["data"]["createExecution"]["id"]
        assert server.wait_terminal(deleted) == "SUCCESS"
        answer = server.data(
            """mutation($id: ID!) { deleteExecution(id: $id, deleteStorage: false) {
                 __typename } }""",
            {"id": deleted},
        )
        assert answer["deleteExecution"]["__typename"] == "Execution", answer
        server.stop()
        server.start(env={"TERCEL_FAILPOINT": "before_upload_commit"})
        try:
            _upload(server, b"lost\n")
        except httpx.HTTPError:
            pass  # the server died mid-request, as planned
        assert server.wait_exit(timeout=20) == 137
        folders = _executions_folder(tmp_path)
        lost = sorted({p.name for p in folders.iterdir()} - {kept, deleted})
        assert len(lost) == 1 and (folders / lost[0] / "inputs" / "data" / "rows.csv").exists()
        assert [p.name for p in (tmp_path / "tercel.db.files" / ".pending").iterdir()] == lost
        server.start()
        assert sorted(p.name for p in folders.iterdir()) == sorted([kept, deleted])
        assert list((tmp_path / "tercel.db.files" / ".pending").iterdir()) == []
        again = _upload(server, b"again\n").json()["data"]["createExecution"]["id"]
        assert server.wait_terminal(again) == "SUCCESS"
        assert (folders / again / "inputs" / "data" / "rows.csv").read_bytes() == b"again\n"
        assert list((tmp_path / "tercel.db.files" / ".pending").iterdir()) == []
