"""A commit that fails for the environment's reasons (a full disk, a file locked by another
program) is retried after 50 ms, then twice as long each time up to 2 s, on the engine's clock:
with a `FakeClock` every retry comes exactly at its date and never before, however much real
time passes (runtime/commits.py)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from typing import Any

import pytest
from tests.engine.conftest import Harness

from tercel.clock import FakeClock
from tercel.engine import changes, faults, model, service
from tercel.engine.runtime import commits
from tercel.storage import sqlite

ONE = """
id: one
namespace: t.backoff
tasks:
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: done
"""
#: the waits between tries: 50 ms doubling, capped at 2 s
WAITS = [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]


def _locked() -> sqlite3.OperationalError:
    return sqlite3.OperationalError("database is locked")


async def _until(found: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not found():
        assert time.monotonic() < deadline, f"waited 10 s for {what}"
        await asyncio.sleep(0.005)


@pytest.mark.parametrize("error", [sqlite.disk_full_error, _locked], ids=["full", "locked"])
def test_a_failed_commit_is_retried_on_the_engine_clock(
    run_engine: Any, error: Callable[[], sqlite3.OperationalError]
) -> None:
    assert (commits.STORAGE_RETRY_FIRST, commits.STORAGE_RETRY_MAX) == (0.05, 2.0)
    clock = FakeClock()

    async def body(h: Harness) -> None:
        await h.deploy(ONE)
        real, failing, tries = h.engine.db.commit, [True], list[float]()

        def commit(cs: changes.ChangeSet) -> None:
            tries.append(clock.monotonic())
            if failing[0]:
                raise error()
            real(cs)

        h.engine.db.commit = commit  # type: ignore[method-assign]
        created = asyncio.ensure_future(service.create_execution(h.engine, "t.backoff", "one"))
        await _until(lambda: len(tries) == 1, "the first try")
        for done, wait in enumerate(WAITS, start=1):
            due = tries[-1] + wait
            sleeping = [pytest.approx(due)]
            await _until(lambda: clock.waiting() == sleeping, f"a sleep until {due}")  # noqa: B023
            clock.advance(wait - 0.001)
            await asyncio.sleep(0.1)  # real time passes: nothing is tried before its date
            assert len(tries) == done
            clock.advance(0.001 + 1e-9)  # a nanosecond past it: float sums drift by less
            await _until(lambda: len(tries) > done, f"the try at {due}")  # noqa: B023
            assert tries == [*tries[:done], pytest.approx(due)]
        failing[0] = False
        # the last try failed too: advance only once its next sleep is registered (a loaded
        # writer thread may register it after an advance made too early, which it never sees)
        await _until(lambda: len(clock.waiting()) == 1, "the sleep after the last try")
        clock.advance(2.0)
        await _until(lambda: h.engine.storage_error is None and created.done(), "the commit")
        if error is _locked:  # commands wait through a locked file, and get their answer
            assert isinstance(created.result(), model.Execution)
        else:  # a full disk refuses waiting commands at once; the creation is committed later
            assert isinstance(created.exception(), faults.StorageFull)
        assert h.engine.stopped_reason is None

    run_engine(body, clock=clock)
