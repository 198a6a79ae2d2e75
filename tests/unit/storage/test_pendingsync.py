"""`LocalFiles.sync`: what `put` wrote is flushed there, all at once (storage/pendingsync.py).
os.fsync is wrapped to see what is flushed; the files are real files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from tests.unit.storage.flushes import Flushes

from tercel.engine import files as uris
from tercel.storage.files import LocalFiles


def _uri(execution: str, name: str) -> str:
    return uris.task_uri("company.team", "hello", execution, "t1", "TR1", name)


def _path(root: Path, uri: str) -> Path:
    return root.joinpath(*uris.segments(uri))


def test_put_leaves_the_flush_to_sync_which_flushes_files_and_new_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushes = Flushes(monkeypatch)
    store = LocalFiles(str(tmp_path / "files"))
    written = [_uri("EX1", f"{n}.txt") for n in range(20)]
    for uri in written:
        store.put(uri, io.BytesIO(b"row\n"))
    assert flushes.synced == set()
    store.sync()
    root = tmp_path / "files"
    for uri in written:
        path = _path(root, uri)
        assert flushes.has(path), path
        for folder in path.relative_to(root).parents:  # every folder made on the way
            assert flushes.has(root / folder), folder
    before = set(flushes.synced)
    store.sync()  # nothing new: nothing flushed again
    assert flushes.synced == before


def test_a_flush_that_fails_is_tried_again_by_the_next_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushes = Flushes(monkeypatch, failures=1)
    store = LocalFiles(str(tmp_path / "files"))
    uris_ = [_uri("EX1", f"{n}.txt") for n in range(5)]
    for uri in uris_:
        store.put(uri, io.BytesIO(b"row\n"))
    with pytest.raises(OSError, match="I/O error"):
        store.sync()
    store.sync()
    assert all(flushes.has(_path(tmp_path / "files", uri)) for uri in uris_)


def test_a_file_removed_before_the_flush_needs_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushes = Flushes(monkeypatch)
    store = LocalFiles(str(tmp_path / "files"))
    gone, kept = _uri("EX1", "a.txt"), _uri("EX2", "b.txt")
    store.put(gone, io.BytesIO(b"a"))
    store.put(kept, io.BytesIO(b"b"))
    assert store.delete_execution("company.team", "hello", "EX1") == 1
    store.sync()
    assert flushes.has(_path(tmp_path / "files", kept))
    assert not _path(tmp_path / "files", gone).exists()
