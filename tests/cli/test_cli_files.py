"""Flow files the command line cannot use: a folder, bytes that are not UTF-8, an invalid flow in
a `--flows` folder. Each gets one line naming the file and what is wrong; the good files still
count."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import GOOD, run, write
from tests.cli.test_first_run import CHILD, PARENT

NOT_UTF8 = b"id: latin\nnamespace: cli.tests\n# caf\xe9\ntasks: []\n"


def test_validate_names_a_file_it_cannot_read_and_goes_on(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", GOOD)
    folder = tmp_path / "a-folder.yaml"
    folder.mkdir()
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(NOT_UTF8)
    done = run("validate", str(folder), str(latin), good)
    assert done.returncode == 2, done.stderr
    assert f"{folder}: cannot read: Is a directory" in done.stderr, done.stderr
    assert f"{latin}: not UTF-8 text" in done.stderr, done.stderr
    assert "good.yaml" not in done.stderr  # the good file is checked and passes


def test_run_flows_folder_skips_the_files_it_cannot_deploy(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    write(folder, "child.yaml", CHILD)
    write(folder, "broken.yml", "id: broken\nnamespace: cli.tests\ntasks: []\n")
    (folder / "latin.yaml").write_bytes(NOT_UTF8)
    write(folder, "notes.txt", "not a flow, not read")
    done = run("run", write(tmp_path, "parent.yaml", PARENT), "--flows", str(folder), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["state"]["current"] == "SUCCESS"
    assert f"{folder / 'broken.yml'}: skipped (invalid flow)" in done.stderr, done.stderr
    assert f"{folder / 'broken.yml'}:3:" in done.stderr, done.stderr
    assert f"{folder / 'latin.yaml'}: cannot read:" in done.stderr, done.stderr
    assert "notes.txt" not in done.stderr
