"""The engine loop's share of a bulk RESTART of 10,000 FAILED executions, in-process: the loop
thread's CPU time and the writer's commit time, for a before/after comparison in one session
(the machine is shared: the wall time follows the load, the loop's CPU much less).

    python -c "import asyncio, bench.bulk as b; asyncio.run(b._seed('/tmp/bulk_seed.db'))"
    PYTHONPATH=<tree>/src:. .venv/bin/python -m bench.bulk_ab /tmp/bulk_seed.db

run alternately with the tree before and after a change (`git archive <commit> src | tar -x`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _timed_commits(spent: dict[str, float]) -> None:
    from tercel.storage import sqlite as storage

    original = storage.Database.commit

    def commit(self: Any, cs: Any) -> None:
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            original(self, cs)
        finally:
            spent["commit_s"] += time.perf_counter() - started
            spent["commit_cpu_s"] += time.thread_time() - cpu

    storage.Database.commit = commit  # type: ignore[method-assign]


async def _restart(db: str, ids: list[str]) -> dict[str, float]:
    from tercel.engine import operations
    from tercel.engine.actions import bulk
    from tercel.engine.runtime.scheduler import Engine

    engine = Engine(db)
    await engine.start()
    try:
        started, cpu = time.perf_counter(), time.thread_time()
        answer = await operations.run_bulk(engine, bulk.Action.RESTART, ids)
        assert all(item.outcome is bulk.BulkOutcome.OK for item in answer.items)
        return {"wall_s": time.perf_counter() - started, "loop_cpu_s": time.thread_time() - cpu}
    finally:
        await engine.stop(grace=0)


def measure(seed: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="tercel-bulk-ab-") as folder:
        db = str(Path(folder) / "b.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(seed + suffix):
                shutil.copy(seed + suffix, db + suffix)
        with sqlite3.connect(db) as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM executions WHERE state_current = 'FAILED'"
                    " ORDER BY start_date DESC"
                )
            ]
        spent = {"commit_s": 0.0, "commit_cpu_s": 0.0}
        _timed_commits(spent)
        found = asyncio.run(_restart(db, ids))
        return {**found, **spent, "loadavg": os.getloadavg()[0]}


if __name__ == "__main__":
    run: Callable[[str], dict[str, float]] = measure
    print({k: round(v, 2) for k, v in run(sys.argv[1]).items()})
