"""ForEachItem over 10,000 rows into 1,000 subflow executions (#15 item 5), end to end.

A `python -m tercel server` subprocess on a fresh SQLite file (default settings) gets a child
flow (one FILE input, one Return task) and a parent flow whose only task is a ForEachItem over
its FILE input with `batch: {rows: 10}`, `wait: true`, `transmitFailed: true`. This process
uploads a file of 10,000 lines with `createExecution` (the GraphQL multipart request), while a
thread sends `{ __typename }` every 20 ms, and polls the parent until it ends.

The figure is the parent's own state history: its CREATED date to its SUCCESS date (the upload
before the creation is not counted). Also recorded: subflow executions/s over that time, the
children's span (the first child's CREATED to the last child's end, from their histories), the
probe's latencies meanwhile, the server's CPU time and its peak RSS (VmHWM, the whole life of
the process). The second scenario gives the child a flow output, so the parent merges 1,000
outputs into the file named by a `subflowOutputs` output (read back over HTTP and counted).
Nothing here reads task-run counts or ids: it holds whether ForEachItem is one task run or
Kestra's `_split`/`_items`/`_merge`.

Run: `python -m bench --only foreachitem` (3 runs per scenario, median with min-max), or one
run of each: `python -m bench.foreachitem`.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench import api
from bench.bulk import _post, _probe, median_entry
from bench.output import _status_kib

NAMESPACE = "bench.items"
ROWS = 10_000
BATCH_ROWS = 10
CHILDREN = ROWS // BATCH_ROWS
TERMINAL = ("SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED")
CHILD = f"""id: item
namespace: {NAMESPACE}
inputs:
  - id: items
    type: FILE
tasks:
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{{{ inputs.items }}}}"
"""
CHILD_OUTPUT = """outputs:
  - id: batch
    type: STRING
    value: "{{ outputs.ret.value }}"
"""
PARENT = f"""id: fan
namespace: {NAMESPACE}
inputs:
  - id: data
    type: FILE
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{{{ inputs.data }}}}"
    batch:
      rows: {BATCH_ROWS}
    namespace: {NAMESPACE}
    flowId: item
    wait: true
    transmitFailed: true
    inputs:
      items: "{{{{ taskrun.items }}}}"
"""
CREATE = """mutation($files: [FileInput!]) {
  createExecution(namespace: "bench.items", flowId: "fan", files: $files) {
    __typename ... on Execution { id } ... on Error { message } } }"""
STATE = """query($id: ID!) { execution(id: $id) { state { current histories { state date } }
  taskRunList { taskId state { current } outputs } } }"""
CHILDREN_PAGE = """query($after: String) {
  executions(filter: {namespaceEquals: "bench.items", flowId: "item"}, first: 100,
             after: $after) {
    edges { node { state { current histories { state date } } } }
    pageInfo { hasNextPage endCursor } } }"""


def rows_file() -> bytes:
    return "".join(f"row {i}\n" for i in range(1, ROWS + 1)).encode()


def _create(client: httpx.Client) -> str:
    """The parent's id, its FILE input uploaded as a multipart request part."""
    operations = {"query": CREATE, "variables": {"files": [{"name": "data", "file": None}]}}
    response = client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.files.0.file"]}),
        },
        files={"0": ("rows.txt", rows_file(), "text/plain")},
        headers={"Apollo-Require-Preflight": "true"},
    )
    created = api._data(response)["createExecution"]
    if created["__typename"] != "Execution":
        raise RuntimeError(f"createExecution: {created}")
    execution_id: str = created["id"]
    return execution_id


def _wait_terminal(client: httpx.Client, execution_id: str) -> dict[str, Any]:
    while True:
        found: dict[str, Any] = _post(client, STATE, {"id": execution_id})["execution"]
        if found["state"]["current"] in TERMINAL:
            return found
        time.sleep(0.1)


def _children(client: httpx.Client) -> list[dict[str, Any]]:
    """Every child's state, from the paged executions list."""
    found: list[dict[str, Any]] = []
    after = None
    while True:
        page = _post(client, CHILDREN_PAGE, {"after": after})["executions"]
        found += [edge["node"]["state"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def _created_to_end_s(histories: list[dict[str, Any]]) -> tuple[float, float]:
    """(CREATED date, last date) of one state history, in epoch seconds."""
    return api._parse(histories[0]["date"]), api._parse(histories[-1]["date"])


def _merged_lines(client: httpx.Client, parent: dict[str, Any], execution_id: str) -> int | None:
    """Lines of the file a task run's `subflowOutputs` names (whichever task run has it)."""
    uri = next(
        (
            run["outputs"]["subflowOutputs"]
            for run in parent["taskRunList"]
            if (run.get("outputs") or {}).get("subflowOutputs")
        ),
        None,
    )
    if uri is None:
        return None
    response = client.get(f"/api/v1/executions/{execution_id}/file", params={"path": uri})
    response.raise_for_status()
    return len(response.content.splitlines())


def one_run(with_outputs: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tercel-items-") as folder:
        db_path = str(Path(folder) / "items.db")
        with (
            api.running_server(db_path) as server,
            httpx.Client(base_url=server.url, timeout=120) as client,
        ):
            api.deploy(client, CHILD + (CHILD_OUTPUT if with_outputs else ""))
            api.deploy(client, PARENT)
            latencies: list[float] = []
            stop = threading.Event()
            prober = threading.Thread(target=_probe, args=(server.url, stop, latencies))
            prober.start()
            time.sleep(0.2)
            sent, cpu = time.perf_counter(), server.cpu_s()
            parent_id = _create(client)
            parent = _wait_terminal(client, parent_id)
            seen_s, cpu = time.perf_counter() - sent, server.cpu_s() - cpu
            stop.set()
            prober.join()
            peak_kib = _status_kib(server.pid, "VmHWM")
            children = _children(client)
            merged = _merged_lines(client, parent, parent_id) if with_outputs else None
    if parent["state"]["current"] != "SUCCESS":
        raise RuntimeError(f"the parent ended {parent['state']['current']}: {parent}")
    created, ended = _created_to_end_s(parent["state"]["histories"])
    spans = [_created_to_end_s(child["histories"]) for child in children]
    took = ended - created
    return {
        "s": took,
        "children": len(children),
        "children_success": sum(child["current"] == "SUCCESS" for child in children),
        "subflow_executions_per_s": len(children) / took,
        "children_span_s": max(end for _, end in spans) - min(start for start, _ in spans),
        "merged_lines": merged,
        "client_seen_s": seen_s,
        "server_cpu_s": cpu,
        "peak_rss_mib": peak_kib / 1024,
        "loadavg": os.getloadavg()[0],
        "probe_p50_ms": statistics.median(latencies),
        "probe_p99_ms": sorted(latencies)[int(len(latencies) * 0.99) - 1],
        "probe_max_ms": max(latencies),
        "probes": len(latencies),
    }


def _line(name: str, run: dict[str, Any]) -> str:
    merged = (
        f"; the merged `subflowOutputs` file held {run['merged_lines']:,} lines"
        if run.get("merged_lines") is not None
        else ""
    )
    return (
        f"{name}: {run['median']:.1f} s median [{run['min']:.1f}-{run['max']:.1f}] "
        f"({run['runs']} runs); median run: {run['children_success']:,} of "
        f"{run['children']:,} children SUCCESS, {run['subflow_executions_per_s']:.0f} subflow "
        f"executions/s, children's span {run['children_span_s']:.1f} s, server CPU "
        f"{run['server_cpu_s']:.1f} s, peak RSS {run['peak_rss_mib']:.0f} MiB, "
        f"`{{ __typename }}` every 20 ms p50 {run['probe_p50_ms']:.0f} ms, p99 "
        f"{run['probe_p99_ms']:.0f} ms, max {run['probe_max_ms']:.0f} ms "
        f"({run['probes']} probes){merged}; 1-minute load average {run['loadavg_start']:.1f} "
        f"at the start, {run['loadavg_end']:.1f} at the end"
    )


def report_lines(scenarios: dict[str, Any]) -> list[str]:
    """The prose line of RESULTS.md for these scenarios."""
    found = [
        _line(label, scenarios[name])
        for name, label in (
            ("foreachitem_10000_rows", "Child without outputs"),
            ("foreachitem_10000_rows_outputs", "Child with a flow output, merged"),
        )
        if "probe_p99_ms" in scenarios.get(name, {})
    ]
    if not found:
        return []
    return [
        "",
        "ForEachItem (bench/foreachitem.py, `python -m bench --only foreachitem`): a FILE input "
        f"of {ROWS:,} lines, `batch: {{rows: {BATCH_ROWS}}}`, `wait: true`, `transmitFailed: "
        f"true` -> {CHILDREN:,} subflow executions of a one-Return-task flow, in a `python -m "
        "tercel server` subprocess; the parent's CREATED to its SUCCESS from its state "
        "history. " + ". ".join(found) + " (2 cores shared with other work).",
    ]


def scenarios(repeat: int) -> dict[str, dict[str, Any]]:
    return {
        "foreachitem_10000_rows": median_entry(one_run, repeat, CHILDREN),
        "foreachitem_10000_rows_outputs": median_entry(
            lambda: one_run(with_outputs=True), repeat, CHILDREN
        ),
    }


if __name__ == "__main__":
    print(json.dumps({"plain": one_run(), "outputs": one_run(with_outputs=True)}, indent=2))
