"""ForEachItem's three steps (semantics.md#foreachitem): the split off the engine loop, the
`errors` of the ForEachItem, the ids its steps take, an `items` that is no internal-storage
URI."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

import pytest
from tests.engine.conftest import Harness, flow_yaml, log_messages, run_of
from tests.engine.test_foreachitem import SUBFLOW, _child_ids, parent

from tercel.engine import model, service
from tercel.engine.flows import fileinputs, loader
from tercel.engine.flows.validation import FlowValidationError

S, F = "SUCCESS", "FAILED"

LARGE_PARENT = """
id: large
namespace: t.engine.items
inputs:
  - id: file
    type: FILE
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{ inputs.file }}"
    batch:
      rows: 1500000
    namespace: t.engine.items
    flowId: for-each-item-subflow
    inputs:
      items: "{{ taskrun.items }}"
"""
LARGE_CHILD = """
id: for-each-item-subflow
namespace: t.engine.items
inputs:
  - id: items
    type: STRING
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.items }}"
"""


@pytest.mark.timing
def test_splitting_a_large_items_file_leaves_the_engine_loop_free(run_engine: Any) -> None:
    """3,000,000 lines (45 MB): the split reads and writes them on a thread, so the engine
    loop keeps its pace meanwhile. A ticker on the loop records the longest gap between its
    5 ms sleeps; when the split ran in an engine pass that gap was most of the run."""
    data = b"".join(b"item-%09d\n" % n for n in range(3_000_000))

    async def body(h: Harness) -> None:
        await h.deploy(LARGE_CHILD)
        flow = await h.deploy(LARGE_PARENT)
        gaps: list[float] = []
        running = True

        async def tick() -> None:
            last = time.monotonic()
            while running:
                await asyncio.sleep(0.005)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        ticker = asyncio.create_task(tick())
        started = time.monotonic()
        upload = fileinputs.Upload("file", "items.txt", io.BytesIO(data))
        created = await service.create_execution(
            h.engine, flow.namespace, flow.id, {}, uploads=[upload]
        )
        assert isinstance(created, model.Execution), created
        doc = await h.wait(created.id, timeout=120)
        took = time.monotonic() - started
        running = False
        await ticker
        assert max(gaps) < took / 5, f"longest loop gap {max(gaps):.3f} s of {took:.3f} s"
        assert doc["state"]["current"] == S
        assert run_of(doc, "each_items")["outputs"]["numberOfBatches"] == 2

    run_engine(body)


def test_errors_of_a_for_each_item_run_under_it_after_a_failed_items_step(
    run_engine: Any,
) -> None:
    errors = (
        "\n        errors:\n          - id: caught"
        "\n            type: io.kestra.plugin.core.log.Log\n            message: caught"
    )

    async def body(h: Harness) -> None:
        await h.deploy(SUBFLOW)
        doc = await h.run(
            parent(2, rows="1", fail="true").replace("fail: true", "fail: true" + errors),
            timeout=30,
        )
        assert doc["state"]["current"] == F
        order = [run["taskId"] for run in doc["taskRunList"]]
        assert order == ["make", "each", "each_split", "each_items", "caught"]
        assert run_of(doc, "caught")["parentTaskRunId"] == run_of(doc, "each")["id"]
        assert run_of(doc, "caught")["state"]["current"] == S

    run_engine(body)


def test_the_ids_of_the_three_steps_are_taken() -> None:
    taken = (
        "      - id: each_merge\n        type: io.kestra.plugin.core.log.Log\n        message: x\n"
    )
    source = flow_yaml(parent(3).replace("      - id: each\n", taken + "      - id: each\n"))
    with pytest.raises(FlowValidationError) as refused:
        loader.load_flow(source)
    assert "duplicate task id `each_merge`" in str(refused.value)


def test_items_that_are_not_an_internal_storage_uri_fail_the_split(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        await h.deploy(SUBFLOW)
        source = parent(3).replace("outputs.make.outputFiles['items.txt']", "'/etc/passwd'")
        doc = await h.run(source, timeout=30)
        assert doc["state"]["current"] == F
        assert run_of(doc, "each_split")["state"]["current"] == F
        assert (
            "Unable to split the items from /etc/passwd, this is not an internal storage URI!"
            in log_messages(h.db_path, doc["id"])
        )
        assert _child_ids(h, doc["id"]) == []

    run_engine(body)
