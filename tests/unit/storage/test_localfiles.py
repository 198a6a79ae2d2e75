"""Internal storage on disk: durable writes, scopes, and every path trick refused
(docs/semantics.md#files)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from tercel.engine import files as uris
from tercel.engine.files import FileMissing, FileRefused
from tercel.storage.files import LocalFiles, default_folder

SCOPE = uris.execution_prefix("company.team", "hello", "EX1")
OTHER = uris.execution_prefix("company.team", "hello", "EX2")


def _store(tmp_path: Path) -> LocalFiles:
    return LocalFiles(str(tmp_path / "db.sqlite.files"))


def _uri(name: str = "out.txt") -> str:
    return uris.task_uri("company.team", "hello", "EX1", "t1", "TR1", name)


def test_default_folder_is_beside_the_database(tmp_path: Path) -> None:
    assert default_folder(str(tmp_path / "x.db")) == str(tmp_path / "x.db") + ".files"


def test_uris_follow_kestra() -> None:
    assert _uri() == "kestra:///company/team/hello/executions/EX1/tasks/t1/TR1/out.txt"
    uri = uris.input_uri("a.b", "f", "E", "data", "../../my file.csv")
    assert uri == "kestra:///a/b/f/executions/E/inputs/data/my%20file.csv"
    assert uris.segments(uri)[-1] == "my file.csv"


def test_put_then_open_round_trips_and_leaves_no_temporary(tmp_path: Path) -> None:
    store = _store(tmp_path)
    assert store.put(_uri("sub/out.txt"), io.BytesIO(b"hello")) == 5
    with store.open(_uri("sub/out.txt"), SCOPE) as handle:
        assert handle.read() == b"hello"
    assert list(store.under(SCOPE)) == [_uri("sub/out.txt")]
    folder = tmp_path / "db.sqlite.files/company/team/hello/executions/EX1/tasks/t1/TR1/sub"
    assert sorted(os.listdir(folder)) == ["out.txt"]
    assert store.size(_uri("sub/out.txt"), SCOPE) == 5


def test_a_file_named_like_a_temporary_is_listed_like_any_other(tmp_path: Path) -> None:
    """Only `put`'s own temporary names are hidden: `.tmp-report.csv` was stored, then left
    out of every listing (files of an execution, a namespace's folder)."""
    store = _store(tmp_path)
    store.put(_uri(".tmp-report.csv"), io.BytesIO(b"a"))
    (
        tmp_path
        / "db.sqlite.files/company/team/hello/executions/EX1/tasks/t1/TR1/.tmp-0123456789abcdef"
    ).write_bytes(b"")
    assert list(store.under(SCOPE)) == [_uri(".tmp-report.csv")]
    folder = ("company", "team", "hello", "executions", "EX1", "tasks", "t1", "TR1")
    assert [entry.name for entry in store.listing(folder)] == [".tmp-report.csv"]


def test_a_file_of_another_execution_is_refused(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.put(_uri(), io.BytesIO(b"x"))
    with pytest.raises(FileRefused, match="not a file of this execution"):
        store.open(_uri(), OTHER)


def test_a_missing_file_is_missing(tmp_path: Path) -> None:
    with pytest.raises(FileMissing):
        _store(tmp_path).open(_uri("nothing"), SCOPE)


TRICKS = [
    "kestra:///company/team/hello/executions/EX1/../EX2/tasks/t1/TR1/out.txt",
    "kestra:///company/team/hello/executions/EX1/%2e%2e/EX2/tasks/t1/TR1/out.txt",
    "kestra:///company/team/hello/executions/EX1/tasks%2F..%2F..%2FEX2/out.txt",
    "kestra:///company/team/hello/executions/EX1/tasks%2f..%2f..%2fEX2/out.txt",
    "kestra:///company/team/hello/executions/EX1/tasks/..%5C..%5CEX2/out.txt",
    "kestra:////etc/passwd",
    "/etc/passwd",
    "file:///etc/passwd",
    "kestra:///company/team/hello/executions/EX1/tasks/t1/TR1/out.txt%00.png",
    "kestra:///company/team/hello/executions/EX1/tasks/t1/TR1/out.txt\0.png",
    "kestra:///company/team/hello/executions/EX1/./tasks/out.txt",
    "kestra:///company/team/hello/executions/EX1//tasks/out.txt",
]


@pytest.mark.parametrize("uri", TRICKS)
def test_path_tricks_are_refused_for_reads_and_writes(tmp_path: Path, uri: str) -> None:
    store = _store(tmp_path)
    store.put(uris.task_uri("company.team", "hello", "EX2", "t1", "TR1", "out.txt"),
              io.BytesIO(b"secret"))  # fmt: skip
    with pytest.raises(FileRefused):
        store.open(uri, SCOPE)
    with pytest.raises(FileRefused):
        store.put(uri, io.BytesIO(b"overwrite"))
    with store.open(uris.task_uri("company.team", "hello", "EX2", "t1", "TR1", "out.txt"),
                    OTHER) as handle:  # fmt: skip
        assert handle.read() == b"secret"


def _outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "out.txt").write_bytes(b"outside secret")
    return outside


def test_a_symlinked_folder_inside_the_root_is_not_followed(tmp_path: Path) -> None:
    store = _store(tmp_path)
    outside = _outside(tmp_path)
    store.put(_uri("first.txt"), io.BytesIO(b"x"))
    run_folder = Path(store.root) / "company/team/hello/executions/EX1/tasks/t1"
    (run_folder / "LINK").symlink_to(outside)
    linked = uris.task_uri("company.team", "hello", "EX1", "t1", "LINK", "out.txt")
    with pytest.raises(FileRefused, match="symbolic link"):
        store.open(linked, SCOPE)
    with pytest.raises(FileRefused, match="symbolic link"):
        store.put(linked, io.BytesIO(b"overwritten"))
    assert (outside / "out.txt").read_bytes() == b"outside secret"


def test_a_symlinked_file_is_neither_read_nor_replaced(tmp_path: Path) -> None:
    store = _store(tmp_path)
    outside = _outside(tmp_path)
    store.put(_uri("first.txt"), io.BytesIO(b"x"))
    (Path(store.root) / "company/team/hello/executions/EX1/tasks/t1/TR1/out.txt").symlink_to(
        outside / "out.txt"
    )
    with pytest.raises(FileRefused):
        store.open(_uri(), SCOPE)
    with pytest.raises(FileRefused, match="symbolic link"):
        store.put(_uri(), io.BytesIO(b"overwritten"))
    assert (outside / "out.txt").read_bytes() == b"outside secret"


def test_delete_execution_removes_its_files_only(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.put(_uri("a.txt"), io.BytesIO(b"a"))
    store.put(uris.input_uri("company.team", "hello", "EX1", "data", "in.csv"), io.BytesIO(b"b"))
    kept = uris.task_uri("company.team", "hello", "EX2", "t1", "TR1", "out.txt")
    store.put(kept, io.BytesIO(b"kept"))
    assert store.delete_execution("company.team", "hello", "EX1") == 2
    assert list(store.under(SCOPE)) == []
    assert list(store.under(OTHER)) == [kept]
    assert store.delete_execution("company.team", "hello", "EX1") == 0


def test_delete_execution_never_follows_a_symlink(tmp_path: Path) -> None:
    store = _store(tmp_path)
    outside = _outside(tmp_path)
    store.put(uris.task_uri("company.team", "hello", "EX2", "t1", "TR1", "x"), io.BytesIO(b"x"))
    (Path(store.root) / "company/team/hello/executions/EX1").symlink_to(outside)
    with pytest.raises(FileRefused):
        store.delete_execution("company.team", "hello", "EX1")
    assert (outside / "out.txt").read_bytes() == b"outside secret"
    (Path(store.root) / "company/team/hello/executions/EX1").unlink()
    (Path(store.root) / "company/team/hello/executions/EX1").mkdir()
    (Path(store.root) / "company/team/hello/executions/EX1/escape").symlink_to(outside)
    assert store.delete_execution("company.team", "hello", "EX1") == 1
    assert (outside / "out.txt").read_bytes() == b"outside secret"


class _Broken(io.RawIOBase):
    """A source that fails after its first chunk (a client that drops mid-upload)."""

    def __init__(self) -> None:
        self.calls = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        if self.calls > 1:
            raise OSError("connection reset")
        return b"partial"


def test_an_interrupted_write_leaves_neither_a_partial_file_nor_its_temporary(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path)
    store.put(_uri(), io.BytesIO(b"first version"))
    with pytest.raises(OSError, match="connection reset"):
        store.put(_uri(), _Broken())  # type: ignore[arg-type]
    with store.open(_uri(), SCOPE) as handle:
        assert handle.read() == b"first version"
    folder = Path(store.root) / "company/team/hello/executions/EX1/tasks/t1/TR1"
    assert sorted(os.listdir(folder)) == ["out.txt"]
