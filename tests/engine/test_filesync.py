"""Files of internal storage are flushed to disk by the writer right before each commit
(docs/semantics.md#files, "Durable before referenced"), never by the engine loop: a
ForEachItem writes a file per batch and per child's outputs inside its passes, and one fsync
each there held the loop (82% of its wall time in the 1,000-children bench at load ~10).

os.fsync is wrapped to record which thread flushed which file; the files are real files on
disk and the engine a real engine on a SQLite file."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.engine.conftest import Harness, run_of
from tests.unit.storage.flushes import Flushes

from tercel.engine import model, service
from tercel.engine.flows import fileinputs

CHILD = """
id: item
namespace: t.engine.filesync
inputs:
  - id: items
    type: FILE
tasks:
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.items }}"
outputs:
  - id: batch
    type: STRING
    value: "{{ outputs.ret.value }}"
"""
PARENT = """
id: fan
namespace: t.engine.filesync
inputs:
  - id: data
    type: FILE
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{ inputs.data }}"
    batch:
      rows: 1
    namespace: t.engine.filesync
    flowId: item
    inputs:
      items: "{{ taskrun.items }}"
"""
BATCHES = 30


async def _fan_out(h: Harness, created_then: Callable[[], None] = lambda: None) -> dict[str, Any]:
    await h.deploy(CHILD)
    flow = await h.deploy(PARENT)
    rows = "".join(f"row {n}\n" for n in range(1, BATCHES + 1)).encode()
    upload = fileinputs.Upload("data", "rows.txt", io.BytesIO(rows))
    created = await service.create_execution(
        h.engine, flow.namespace, flow.id, {}, uploads=[upload]
    )
    assert isinstance(created, model.Execution), created
    created_then()
    return await h.wait(created.id, timeout=60)


def test_the_engine_loop_never_waits_on_a_disk_flush(
    run_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushes = Flushes(monkeypatch)
    loop_thread = threading.get_ident()  # asyncio.run runs the engine loop on this thread

    async def body(h: Harness) -> None:
        doc = await _fan_out(h)
        assert doc["state"]["current"] == "SUCCESS"
        assert run_of(doc, "each_items")["outputs"]["iterations"]["SUCCESS"] == BATCHES

    run_engine(body)
    assert flushes.threads, "nothing was flushed at all"
    on_loop = flushes.threads.count(loop_thread)
    assert on_loop == 0, f"{on_loop} of {len(flushes.threads)} fsyncs held the engine loop"


def _unsynced(root: Path, synced: set[tuple[int, int]]) -> list[str]:
    """Every file and folder under `root` (not `root`, nor a temporary file) not flushed."""
    missing = []
    for path in root.rglob("*"):
        if path.name.startswith(".tmp-"):
            continue
        found = path.stat()
        if (found.st_dev, found.st_ino) not in synced:
            missing.append(str(path.relative_to(root)))
    return missing


def test_every_stored_file_is_flushed_before_the_next_commit(
    run_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushes = Flushes(monkeypatch)
    commits: list[list[str]] = []

    async def body(h: Harness) -> None:
        db = h.engine.db
        commit = db.commit
        root = Path(h.engine.files.root)  # type: ignore[attr-defined]

        def checked(changes: Any) -> None:
            commits.append(_unsynced(root, flushes.synced) if root.exists() else [])
            commit(changes)

        monkeypatch.setattr(db, "commit", checked)
        doc = await _fan_out(h)
        assert doc["state"]["current"] == "SUCCESS"
        merged = run_of(doc, "each_merge")["outputs"]["subflowOutputs"]
        assert merged.endswith("/outputs.ion")

    run_engine(body)
    assert len(commits) > 3
    assert [found for found in commits if found] == []


def test_a_flush_that_fails_holds_the_commit_which_is_retried(
    run_engine: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    flushes = Flushes(monkeypatch)

    def failing() -> None:  # after the upload's journal mark, which is synced at once
        flushes.failures = 3

    async def body(h: Harness) -> None:
        doc = await _fan_out(h, failing)
        assert doc["state"]["current"] == "SUCCESS"
        assert run_of(doc, "each_items")["outputs"]["iterations"]["SUCCESS"] == BATCHES

    run_engine(body)
    assert flushes.failures == 0
    assert "commit failed, retrying: files: [Errno 5] I/O error" in capfd.readouterr().err
