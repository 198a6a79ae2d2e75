"""The journal of executions whose files are stored before their row commits, and the sweep
at engine start that removes the folders of those never committed, over real files
(docs/semantics.md#files)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from pathlib import Path

from tercel.engine import files as uris
from tercel.engine.runtime.filesweep import sweep_pending
from tercel.storage.files import LocalFiles


def _store(storage: LocalFiles, execution_id: str) -> str:
    uri = uris.input_uri("company.team", "flow", execution_id, "data", "rows.csv")
    storage.put(uri, io.BytesIO(b"rows"))
    return uri


def _existing(ids: set[str]) -> Callable[[list[str]], Awaitable[set[str]]]:
    async def existing(asked: list[str]) -> set[str]:
        return ids & set(asked)

    return existing


def test_only_marked_executions_without_a_row_are_swept(tmp_path: Path) -> None:
    storage = LocalFiles(str(tmp_path / "files"))
    for execution_id in ("NEVER", "COMMITTED"):
        storage.mark_pending("company.team", "flow", execution_id)
        _store(storage, execution_id)
    _store(storage, "KEPT")  # deleted with deleteStorage: false: no row, no mark
    assert storage.pending() == [
        ("company.team", "flow", "COMMITTED"),
        ("company.team", "flow", "NEVER"),
    ]
    removed = asyncio.run(sweep_pending(storage, _existing({"COMMITTED"})))
    assert removed == 1
    folders = tmp_path / "files/company/team/flow/executions"
    assert sorted(p.name for p in folders.iterdir()) == ["COMMITTED", "KEPT"]
    assert storage.pending() == []


def test_a_cleared_mark_is_never_swept(tmp_path: Path) -> None:
    storage = LocalFiles(str(tmp_path / "files"))
    storage.mark_pending("company.team", "flow", "DONE")
    _store(storage, "DONE")
    storage.clear_pending("DONE")
    storage.clear_pending("NEVER_MARKED")
    assert asyncio.run(sweep_pending(storage, _existing(set()))) == 0
    assert (tmp_path / "files/company/team/flow/executions/DONE").is_dir()


def test_unreadable_marks_and_a_linked_journal_are_left_alone(tmp_path: Path) -> None:
    storage = LocalFiles(str(tmp_path / "files"))
    storage.mark_pending("company.team", "flow", "E1")
    journal = tmp_path / "files/.pending"
    (journal / "garbage").write_text("{not json")
    (journal / "list").write_text("[1, 2]")
    assert storage.pending() == [("company.team", "flow", "E1")]
    assert sorted(p.name for p in journal.iterdir()) == ["E1"]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "E2").write_text('{"namespace": "company.team", "flowId": "flow"}')
    other = LocalFiles(str(tmp_path / "other"))
    (tmp_path / "other").mkdir()
    (tmp_path / "other/.pending").symlink_to(outside)
    assert other.pending() == []
    assert (outside / "E2").exists()
