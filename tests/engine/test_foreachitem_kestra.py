"""Kestra's `ForEachItemCaseTest` (core/src/test/java/io/kestra/plugin/core/flow/), on its own
test flows (tests/fixtures/kestra/for-each-item*.yaml, copied unchanged), with its assertions
(and TaskWithAllowFailureTest / TaskWithAllowWarningTest's `executableTask_ForEachItem`):
the parent's task runs (`each`, `each_split`, `each_items`, `each_merge`), the `_items` task
run's attempt and outputs, and the children (count, state, inputs, labels). The items file is
Kestra's: 102 lines, each a number left-padded to 20 characters; FILE inputs are uploaded as
`createExecution` stores them."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from tests.engine.conftest import Doc, Harness, db_rows, micros

from tercel.engine import files, model, service
from tercel.engine.expressions import guard
from tercel.engine.flows import fileinputs

FLOWS = Path(__file__).parent.parent / "fixtures" / "kestra"
NAMESPACE = "io.kestra.tests"


def content() -> bytes:
    """Kestra's `content()`: IntStream.range(0, 102), StringUtils.leftPad(value, 20)."""
    return "".join(f"{value:>20}\n" for value in range(102)).encode()


async def run_kestra(
    h: Harness, flow_id: str, data: bytes, given: dict[str, Any] | None = None
) -> Doc:
    for name in [*FLOWS.glob("for-each-item*.yaml"), *FLOWS.glob("*-foreachitem.yml")]:
        await service.deploy_flow(h.engine, name.read_text())
    upload = fileinputs.Upload("file", "file.txt", io.BytesIO(data))
    created = await service.create_execution(
        h.engine, NAMESPACE, flow_id, given or {}, uploads=[upload]
    )
    assert isinstance(created, model.Execution), created
    return await h.wait(created.id, timeout=60)


async def children(h: Harness, parent_id: str, flow_id: str) -> list[Doc]:
    """The parent's child executions once all ended, the last one to end last."""
    rows = db_rows(h.db_path, "SELECT id FROM executions WHERE flow_id = ?", flow_id)
    found = [await h.wait(row[0], timeout=60) for row in rows]
    ended = [doc for doc in found if doc["trigger"]["variables"]["executionId"] == parent_id]
    return sorted(ended, key=lambda doc: micros(doc["state"]["endDate"]))


def check_last(kids: list[Doc], state: str, flow_id: str, parent_flow_id: str) -> Doc:
    """Kestra's assertions on the last subflow execution to end."""
    last = kids[-1]
    assert last["state"]["current"] == state
    assert last["flowId"] == flow_id
    pattern = f"kestra:///io/kestra/tests/{parent_flow_id}/executions/.*/tasks/each-split/.*\\.txt"
    assert re.fullmatch(pattern, last["inputs"]["items"]), last["inputs"]["items"]
    assert len(last["taskRunList"]) == 1
    return last


def items_run(doc: Doc, state: str) -> dict[str, Any]:
    """`execution.getTaskRunList().get(2)`: one attempt, in `state`; its outputs."""
    run = doc["taskRunList"][2]
    assert len(run["attempts"]) == 1
    assert run["attempts"][0]["state"]["current"] == state
    outputs: dict[str, Any] = run["outputs"]
    assert outputs["numberOfBatches"] == 26
    assert outputs["iterations"] is not None
    return outputs


def test_for_each_item(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        doc = await run_kestra(h, "for-each-item", content(), {"batch": 4})
        kids = await children(h, doc["id"], "for-each-item-subflow")
        assert len(kids) == 26
        assert len(doc["taskRunList"]) == 4
        assert doc["state"]["current"] == "SUCCESS"
        iterations = items_run(doc, "SUCCESS")["iterations"]
        assert (iterations["CREATED"], iterations["RUNNING"], iterations["SUCCESS"]) == (0, 0, 26)
        last = check_last(kids, "SUCCESS", "for-each-item-subflow", "for-each-item")
        labels = {label["key"]: label["value"] for label in last["labels"]}
        assert labels["system.correlationId"] == doc["id"]

    run_engine(body)


def test_for_each_item_empty_items(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        doc = await run_kestra(h, "for-each-item", b"", {"batch": 4})
        assert len(doc["taskRunList"]) == 4
        assert doc["state"]["current"] == "SUCCESS"
        assert doc["taskRunList"][2].get("outputs") is None

    run_engine(body)


def test_for_each_item_no_wait(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        doc = await run_kestra(h, "for-each-item-no-wait", content())
        assert len(doc["taskRunList"]) == 4
        assert doc["state"]["current"] == "SUCCESS"
        iterations = items_run(doc, "SUCCESS")["iterations"]
        assert "CREATED" not in iterations  # not waiting, only RUNNING and SUCCESS are seen
        assert (iterations["RUNNING"], iterations["SUCCESS"]) == (0, 26)
        kids = await children(h, doc["id"], "for-each-item-subflow")
        assert len(kids) == 26
        # Kestra's racy "not all subflows ran" made exact: `_items` ended before any child did
        items_end = micros(doc["taskRunList"][2]["state"]["endDate"])
        assert items_end < micros(kids[0]["state"]["endDate"])
        check_last(kids, "SUCCESS", "for-each-item-subflow", "for-each-item-no-wait")

    run_engine(body)


def test_for_each_item_failed(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        doc = await run_kestra(h, "for-each-item-failed", content())
        kids = await children(h, doc["id"], "for-each-item-subflow-failed")
        assert len(kids) == 26
        assert len(doc["taskRunList"]) == 3  # no `each_merge` after a failed `each_items`
        assert doc["state"]["current"] == "FAILED"
        iterations = items_run(doc, "FAILED")["iterations"]
        assert (iterations["CREATED"], iterations["RUNNING"], iterations["FAILED"]) == (0, 0, 26)
        check_last(kids, "FAILED", "for-each-item-subflow-failed", "for-each-item-failed")

    run_engine(body)


def test_for_each_item_with_subflow_outputs(
    run_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 26 children render `read(inputs.items)` at once, in the one render process
    monkeypatch.setattr(guard, "DEADLINE_SECONDS", 10.0)  # a loaded machine never fails them

    async def body(h: Harness) -> None:
        doc = await run_kestra(h, "for-each-item-outputs", content())
        kids = await children(h, doc["id"], "for-each-item-outputs-subflow")
        assert len(kids) == 26
        assert len(doc["taskRunList"]) == 5
        assert doc["state"]["current"] == "SUCCESS"
        iterations = items_run(doc, "SUCCESS")["iterations"]
        assert (iterations["CREATED"], iterations["RUNNING"], iterations["SUCCESS"]) == (0, 0, 26)
        check_last(kids, "SUCCESS", "for-each-item-outputs-subflow", "for-each-item-outputs")
        merged = doc["taskRunList"][3]["outputs"]["subflowOutputs"]
        assert merged is not None
        with h.engine.files.open(merged, files.segments(merged)[:-1]) as handle:
            assert len(handle.read().decode().splitlines()) == 26  # one line per subflow
        # beyond Kestra's assertions: the lines are the batches in order, and `return` read it
        first = '{"value":"' + "".join(f"{v:>20}\\n" for v in range(4)) + '"}'
        with h.engine.files.open(merged, files.segments(merged)[:-1]) as handle:
            assert handle.read().decode().splitlines()[0] == first
        assert doc["taskRunList"][4]["outputs"]["value"] == merged

    run_engine(body)


def test_allow_failure_on_for_each_item(run_engine: Any) -> None:
    """TaskWithAllowFailureTest.executableTask_ForEachItem (10 items: 3 failed children)."""

    async def body(h: Harness) -> None:
        items = "".join(f"{value:>20}\n" for value in range(10)).encode()
        doc = await run_kestra(h, "task-allow-failure-executable-foreachitem", items)
        assert doc["state"]["current"] == "WARNING"
        assert len(doc["taskRunList"]) == 4  # each, each_split, each_items, log-allowed

    run_engine(body)


def test_allow_warning_on_for_each_item(run_engine: Any) -> None:
    """TaskWithAllowWarningTest.executableTask_ForEachItem."""

    async def body(h: Harness) -> None:
        items = "".join(f"{value:>20}\n" for value in range(10)).encode()
        doc = await run_kestra(h, "task-allow-warning-executable-foreachitem", items)
        assert doc["state"]["current"] == "SUCCESS"
        assert len(doc["taskRunList"]) == 4

    run_engine(body)
