"""#13 "first run": what a newcomer sees from the command line, each through a real process."""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tercel import cli

from .test_cli import GOOD, TERCEL, TYPED, run, write

REPO = Path(__file__).resolve().parents[2]
#: a line of `tercel run`'s live progress: HH:MM:SS.mmm, then a state change or a log line
PROGRESS = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} ")
PAUSING = """id: pausing
namespace: cli.tests
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
    timeout: PT1S
"""
LOG_THEN_PAUSE = """id: log-then-pause
namespace: cli.tests
tasks:
  - id: before
    type: io.kestra.plugin.core.log.Log
    message: before the pause
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
    delay: PT0.5S
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: after the pause
"""
CHILD = """id: child
namespace: cli.tests
tasks:
  - id: hello
    type: io.kestra.plugin.core.debug.Return
    format: from the child
"""
PARENT = """id: parent
namespace: cli.tests
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: cli.tests
    flowId: child
"""


def _read_until(proc: subprocess.Popen[str], needle: str, timeout: float = 60) -> str:
    """Lines of proc's stdout up to the one holding needle."""
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return "".join(seen)
    proc.kill()
    raise AssertionError(f"{needle!r} never printed; got {''.join(seen)!r}, {proc.stderr}")


def _stop(proc: subprocess.Popen[str]) -> None:
    os.killpg(proc.pid, signal.SIGINT)
    proc.communicate(timeout=30)


def test_server_prints_the_ui_and_graphql_addresses(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*TERCEL, "server", "--port", "0", "--db", str(tmp_path / "t.db")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        line = _read_until(proc, "UI at")
        port = line.split("http://127.0.0.1:")[1].split("/")[0]
        assert f"UI at http://127.0.0.1:{port}/ui/" in line
        assert f"GraphQL at http://127.0.0.1:{port}/graphql" in line
        socket.create_connection(("127.0.0.1", int(port)), timeout=5).close()
    finally:
        _stop(proc)


def test_make_run_serves_on_the_given_port(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        ["make", "-s", "run", f"PORT={port}", f"DB={tmp_path / 'make.db'}"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert f"UI at http://127.0.0.1:{port}/ui/" in _read_until(proc, "UI at", timeout=120)
    finally:
        _stop(proc)


def test_busy_port_fails_before_the_engine_starts(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run("server", "--port", str(port), "--db", str(tmp_path / "t.db"), timeout=30)
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert "startup" not in done.stderr.lower()  # the lifespan (the engine) never ran
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["server", "run"])
def test_corrupt_database_is_one_line_and_exit_4(tmp_path: Path, command: str) -> None:
    db = tmp_path / "corrupt.db"
    db.write_bytes(b"this is not an SQLite file\n" * 200)
    args = ["--port", "0"] if command == "server" else [write(tmp_path, "good.yaml", GOOD)]
    done = run(command, *args, "--db", str(db), timeout=30)
    assert done.returncode == 4, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"tercel {command}: cannot use database {db}: file is not a database"
    ]


@pytest.mark.parametrize("command", ["server", "run"])
def test_read_only_location_is_one_line_and_exit_4(tmp_path: Path, command: str) -> None:
    db = "/sys/tercel-test.db"  # sysfs: nobody, root included, creates a file there
    args = ["--port", "0"] if command == "server" else [write(tmp_path, "good.yaml", GOOD)]
    done = run(command, *args, "--db", db, timeout=30)
    assert done.returncode == 4, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tercel {command}: cannot open database {db}")


def test_version() -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("tercel ") and done.stdout.split()[1][0].isdigit()


def _commands(
    parser: argparse.ArgumentParser, words: list[str]
) -> Iterator[tuple[list[str], argparse.ArgumentParser]]:
    """Every command and sub-command of `parser`, nested ones (`namespace files upload`) too."""
    yield words, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for word, sub in action.choices.items():
                yield from _commands(sub, [*words, word])


def test_every_option_has_a_help_text_and_help_lists_the_exit_codes() -> None:
    commands = list(_commands(cli._parser(), []))
    for words, parser in commands:
        for action in parser._actions:
            assert action.help, (words, action.dest)
    for args in (["--help"], ["run", "--help"], ["server", "--help"], ["validate", "--help"]):
        shown = run(*args).stdout
        for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "130 "):
            assert f"\n  {code}" in shown, (args, code)
    # a command that runs something (no sub-command of its own) lists what it exits with
    leaves = [words for words, parser in commands if not parser._subparsers]
    assert ["namespace", "files", "upload"] in leaves
    for words in leaves:
        shown = run(*words, "--help").stdout
        assert "exit status:" in shown and "\n  0 " in shown and "\n  2 " in shown, words


def test_validate_prints_its_verdict_on_stdout(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", GOOD)
    bad = write(tmp_path, "bad.yaml", "id: x\nnamespace: y\ntasks: []\n")
    done = run("validate", good, bad)
    assert done.returncode == 2
    assert done.stdout.splitlines() == [f"{good}: valid", f"{bad}: invalid"]
    assert "bad.yaml:3:" in done.stderr


def test_misspelled_input_names_the_input_and_the_closest_declared_one(tmp_path: Path) -> None:
    path = write(tmp_path, "typed.yaml", TYPED.replace("id: n\n", "id: count\n").replace(
        "inputs.n", "inputs.count"))  # fmt: skip
    done = run("run", path, "--input", "count=1", "--input", "cuont=2", "--json")
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "--input cuont" in done.stderr and "did you mean `count`?" in done.stderr


def test_run_says_that_a_pause_waits_and_until_when(tmp_path: Path) -> None:
    done = run("run", write(tmp_path, "pausing.yaml", PAUSING))
    assert "wait PAUSED: waits until 20" in done.stderr, done.stderr
    assert "(its timeout;" in done.stderr


def test_run_prints_logs_and_state_changes_in_the_order_they_happened(tmp_path: Path) -> None:
    """A commit holds state changes and log lines: the Log's line comes before the Pause's
    PAUSED, and the stamps of the progress lines never go back."""
    done = run("run", write(tmp_path, "log-then-pause.yaml", LOG_THEN_PAUSE))
    assert done.returncode == 0, done.stderr
    progress = [line for line in done.stderr.splitlines() if PROGRESS.match(line)]
    order = [line.split(" ", 1)[1] for line in progress]
    logged = order.index("INFO  before before the pause")
    assert logged < order.index("wait PAUSED") < order.index("execution PAUSED"), progress
    assert order.index("wait PAUSED") + 1 == order.index(next(
        line for line in order if line.startswith("wait PAUSED: waits until")))  # fmt: skip
    stamps = [line.split(" ", 1)[0] for line in progress]
    assert stamps == sorted(stamps), progress


def test_run_with_flows_deploys_the_folder_first(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    write(folder, "child.yaml", CHILD)
    parent = write(tmp_path, "parent.yaml", PARENT)
    done = run("run", parent, "--flows", str(folder), "--json")
    assert done.returncode == 0, done.stderr
    missing = run("run", parent, "--flows", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "not a folder" in missing.stderr
