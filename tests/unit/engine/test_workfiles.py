"""Shell `inputFiles` / `outputFiles` with real subprocesses and a real internal-storage folder
(docs/semantics.md#files)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from tests.unit.engine.test_commands import FakeContext, fail, make_ctx, run

from tercel.engine import files as uris
from tercel.storage.files import LocalFiles

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX shell")


def _ctx(tmp_path: Path, *commands: str, **props: object) -> FakeContext:
    ctx = make_ctx(*commands, **props)
    ctx.files = LocalFiles(str(tmp_path / "files"))
    return ctx


def _text(ctx: FakeContext, uri: str) -> str:
    with ctx.open_file(uri) as handle:
        return handle.read().decode()


def test_input_files_inline_from_a_json_text_and_from_a_uri(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, "cat a.txt sub/b.json c.txt")
    stored = ctx.store_file("earlier.txt", io.BytesIO(b"stored\n"))
    ctx.task.properties["inputFiles"] = {
        "a.txt": "inline\n",
        "sub/b.json": {"k": 1},
        "c.txt": stored,
    }
    run(ctx)
    assert ctx.messages() == ["inline", '{"k": 1}stored']
    as_text = _ctx(tmp_path, "cat x.txt", inputFiles='{"x.txt": "from json text"}')
    run(as_text)
    assert as_text.messages() == ["from json text"]


def test_input_files_that_are_not_a_map_or_not_readable_fail_the_attempt(tmp_path: Path) -> None:
    assert fail(_ctx(tmp_path, "true", inputFiles="not json")) == (
        "`inputFiles` must be a map of file name to content or kestra:/// URI"
    )
    other = uris.task_uri("company.team", "flow", "OTHER", "t", "r", "x.txt")
    message = fail(_ctx(tmp_path, "true", inputFiles={"x.txt": other}))
    assert message == f"inputFiles `x.txt`: `{other}` is not a file of this execution"
    missing = uris.task_uri("company.team", "flow", "exec", "t", "r", "gone.txt")
    assert fail(_ctx(tmp_path, "true", inputFiles={"x.txt": missing})) == (
        f"inputFiles `x.txt`: `{missing}` does not exist"
    )
    assert fail(_ctx(tmp_path, "true", inputFiles={"a/./b": "x"})).startswith("inputFiles `a/./b`")


def test_output_files_globs_and_output_dir_are_stored(tmp_path: Path) -> None:
    ctx = _ctx(
        tmp_path,
        "echo one > one.txt",
        "mkdir -p deep/er && echo two > deep/er/two.txt",
        "echo skipped > other.log",
        "ln -s /etc/hostname link.txt",
        "echo three > {{ outputDir }}/three.txt",
        outputFiles=["*.txt", "**/*.txt"],
    )
    outputs = run(ctx).outputs
    stored = outputs["outputFiles"]
    assert sorted(stored) == ["deep/er/two.txt", "one.txt", "three.txt"]
    assert _text(ctx, stored["deep/er/two.txt"]) == "two\n"
    assert stored["one.txt"] == uris.task_uri(
        "company.team", "flow", "exec", "sh", "taskrun", "one.txt"
    )


def test_no_output_files_key_without_output_files_or_output_dir_files(tmp_path: Path) -> None:
    assert "outputFiles" not in run(_ctx(tmp_path, "echo x > a.txt")).outputs
    assert run(_ctx(tmp_path, "true", outputFiles=["*.csv"])).outputs["outputFiles"] == {}


def test_a_failed_attempt_stores_nothing_and_removes_its_folders(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, "pwd", "echo x > a.txt", "exit 3", outputFiles=["*.txt"])
    assert fail(ctx) == "Command failed with exit code 3"
    assert not Path(ctx.messages()[0]).parent.exists()
    assert list(ctx.files.under(uris.execution_prefix("company.team", "flow", "exec"))) == []


def test_an_output_file_that_cannot_be_stored_fails_the_attempt(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, "echo x > a.txt", outputFiles=["a.txt"])
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    ctx.files = LocalFiles(str(blocked))
    assert fail(ctx).startswith("outputFiles `a.txt`: cannot store it: ")
