"""ForEachItem across a SIGKILL of the server (docs/semantics.md#foreachitem): the restarted
engine rebuilds `each`, `each_split`, `each_items` and `each_merge` from SQLite, re-links the
children still running, counts the ones that ended once, and neither creates a child again
nor loses one."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.crash.server import TercelServer, running_server

NAMESPACE = "crash.items"
CHILD = """\
id: child
namespace: crash.items
inputs:
  - id: items
    type: STRING
  - id: n
    type: INT
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: "PT{{ inputs.n % 3 }}S"
outputs:
  - id: n
    type: INT
    value: "{{ inputs.n }}"
"""
PARENT = """\
id: parent
namespace: crash.items
tasks:
  - id: make
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - seq 1 {lines} > items.txt
    outputFiles: [items.txt]
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{{{ outputs.make.outputFiles['items.txt'] }}}}"
    batch:
      rows: {rows}
    namespace: crash.items
    flowId: child
    inputs:
      items: "{{{{ taskrun.items }}}}"
      n: "{{{{ taskrun.iteration }}}}"
"""
RUNS = """query($id: ID!) { execution(id: $id) { state { current }
  taskRunList { taskId state { current } outputs attempts { state { current } } } } }"""
CHILDREN = """query($ns: String!) { executions(filter: {namespaceEquals: $ns}, first: 100) {
  edges { node { id flowId inputs state { current } trigger { variables } } } } }"""


def _runs(server: TercelServer, execution_id: str) -> dict[str, dict[str, Any]]:
    found = server.data(RUNS, {"id": execution_id})["execution"]["taskRunList"]
    return {run["taskId"]: run for run in found}


def _children(server: TercelServer, parent_id: str) -> list[dict[str, Any]]:
    edges = server.data(CHILDREN, {"ns": NAMESPACE})["executions"]["edges"]
    nodes = [edge["node"] for edge in edges if edge["node"]["flowId"] == "child"]
    return [n for n in nodes if n["trigger"]["variables"]["executionId"] == parent_id]


def _wait_for(server: TercelServer, execution_id: str, ready: Any, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if ready(_runs(server, execution_id)):
            return
        time.sleep(0.02)
    raise AssertionError(f"{what} not seen: {_runs(server, execution_id)}")


def _check_end(server: TercelServer, parent_id: str, batches: int) -> None:
    assert server.wait_terminal(parent_id, timeout=60) == "SUCCESS"
    runs = _runs(server, parent_id)
    assert list(runs) == ["make", "each", "each_split", "each_items", "each_merge"]
    items = runs["each_items"]
    assert items["outputs"]["iterations"] == {"CREATED": 0, "RUNNING": 0, "SUCCESS": batches}
    assert [a["state"]["current"] for a in items["attempts"]] == ["SUCCESS"]
    kids = _children(server, parent_id)
    assert sorted(kid["inputs"]["n"] for kid in kids) == list(range(1, batches + 1))
    for kid in kids:
        assert server.wait_terminal(kid["id"]) == "SUCCESS"
    merged = runs["each_merge"]["outputs"]["subflowOutputs"]
    response = server.client.get(
        f"{server.url}/api/v1/executions/{parent_id}/file", params={"path": merged}
    )
    assert response.status_code == 200, response.text
    assert response.text.splitlines() == [f'{{"n":{n}}}' for n in range(1, batches + 1)]


def test_a_sigkill_while_the_children_run_neither_duplicates_nor_loses_one(
    tmp_path: Path,
) -> None:
    with running_server(tmp_path) as server:
        assert server.deploy(CHILD)["__typename"] == "Flow"
        assert server.deploy(PARENT.format(lines=6, rows=1))["__typename"] == "Flow"
        parent_id = server.create(NAMESPACE, "parent")

        def some_ended(runs: dict[str, dict[str, Any]]) -> bool:
            counts = (runs.get("each_items", {}).get("outputs") or {}).get("iterations", {})
            return 0 < counts.get("SUCCESS", 0) < 6

        _wait_for(server, parent_id, some_ended, "a child ended, not all")
        server.kill()
        server.start()
        _check_end(server, parent_id, 6)


def test_a_sigkill_while_the_split_runs_splits_again_once(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        assert server.deploy(CHILD)["__typename"] == "Flow"
        source = PARENT.format(lines=300_000, rows=100_000)
        assert server.deploy(source)["__typename"] == "Flow"
        parent_id = server.create(NAMESPACE, "parent")

        def splitting(runs: dict[str, dict[str, Any]]) -> bool:
            return "each_split" in runs

        _wait_for(server, parent_id, splitting, "each_split")
        server.kill()
        server.start()
        _check_end(server, parent_id, 3)
        split = _runs(server, parent_id)["each_split"]
        assert split["state"]["current"] == "SUCCESS"
