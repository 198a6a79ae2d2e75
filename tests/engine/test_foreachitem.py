"""ForEachItem (semantics.md#foreachitem), after Kestra's ForEachItemCaseTest: the items file
is a real file in internal storage (written by a shell task's outputFiles), each batch a real
file, each child a real execution of the subflow."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from tests.engine.conftest import (
    Doc,
    Harness,
    flow_yaml,
    log_messages,
    micros,
    run_of,
    states_of,
    with_engine,
)

from tercel.engine import files, service
from tercel.engine.flows import loader
from tercel.engine.flows.validation import FlowValidationError

C, R, S, F = "CREATED", "RUNNING", "SUCCESS", "FAILED"
SUBFLOW = """
id: for-each-item-subflow
namespace: t.engine.items
inputs:
  - id: items
    type: FILE
  - id: fail
    type: BOOLEAN
    defaults: false
tasks:
  - id: per-item
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - 'printf "%s" "{{ read(inputs.items) }}" | wc -l'
  - id: maybe
    type: io.kestra.plugin.core.execution.Fail
    condition: "{{ inputs.fail }}"
"""


def parent(
    lines: int, extra: str = "", rows: str = "4", fail: str = "false", extension: str = ".txt"
) -> str:
    return f"""
    id: for-each-item
    namespace: t.engine.items
    tasks:
      - id: make
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - 'seq 1 {lines} > items{extension}'
        outputFiles:
          - items{extension}
      - id: each
        type: io.kestra.plugin.core.flow.ForEachItem
        items: "{{{{ outputs.make.outputFiles['items{extension}'] }}}}"
        batch:
          rows: "{rows}"
        namespace: t.engine.items
        flowId: for-each-item-subflow
        inputs:
          items: "{{{{ taskrun.items }}}}"
          fail: {fail}
    {extra}
    """


async def children_of(h: Harness, doc: dict[str, Any]) -> list[dict[str, Any]]:
    plan_children = [row[0] for row in _child_ids(h, doc["id"])]
    return [await h.wait(child_id) for child_id in plan_children]


def _child_ids(h: Harness, parent_id: str) -> list[tuple[str]]:
    from tests.engine.conftest import db_rows

    return db_rows(
        h.db_path,
        "SELECT id FROM executions WHERE id != ? AND flow_id = 'for-each-item-subflow'"
        " ORDER BY json_extract(inputs, '$.items')",
        parent_id,
    )


def read_text(h: Harness, uri: str) -> str:
    with h.engine.files.open(uri, files.segments(uri)[:-1]) as handle:
        return handle.read().decode()


def test_for_each_item_one_child_per_batch(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        await h.deploy(SUBFLOW)
        doc = await h.run(parent(10), timeout=30)
        assert doc["state"]["current"] == S
        assert [run["taskId"] for run in doc["taskRunList"]] == [
            "make",
            "each",
            "each_split",
            "each_items",
            "each_merge",
        ]
        assert states_of(run_of(doc, "each")["state"]) == [C, R, S]
        each = run_of(doc, "each_items")
        assert each["parentTaskRunId"] == run_of(doc, "each")["id"]
        assert states_of(each["state"]) == [C, R, S]
        assert each["outputs"]["numberOfBatches"] == 3
        iterations = each["outputs"]["iterations"]
        assert iterations == {"CREATED": 0, "RUNNING": 0, "SUCCESS": 3}
        # the subflow has no flow outputs: nothing to merge
        assert "subflowOutputs" not in (run_of(doc, "each_merge").get("outputs") or {})
        children = await children_of(h, doc)
        assert len(children) == 3
        batches = [read_text(h, child["inputs"]["items"]) for child in children]
        assert batches == ["1\n2\n3\n4\n", "5\n6\n7\n8\n", "9\n10\n"]
        for child in children:
            assert child["state"]["current"] == S
            assert child["inputs"]["items"].startswith(
                f"kestra:///t/engine/items/for-each-item/executions/{doc['id']}/tasks/each-split/"
            )
            assert child["inputs"]["items"].endswith(".txt")  # the extension of items.txt
            labels = {lb["key"]: lb["value"] for lb in child["labels"]}
            assert labels["system.correlationId"] == doc["id"]
            assert child["trigger"]["variables"]["executionId"] == doc["id"]

    run_engine(body)


def test_for_each_item_empty_items(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        await h.deploy(SUBFLOW)
        doc = await h.run(parent(0), timeout=30)
        assert doc["state"]["current"] == S
        assert states_of(run_of(doc, "each")["state"]) == [C, R, S]
        each = run_of(doc, "each_items")
        assert states_of(each["state"]) == [C, R, S]
        assert each.get("outputs") is None
        assert _child_ids(h, doc["id"]) == []

    run_engine(body)


def test_for_each_item_no_wait_ends_once_children_are_created(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        await h.deploy(SUBFLOW)
        doc = await h.run(
            parent(5, rows="2").replace("fail: false", "fail: false\n        wait: false"),
            timeout=30,
        )
        assert doc["state"]["current"] == S
        each = run_of(doc, "each_items")
        assert each["outputs"]["numberOfBatches"] == 3
        assert each["outputs"]["iterations"] == {"RUNNING": 0, "SUCCESS": 3}
        children = await children_of(h, doc)
        assert [child["state"]["current"] for child in children] == [S, S, S]
        # the parent did not wait: it ended before the last child ended
        assert doc["state"]["endDate"] < max(c["state"]["endDate"] for c in children)

    run_engine(body)


def test_for_each_item_failed_child_fails_the_task_run(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        await h.deploy(SUBFLOW)
        doc = await h.run(parent(10, fail="true"), timeout=30)
        assert doc["state"]["current"] == F
        assert states_of(run_of(doc, "each")["state"]) == [C, R, F]
        each = run_of(doc, "each_items")
        assert states_of(each["state"]) == [C, R, F]
        assert each["outputs"]["iterations"] == {"CREATED": 0, "RUNNING": 0, "FAILED": 3}
        assert "each_merge" not in [run["taskId"] for run in doc["taskRunList"]]

    run_engine(body)


def test_for_each_item_transmit_failed_false_succeeds(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        await h.deploy(SUBFLOW)
        source = parent(3, fail="true").replace(
            "fail: true", "fail: true\n        transmitFailed: false"
        )
        doc = await h.run(source, timeout=30)
        assert doc["state"]["current"] == S
        assert run_of(doc, "each_items")["outputs"]["iterations"]["FAILED"] == 1

    run_engine(body)


def test_for_each_item_bad_rows_or_items_fail_the_task_run_with_no_child(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        await h.deploy(SUBFLOW)
        zero = parent(3, rows="{{ 1 - 1 }}")
        doc = await h.run(zero, timeout=30)
        assert doc["state"]["current"] == F
        assert "batch.rows must be a whole number of at least 1, got `0`" in " ".join(
            log_messages(h.db_path, doc["id"])
        )
        missing = parent(3).replace(
            "outputs.make.outputFiles['items.txt']",
            "'kestra:///t/engine/items/for-each-item/executions/nope/x.txt'",
        )
        doc = await h.run(
            missing.replace("id: for-each-item\n", "id: for-each-item\n", 1), timeout=30
        )
        assert doc["state"]["current"] == F
        assert (
            "items: `kestra:///t/engine/items/for-each-item/executions/nope/x.txt`"
            " is not a file of this execution" in " ".join(log_messages(h.db_path, doc["id"]))
        )
        assert _child_ids(h, "") == []

    run_engine(body)


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ("bytes: ten", "batch.bytes must be a size such as 10MB, got `ten` (line 14, column 14)"),
        ("bytes: 0KB", "batch.bytes must be at least 1 byte, got `0KB` (line 14, column 14)"),
        (
            "partitions: 0",
            "batch.partitions must be a whole number of at least 1, got `0` (line 14, column 19)",
        ),
        (
            "rows: 0",
            "batch.rows must be a whole number of at least 1, got `0` (line 14, column 13)",
        ),
        (
            "rows: four",
            "batch.rows must be a whole number of at least 1, got `four` (line 14, column 13)",
        ),
        ("rowz: 2", "tasks[1].batch.rowz: unknown property `rowz` (line 14, column 7)"),
    ],
)
def test_for_each_item_bad_batch_is_refused_with_its_place(batch: str, message: str) -> None:
    source = flow_yaml(parent(3).replace('rows: "4"', batch))
    with pytest.raises(FlowValidationError) as refused:
        loader.load_flow(source)
    assert message in str(refused.value)


def test_for_each_item_needs_items_namespace_and_flow_id() -> None:
    source = flow_yaml(
        parent(3).replace("        namespace: t.engine.items\n        flowId", "        flowId")
    )
    with pytest.raises(FlowValidationError) as refused:
        loader.load_flow(source)
    assert "tasks[1].namespace: is required" in str(refused.value)


SLOW_AFTER_FIRST = """
id: for-each-item-subflow
namespace: t.engine.items
inputs:
  - id: items
    type: FILE
  - id: nap
    type: STRING
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: "{{ inputs.nap }}"
"""


def test_a_waiting_for_each_item_survives_an_engine_restart(db_path: Path) -> None:
    source = parent(3, rows="1").replace("fail: false", "nap: PT{{ taskrun.iteration - 1 }}S")

    async def first(h: Harness) -> str:
        await h.deploy(SLOW_AFTER_FIRST)
        created = await h.create(await h.deploy(source))

        def one_child_ended(doc: Doc) -> bool:
            each = [run for run in doc["taskRunList"] if run["taskId"] == "each_items"]
            return bool(each) and (each[0].get("outputs") or {}).get("iterations", {}).get(S) == 1

        await h.wait_for(created.id, one_child_ended, what="one child SUCCESS")
        return created.id

    parent_id = asyncio.run(asyncio.wait_for(with_engine(db_path, first), 60))

    async def second(h: Harness) -> None:
        done = await h.wait(parent_id, timeout=30)
        assert done["state"]["current"] == S
        each = run_of(done, "each_items")
        assert states_of(each["state"]) == [C, R, S]
        assert len(each["attempts"]) == 1
        iterations = each["outputs"]["iterations"]
        assert (iterations["CREATED"], iterations[S]) == (0, 3)
        # each child counted once: the task run ended only after the last child ended
        kids = [await h.wait(row[0]) for row in _child_ids(h, parent_id)]
        assert [kid["state"]["current"] for kid in kids] == [S, S, S]
        last = max(micros(kid["state"]["endDate"]) for kid in kids)
        assert micros(each["state"]["endDate"]) >= last

    asyncio.run(asyncio.wait_for(with_engine(db_path, second), 60))


def test_a_kill_of_the_parent_kills_every_child(run_engine: Any) -> None:
    source = parent(2, rows="1").replace("fail: false", "nap: PT30S")

    async def body(h: Harness) -> None:
        await h.deploy(SLOW_AFTER_FIRST)
        created = await h.create(await h.deploy(source))

        def each_running(doc: Doc) -> bool:
            return any(
                run["taskId"] == "each_items" and run["state"]["current"] == R
                for run in doc["taskRunList"]
            )

        await h.wait_for(created.id, each_running, what="each RUNNING")
        await service.kill_execution(h.engine, created.id)
        killed = await h.wait(created.id, timeout=5)
        assert killed["state"]["current"] == "KILLED"
        assert run_of(killed, "each")["state"]["current"] == "KILLED"
        assert run_of(killed, "each_items")["state"]["current"] == "KILLED"
        kids = [await h.wait(row[0], timeout=5) for row in _child_ids(h, created.id)]
        assert [kid["state"]["current"] for kid in kids] == ["KILLED", "KILLED"]

    run_engine(body)


OUTPUTS_SUBFLOW = """
id: for-each-item-subflow
namespace: t.engine.items
inputs:
  - id: items
    type: FILE
  - id: n
    type: INT
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: "PT0.{{ 3 - inputs.n }}S"
outputs:
  - id: batch
    type: STRING
    value: "batch {{ inputs.n }}"
"""


def test_for_each_item_with_subflow_outputs_merges_them_in_batch_order(run_engine: Any) -> None:
    source = parent(5, rows="2").replace("fail: false", 'n: "{{ taskrun.iteration }}"')

    async def body(h: Harness) -> None:
        await h.deploy(OUTPUTS_SUBFLOW)
        doc = await h.run(source, timeout=30)
        assert doc["state"]["current"] == S
        merged = run_of(doc, "each_merge")["outputs"]["subflowOutputs"]
        assert merged.startswith(
            f"kestra:///t/engine/items/for-each-item/executions/{doc['id']}/tasks/each-merge/"
        )
        # the children ended last batch first (shorter naps), the lines stay in batch order
        assert read_text(h, merged) == (
            '{"batch":"batch 1"}\n{"batch":"batch 2"}\n{"batch":"batch 3"}\n'
        )

    run_engine(body)


def test_restarting_a_failed_for_each_item_creates_new_children(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        await h.deploy(SUBFLOW)
        doc = await h.run(parent(3, rows="1", fail="true"), timeout=30)
        assert doc["state"]["current"] == F
        await service.restart_execution(h.engine, doc["id"])
        again = await h.wait_for(
            doc["id"],
            lambda d: d["state"]["current"] == F and "RESTARTED" in states_of(d["state"]),
            timeout=30,
            what="FAILED again after the restart",
        )
        each = run_of(again, "each_items")
        assert each["outputs"]["iterations"] == {"CREATED": 0, "RUNNING": 0, "FAILED": 3}
        assert len(_child_ids(h, doc["id"])) == 6

    run_engine(body)


@pytest.mark.parametrize(
    ("batch", "expected"),
    [
        ("bytes: 6", ["1\n2\n3\n", "4\n5\n6\n", "7\n8\n9\n", "10\n"]),
        ("partitions: 3", ["1\n4\n7\n10\n", "2\n5\n8\n", "3\n6\n9\n"]),
    ],
)
def test_for_each_item_splits_by_bytes_or_partitions(
    run_engine: Any, batch: str, expected: list[str]
) -> None:
    async def body(h: Harness) -> None:
        await h.deploy(SUBFLOW)
        doc = await h.run(parent(10).replace('rows: "4"', batch), timeout=30)
        assert doc["state"]["current"] == S
        assert run_of(doc, "each_items")["outputs"]["numberOfBatches"] == len(expected)
        children = await children_of(h, doc)
        by_iteration = sorted(children, key=lambda c: c["inputs"]["items"])
        assert [read_text(h, c["inputs"]["items"]) for c in by_iteration] == expected

    run_engine(body)


def test_batch_files_keep_the_extension_of_items(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        await h.deploy(SUBFLOW)
        doc = await h.run(parent(2, rows="1", extension=".csv"), timeout=30)
        assert doc["state"]["current"] == S
        uris = [child["inputs"]["items"] for child in await children_of(h, doc)]
        assert [uri.rsplit("/", 1)[-1] for uri in uris] == ["1.csv", "2.csv"]

    run_engine(body)
