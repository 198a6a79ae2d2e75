"""#12 item 2 with the `commit_disk_full` fail point (SQLite's SQLITE_FULL on every commit while
armed): waiting commands get StorageFull within 5 s, new ones at once, nothing acknowledged is
lost, and the engine carries on by itself once commits succeed again. The same on a real full
file system: tests/crash/test_disk_full.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests.engine.conftest import Harness, db_rows

from tercel import failpoints
from tercel.engine import faults, model, service

SLOW = """
id: slow
namespace: t.full
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.3S
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: done
"""


@pytest.fixture
def disarm() -> Iterator[None]:
    yield
    failpoints.disarm()


def test_a_full_disk_answers_storage_full_and_recovers(run_engine: Any, disarm: None) -> None:
    async def body(h: Harness) -> None:
        flow = await h.deploy(SLOW)
        acknowledged = await h.create(flow)  # committed before the disk fills

        failpoints.arm("commit_disk_full")
        began = time.monotonic()
        with pytest.raises(faults.StorageFull) as full:
            await asyncio.wait_for(service.create_execution(h.engine, flow.namespace, flow.id), 5)
        assert time.monotonic() - began < 5
        assert "disk is full" in str(full.value) and full.value.code == "STORAGE_FULL"
        assert h.engine.storage_error is not None

        # while it lasts, a new command is refused at once, and nothing is committed
        began = time.monotonic()
        with pytest.raises(faults.StorageFull):
            await asyncio.wait_for(service.kill_execution(h.engine, acknowledged.id), 1)
        assert time.monotonic() - began < 1
        await asyncio.sleep(0.6)  # the attempt ends meanwhile: its result waits in memory
        assert db_rows(h.db_path, "SELECT count(*) FROM executions") == [(1,)]
        assert h.engine.stopped_reason is None

        failpoints.disarm()  # space returns: the engine goes on by itself
        doc = await h.wait(acknowledged.id)
        assert doc["state"]["current"] == "SUCCESS"
        assert h.engine.storage_error is None
        # the refused create was kept in memory and committed once space returned (its error
        # says so): every execution the engine holds reaches its end
        ids = [r[0] for r in db_rows(h.db_path, "SELECT id FROM executions")]
        for execution_id in ids:
            assert (await h.wait(execution_id))["state"]["current"] == "SUCCESS"
        later = await service.create_execution(h.engine, flow.namespace, flow.id)
        assert isinstance(later, model.Execution)
        assert (await h.wait(later.id))["state"]["current"] == "SUCCESS"

    run_engine(body)


def test_deploy_on_a_full_disk_is_refused_with_storage_full(
    run_engine: Any, disarm: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writes outside the loop (deploy, flow admin) report the same error, not a bug."""
    from tercel.storage import flowstore, sqlite

    def full(*args: Any) -> Any:
        raise sqlite.disk_full_error()

    async def body(h: Harness) -> None:
        monkeypatch.setattr(flowstore, "deploy", full)
        with pytest.raises(faults.StorageFull):
            await h.deploy(SLOW)

    run_engine(body)


def test_a_database_locked_by_another_program_is_waited_for(run_engine: Any) -> None:
    """SQLITE_BUSY past the 5 s busy timeout is the environment's, not an execution's: the
    commit is retried until the lock goes, and no execution is failed for it."""
    import sqlite3

    async def body(h: Harness) -> None:
        flow = await h.deploy(SLOW)
        other = sqlite3.connect(h.db_path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # holds the write lock
        asyncio.get_running_loop().call_later(6.0, other.execute, "ROLLBACK")
        try:
            began = time.monotonic()
            created = await asyncio.wait_for(h.create(flow), 20)
            assert time.monotonic() - began > 5  # it waited for the lock, then committed
            doc = await h.wait(created.id)
        finally:
            other.close()
        assert doc["state"]["current"] == "SUCCESS"
        assert h.engine.stopped_reason is None and not h.engine.quarantined

    run_engine(body)
