"""#12 item 2 on a real full file system: the database on a 5 MB tmpfs, then the tmpfs filled.

Waiting mutations get STORAGE_FULL within 5 s of the failed commit, `/health` answers 503
`storage_full`, nothing acknowledged is lost, and once space returns the engine carries on by
itself. The same behaviour by fault point runs in the normal suite
(tests/engine/test_storage_full.py)."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.crash.server import TercelServer

FLOW = """
id: filler
namespace: t.disk
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.05S
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "{{ 'x' * 20 }} some text to make the database grow"
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: done
"""

CREATE = """mutation { createExecution(namespace: "t.disk", flowId: "filler") {
  __typename ... on Execution { id } ... on Error { message } } }"""


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str = "5m") -> Iterator[Path]:
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(
            "cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): "
            f"{mounted.stderr.strip() or mounted.returncode}; the fault-point variant in "
            "tests/engine/test_storage_full.py covers the engine side"
        )
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path) -> Path:
    """Write a file until the file system has no space left."""
    filler = folder / "filler.bin"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as out:
        with contextlib.suppress(OSError):
            while True:
                out.write(chunk)
        with contextlib.suppress(OSError):
            while True:  # the last few bytes
                out.write(b"\0" * 512)
    return filler


@pytest.mark.slow
def test_full_tmpfs_storage_full_then_recovery(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "fs") as fs:
        server = TercelServer(fs / "tercel.db", tmp_path / "server.log")
        try:
            server.start()
            assert server.deploy(FLOW)["__typename"] == "Flow"
            acknowledged = [server.create("t.disk", "filler") for _ in range(5)]
            filler = fill(fs)

            refused_in: float | None = None
            for _ in range(200):  # until a commit needs a page the disk no longer has
                began = time.monotonic()
                body = server.gql(CREATE)
                took = time.monotonic() - began
                if body.get("errors"):
                    codes = [e["extensions"]["code"] for e in body["errors"]]
                    assert codes == ["STORAGE_FULL"], body
                    refused_in = took
                    break
                acknowledged.append(body["data"]["createExecution"]["id"])
            assert refused_in is not None, "the disk never filled up"
            assert refused_in < 5, refused_in
            response = server.client.get(server.url + "/health")
            assert (response.status_code, response.json()) == (503, {"status": "storage_full"})

            filler.unlink()  # space returns: no restart, no command
            deadline = time.monotonic() + 10
            while server.client.get(server.url + "/health").status_code != 200:
                assert time.monotonic() < deadline, server.log_tail()
                time.sleep(0.05)
            for execution_id in acknowledged:
                assert server.wait_terminal(execution_id) == "SUCCESS", execution_id
            assert server.wait_terminal(server.create("t.disk", "filler")) == "SUCCESS"
            assert server.stop() == 0
        finally:
            server.close()
        conn = sqlite3.connect(fs / "tercel.db")
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            conn.close()
