"""The command line as the contract fixes it: exit statuses, stdout/stderr, the lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

TERCEL = [sys.executable, "-m", "tercel"]

GOOD = """id: good
namespace: cli.tests
tasks:
  - id: hello
    type: io.kestra.plugin.core.debug.Return
    format: hi
"""

SLOW = """id: slow
namespace: cli.tests
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    commands: ["sleep 30"]
"""

TYPED = """id: typed
namespace: cli.tests
inputs:
  - id: n
    type: INT
tasks:
  - id: show
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.n }}"
"""


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TERCEL, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_run_json_prints_one_document_and_exits_0(tmp_path: Path) -> None:
    done = run("run", write(tmp_path, "good.yaml", GOOD), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["state"]["current"] == "SUCCESS"
    assert doc["taskRunList"][0]["outputs"] == {"value": "hi"}
    assert "hello" in done.stderr  # progress goes to stderr


def test_run_without_json_keeps_stdout_empty(tmp_path: Path) -> None:
    done = run("run", write(tmp_path, "good.yaml", GOOD))
    assert done.returncode == 0
    assert done.stdout == ""


def test_invalid_flow_exits_2_naming_file_line_column_and_field(tmp_path: Path) -> None:
    bad = GOOD.replace("io.kestra.plugin.core.debug.Return", "io.nope.Missing")
    path = write(tmp_path, "bad.yaml", bad)
    done = run("run", path, "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    assert f"{path}:5:11: tasks[0].type: unknown task type `io.nope.Missing`" in done.stderr


def test_validate(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", GOOD)
    bad = write(tmp_path, "bad.yaml", "id: x\nnamespace: y\ntasks: []\n")
    assert run("validate", good).returncode == 0
    refused = run("validate", good, bad)
    assert refused.returncode == 2
    assert "bad.yaml:3:" in refused.stderr and "tasks" in refused.stderr


def test_inputs_from_the_command_line(tmp_path: Path) -> None:
    path = write(tmp_path, "typed.yaml", TYPED)
    ok = run("run", path, "--input", "n=41", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["inputs"] == {"n": 41}
    wrong = run("run", path, "--input", "n=abc", "--json")
    assert wrong.returncode == 2
    assert wrong.stdout == ""
    assert "Invalid input for `n`, expected INT, but received `abc`" in wrong.stderr
    malformed = run("run", path, "--input", "n")
    assert malformed.returncode == 2
    assert "NAME=VALUE" in malformed.stderr


def test_missing_file_and_bad_arguments_exit_2(tmp_path: Path) -> None:
    assert run("run", str(tmp_path / "nope.yaml")).returncode == 2
    assert run("run").returncode == 2
    assert run("frobnicate").returncode == 2


def _until_running(proc: subprocess.Popen[str], task_id: str, timeout: float = 60.0) -> None:
    """Reads the run's stderr until the task run is RUNNING: a fixed sleep raced the start of
    a loaded machine (the signal came before the engine ran, and no document was printed)."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        if line.split()[1:3] == [task_id, "RUNNING"]:
            return
    raise AssertionError(f"{task_id} never RUNNING")


def test_ctrl_c_kills_the_execution_first_and_exits_130(tmp_path: Path) -> None:
    path = write(tmp_path, "slow.yaml", SLOW)
    proc = subprocess.Popen(
        [*TERCEL, "run", path, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _until_running(proc, "sh")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    doc = json.loads(out)
    assert [h["state"] for h in doc["state"]["histories"]][-2:] == ["KILLING", "KILLED"]
    assert doc["taskRunList"][0]["state"]["current"] == "KILLED"


def test_second_engine_on_the_same_database_refuses_to_start(tmp_path: Path) -> None:
    db = str(tmp_path / "shared.db")
    path = write(tmp_path, "slow.yaml", SLOW)
    first = subprocess.Popen(
        [*TERCEL, "run", path, "--db", db],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _until_running(first, "sh")
        second = run("run", write(tmp_path, "good.yaml", GOOD), "--db", db)
        assert second.returncode == 2
        assert f"process {first.pid}" in second.stderr
        assert "in use" in second.stderr
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=15)


HOLDER = """id: holder
namespace: cli.tests
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    commands: ["echo $$ > {pidfile}", "exec sleep 60"]
"""


def _wait_for(path: Path, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.05)
    raise AssertionError(f"{path} never written")


def test_one_engine_per_file_by_any_path(tmp_path: Path) -> None:
    """Symlink, hardlink, relative and `./` names of a database in use are all refused, and the
    holder's shell process survives every attempt (recovery of a second engine ended it)."""
    db = tmp_path / "shared.db"
    pidfile = tmp_path / "shell.pid"
    holder = write(tmp_path, "holder.yaml", HOLDER.format(pidfile=pidfile))
    first = subprocess.Popen(
        [*TERCEL, "run", holder, "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        shell = int(_wait_for(pidfile))
        (tmp_path / "sym.db").symlink_to(db)
        (tmp_path / "hard.db").hardlink_to(db)
        good = write(tmp_path, "good.yaml", GOOD)
        for name in (
            "sym.db",
            "hard.db",
            "shared.db",
            "./shared.db",
            "../" + tmp_path.name + "/shared.db",
        ):
            second = subprocess.run(
                [*TERCEL, "run", good, "--db", name],
                capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
            )  # fmt: skip
            assert second.returncode == 2, (name, second.stderr)
            assert f"process {first.pid}" in second.stderr and "in use" in second.stderr, name
            os.kill(shell, 0)  # the holder's shell is still alive
        assert first.poll() is None
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=15)


def test_ignored_properties_warn_in_a_real_run(tmp_path: Path) -> None:
    source = GOOD.replace(
        "type: io.kestra.plugin.core.debug.Return\n    format: hi\n",
        "type: io.kestra.plugin.scripts.shell.Commands\n    containerImage: ubuntu:22.04\n"
        "    commands: [echo hi]\n",
    )
    done = run("run", write(tmp_path, "image.yaml", source), "--json")
    assert done.returncode == 0, done.stderr
    assert "WARN  hello Property 'containerImage' is ignored: Tercel runs a local process" in (
        done.stderr
    )


ESCAPING = """id: escaping
namespace: cli.tests
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - setsid sh -c 'trap "" TERM HUP; echo $$ > {pidfile}; exec sleep 300' &
      - while [ ! -s {pidfile} ]; do sleep 0.01; done
"""


def test_no_process_outlives_a_run(tmp_path: Path) -> None:
    """A grandchild that left the session and ignores SIGTERM and SIGHUP ends with its attempt
    (the task ends normally; `tercel run` then exits)."""
    pidfile = tmp_path / "grandchild.pid"
    done = run("run", write(tmp_path, "escaping.yaml", ESCAPING.format(pidfile=pidfile)))
    assert done.returncode == 0, done.stderr
    grandchild = int(pidfile.read_text())
    try:
        state = Path(f"/proc/{grandchild}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except OSError:
        state = b"gone"
    assert state in (b"gone", b"Z"), "the grandchild outlived its attempt and the run"
