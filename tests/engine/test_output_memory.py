"""#12.7 A task that prints a lot: its output streams to the log table in bounded batches, with
backpressure down to the subprocess pipe, instead of piling up in memory ahead of the commits.
(The RSS figures for 200 MB and 1 GB are in bench/output.py and bench/RESULTS.md.)"""

from __future__ import annotations

from typing import Any

from tests.engine.conftest import Harness, db_rows

from tercel.engine.runtime.scheduler import Batch
from tercel.engine.tasks import commands

MEGABYTES = 40
#: worker.LOG_BACKLOG_BYTES plus what one read of the pipe brings (two cut lines at most)
BOUND = (1 << 20) + 2 * commands.LINE_LIMIT
FLOW = f"""
id: loud
namespace: t.engine
tasks:
  - id: print
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - yes "$(printf '%0999d' 0 | tr 0 x)" | head -c {MEGABYTES * 1_000_000}
"""


def test_output_is_committed_in_bounded_batches(run_engine: Any) -> None:
    largest = [0]

    def measure(batch: Batch) -> None:
        largest[0] = max(largest[0], sum(len(row.message) for row in batch.changes.logs))

    async def body(h: Harness) -> None:
        h.engine.listeners.append(measure)
        doc = await h.run(FLOW, timeout=120)
        assert doc["state"]["current"] == "SUCCESS"
        [(count, size)] = db_rows(
            h.db_path, "SELECT count(*), sum(length(message)) FROM logs"
            " WHERE execution_id = ? AND task_id = 'print' AND level = 'INFO'",
            doc["id"],
        )  # fmt: skip
        assert (count, size) == (MEGABYTES * 1000, MEGABYTES * 999_000)  # nothing lost

    run_engine(body)
    # one batch holds at most the backlog bound plus what one read of the pipe brings
    assert 0 < largest[0] <= BOUND, largest[0]


def test_error_logs_keep_the_last_hundred(run_engine: Any) -> None:
    """stderr lines are ERROR logs; `errorLogs()` keeps the last 100, not every one of them in
    memory (100 MB on stderr grew the server to 222 MiB)."""
    flow = """
    id: noisy
    namespace: t.engine
    tasks:
      - id: shout
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - for i in $(seq 1 500); do echo "line $i" >&2; done
      - id: count
        type: io.kestra.plugin.core.debug.Return
        format: "{{ errorLogs() | length }} {{ (errorLogs() | first).message }}"
    """

    async def body(h: Harness) -> None:
        doc = await h.run(flow, timeout=30)
        assert doc["state"]["current"] == "WARNING"
        [count] = [r for r in doc["taskRunList"] if r["taskId"] == "count"]
        assert count["outputs"] == {"value": "100 line 401"}
        [(stored,)] = db_rows(
            h.db_path, "SELECT count(*) FROM logs WHERE level = 'ERROR' AND task_id = 'shout'"
        )
        assert stored == 500  # the log table keeps every line

    run_engine(body)
