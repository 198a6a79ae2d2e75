"""ForEachItem over a real server (docs/semantics.md#foreachitem): a FILE input uploaded with
the multipart `createExecution`, split into batches, one subflow execution each, and the merged
subflow outputs read back at Kestra's file download path."""

from __future__ import annotations

from tests.api.conftest import Server
from tests.api.test_api_files import _download, _upload

NAMESPACE = "files.items"
PARENT = """\
id: upload
namespace: files.items
inputs:
  - id: data
    type: FILE
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{ inputs.data }}"
    batch:
      rows: 2
    namespace: files.items
    flowId: count
    inputs:
      rows: "{{ read(taskrun.items) }}"
      n: "{{ taskrun.iteration }}"
"""
CHILD = """\
id: count
namespace: files.items
inputs:
  - id: rows
    type: STRING
  - id: n
    type: INT
tasks:
  - id: noop
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.n }}"
outputs:
  - id: batch
    type: STRING
    value: "{{ inputs.n }}:{{ inputs.rows | trim }}"
"""
RUNS = """query($id: ID!) { execution(id: $id) { taskRunList { taskId parentTaskRunId outputs
  state { current } } } }"""


def test_an_uploaded_file_is_split_and_the_merged_outputs_are_downloaded(api: Server) -> None:
    api.deploy(NAMESPACE, "count", CHILD)
    api.deploy(NAMESPACE, "upload", PARENT)
    response = _upload(api, NAMESPACE, b"a,1\nb,2\nc,3\n", filename="rows.csv")
    assert response.status_code == 200, response.text
    execution_id = response.json()["data"]["createExecution"]["id"]
    assert api.wait_terminal(execution_id) == "SUCCESS"
    runs = {
        r["taskId"]: r for r in api.data(RUNS, {"id": execution_id})["execution"]["taskRunList"]
    }
    assert list(runs) == ["each", "each_split", "each_items", "each_merge"]
    parent_id = api.data(
        "query($id: ID!) { execution(id: $id) { taskRunList { id taskId } } }",
        {"id": execution_id},
    )["execution"]["taskRunList"][0]["id"]
    assert {runs[t]["parentTaskRunId"] for t in ("each_split", "each_items", "each_merge")} == {
        parent_id
    }
    assert runs["each_items"]["outputs"]["numberOfBatches"] == 2
    merged = runs["each_merge"]["outputs"]["subflowOutputs"]
    prefix = f"kestra:///files/items/upload/executions/{execution_id}/tasks/each-merge/"
    assert merged.startswith(prefix)
    downloaded = _download(api, execution_id, merged)
    assert downloaded.status_code == 200, downloaded.text
    assert downloaded.content == b'{"batch":"1:a,1\\nb,2"}\n{"batch":"2:c,3"}\n'
