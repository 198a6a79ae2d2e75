"""`tercel namespace files upload NAMESPACE FROM [TO]`, then a flow reading what it uploaded
through `tercel run` on the same database (docs/semantics.md#namespace-files)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.cli.test_files import TERCEL, _flow, _run

READER = """id: reader
namespace: company.team
tasks:
  - id: own
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read('conf/sub/a.txt') }}"
  - id: check
    type: io.kestra.plugin.core.execution.Fail
    runIf: "{{ outputs.own.value != 'from a local folder' }}"
"""


def _upload(*args: str) -> subprocess.CompletedProcess[str]:
    command = [*TERCEL, "namespace", "files", "upload", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_upload_a_folder_then_read_it_in_a_flow(tmp_path: Path) -> None:
    local = tmp_path / "local"
    (local / "sub").mkdir(parents=True)
    (local / "sub/a.txt").write_text("from a local folder")
    (local / "b.txt").write_text("b")
    (local / "link").symlink_to(tmp_path)
    db = str(tmp_path / "t.db")
    done = _upload("company.team", str(local), "/conf", "--db", db)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["/conf/b.txt", "/conf/sub/a.txt"]
    stored = tmp_path / "t.db.files/company/team/_files/conf/sub/a.txt"
    assert stored.read_text() == "from a local folder"
    done, execution = _run(_flow(tmp_path, READER), "--db", db)
    assert done.returncode == 0, done.stderr
    assert execution["state"]["current"] == "SUCCESS"


def test_bad_namespaces_paths_and_folders_are_exit_2(tmp_path: Path) -> None:
    local = tmp_path / "local"
    local.mkdir()
    (local / "a.txt").write_text("a")
    db = str(tmp_path / "t.db")
    for args, message in [
        (("Company", str(local)), "is not a namespace"),
        (("company", str(local), "/../x"), "is not a namespace-file path"),
        (("company", str(tmp_path / "missing")), "not a folder"),
    ]:
        done = _upload(*args, "--db", db)
        assert done.returncode == 2, done
        assert message in done.stderr
    assert not (tmp_path / "t.db.files").exists() or not any(
        (tmp_path / "t.db.files").rglob("a.txt")
    )
