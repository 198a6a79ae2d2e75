"""PurgeExecutions and PurgeLogs on a real engine and SQLite file (docs/semantics.md#retention),
mirroring Kestra's PurgeExecutionsTest.run and PurgeLogsTest.run, then what Tercel adds: only
ended executions go, never the purging one, in batches between which other executions go on."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from tests.engine.conftest import Harness, db_rows, run_of

from tercel.engine import model
from tercel.engine.runtime import retention
from tercel.engine.runtime.scheduler import Batch

TARGET = """
id: target
namespace: run.namespace
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hello
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    condition: "{{ inputs.fail }}"
inputs:
  - id: fail
    type: BOOLEAN
    defaults: false
"""

SLEEPER = """
id: sleeper
namespace: run.namespace
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT30S
"""

PURGE = """
id: purge
namespace: run.namespace
tasks:
  - id: purge
    type: io.kestra.plugin.core.execution.PurgeExecutions
{props}
"""

PURGE_LOGS = """
id: purge-logs
namespace: ops
tasks:
  - id: purge
    type: io.kestra.plugin.core.log.PurgeLogs
{props}
"""


def props(**given: Any) -> str:
    return "\n".join(f"    {k}: {v}" for k, v in given.items())


def count(db: Path, table: str, execution_id: str) -> int:
    column = "id" if table == "executions" else "execution_id"
    return int(db_rows(db, f"SELECT count(*) FROM {table} WHERE {column} = ?", execution_id)[0][0])


TABLES = ("executions", "task_runs", "attempts", "state_changes", "logs", "labels")


async def ran(h: Harness, flow: model.Flow, fail: bool = False) -> str:
    created = await h.create(flow, {"fail": fail}, [model.Label("team", "a")])
    await h.wait(created.id)
    return created.id


def test_purge_executions_like_kestra_run(run_engine: Any, db_path: Path) -> None:
    """Kestra PurgeExecutionsTest.run: one SUCCESS execution of the flow, endDate a minute from
    now: executionsCount 1; every row of it goes, state changes included."""

    async def body(h: Harness) -> None:
        target = await h.deploy(TARGET)
        done = await ran(h, target)
        logs = count(db_path, "logs", done)
        assert logs >= 1
        doc = await h.run(
            PURGE.format(
                props=props(
                    namespace="run.namespace",
                    flowId="target",
                    endDate="\"{{ now() | dateAdd(1, 'MINUTES') }}\"",
                )
            )
        )
        assert doc["state"]["current"] == "SUCCESS", doc
        assert run_of(doc, "purge")["outputs"] == {
            "executionsCount": 1,
            "logsCount": logs,
            "metricsCount": 0,
            "storagesCount": 0,
        }
        assert [count(db_path, t, done) for t in TABLES] == [0] * len(TABLES)
        assert count(db_path, "executions", doc["id"]) == 1  # the purging one stays

    run_engine(body)


def test_only_ended_executions_in_the_window_and_states_go(run_engine: Any, db_path: Path) -> None:
    async def body(h: Harness) -> None:
        target, sleeper = await h.deploy(TARGET), await h.deploy(SLEEPER)
        ok, failed = await ran(h, target), await ran(h, target, fail=True)
        running = (await h.create(sleeper)).id
        await h.wait_for(running, lambda d: d["state"]["current"] == "RUNNING")
        # an endDate a month ago: nothing ended that long ago
        old = await h.run(
            PURGE.format(props=props(endDate="\"{{ now() | dateAdd(-1, 'MONTHS') }}\""))
        )
        assert run_of(old, "purge")["outputs"]["executionsCount"] == 0
        # FAILED only, no namespace: the failed one goes, not the SUCCESS one nor the running one
        doc = await h.run(
            PURGE.format(
                props=props(endDate="\"{{ now() | dateAdd(1, 'MINUTES') }}\"", states="[FAILED]")
            ).replace("id: purge\n", "id: purge-failed\n", 1)
        )
        assert run_of(doc, "purge")["outputs"]["executionsCount"] == 1
        assert count(db_path, "executions", failed) == 0
        assert count(db_path, "executions", ok) == 1
        # every ended state, a parent namespace: the running one and the purging one stay
        doc = await h.run(
            PURGE.format(
                props=props(namespace="run", endDate="\"{{ now() | dateAdd(1, 'MINUTES') }}\"")
            ).replace("id: purge\n", "id: purge-all\n", 1)
        )
        outputs = run_of(doc, "purge")["outputs"]
        # the SUCCESS target and the two earlier purge executions
        assert outputs["executionsCount"] == 3, outputs
        assert count(db_path, "executions", ok) == 0
        assert count(db_path, "executions", running) == 1
        assert count(db_path, "executions", doc["id"]) == 1
        # a namespace that only shares a prefix is not a child
        assert db_rows(db_path, "SELECT count(*) FROM executions")[0][0] == 2

    run_engine(body)


def test_purge_options_keep_what_they_are_told(run_engine: Any, db_path: Path) -> None:
    async def body(h: Harness) -> None:
        target = await h.deploy(TARGET)
        first, second = await ran(h, target), await ran(h, target)
        logs = count(db_path, "logs", first) + count(db_path, "logs", second)
        end = "\"{{ now() | dateAdd(1, 'MINUTES') }}\""
        # purgeExecution false: the executions stay, their logs go
        doc = await h.run(
            PURGE.format(props=props(flowId="target", endDate=end, purgeExecution="false"))
        )
        outputs = run_of(doc, "purge")["outputs"]
        assert (outputs["executionsCount"], outputs["logsCount"]) == (0, logs)
        assert count(db_path, "executions", first) == 1 and count(db_path, "logs", first) == 0
        third = await ran(h, target)
        # purgeLog false: the executions go, the logs of the third stay
        doc = await h.run(PURGE.format(props=props(flowId="target", endDate=end, purgeLog="false")))
        outputs = run_of(doc, "purge")["outputs"]
        assert (outputs["executionsCount"], outputs["logsCount"]) == (3, 0)
        assert [count(db_path, "executions", i) for i in (first, second, third)] == [0, 0, 0]
        assert count(db_path, "logs", third) > 0

    run_engine(body)


def test_purge_logs_like_kestra_run_and_its_filters(run_engine: Any, db_path: Path) -> None:
    """Kestra PurgeLogsTest.run (endDate a minute from now purges the log), then logLevels,
    executionId and namespace narrow it."""

    async def body(h: Harness) -> None:
        target = await h.deploy(TARGET)
        ok, failed = await ran(h, target), await ran(h, target, fail=True)
        errors = "SELECT count(*) FROM logs WHERE level = 'ERROR' AND execution_id = ?"
        failures = int(db_rows(db_path, errors, failed)[0][0])
        assert failures >= 1
        before_ok, before_failed = count(db_path, "logs", ok), count(db_path, "logs", failed)
        end = "\"{{ now() | dateAdd(1, 'MINUTES') }}\""
        doc = await h.run(
            PURGE_LOGS.format(props=props(endDate=end, logLevels="[ERROR]", namespace="run"))
        )
        assert run_of(doc, "purge")["outputs"] == {"count": failures}
        assert db_rows(db_path, errors, failed)[0][0] == 0
        assert count(db_path, "logs", failed) == before_failed - failures
        assert count(db_path, "logs", ok) == before_ok
        doc = await h.run(PURGE_LOGS.format(props=props(endDate=end, executionId=ok)))
        assert run_of(doc, "purge")["outputs"] == {"count": before_ok}
        assert count(db_path, "logs", ok) == 0
        assert count(db_path, "logs", failed) == before_failed - failures
        doc = await h.run(PURGE_LOGS.format(props=props(endDate=end, namespace="elsewhere")))
        assert run_of(doc, "purge")["outputs"] == {"count": 0}
        # no filter at all: every log up to now, the earlier purges' own included
        doc = await h.run(PURGE_LOGS.format(props=props(endDate=end)))
        assert run_of(doc, "purge")["outputs"]["count"] >= 4
        assert count(db_path, "logs", failed) == 0
        assert count(db_path, "executions", failed) == 1  # logs only

    run_engine(body)


def test_a_bad_rendered_date_fails_the_task_with_the_reason(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        doc = await h.run(PURGE.format(props=props(endDate="\"{{ 'soon' }}\"")))
        assert doc["state"]["current"] == "FAILED"

    run_engine(body)


def test_purge_runs_in_batches_while_other_executions_go_on(
    run_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """400 executions in batches of 20: 20 engine commits delete them, at most 20 each, and an
    execution created after the first batch ends in a commit before the last batch."""
    monkeypatch.setattr(retention, "BATCH", 20)

    async def body(h: Harness) -> None:
        target = await h.deploy(TARGET)
        created = await asyncio.gather(*(h.create(target) for _ in range(400)))
        for ex in created:
            await h.wait(ex.id)
        commits: list[tuple[int, set[str]]] = []  # (executions deleted, executions ended)

        def listen(batch: Batch) -> None:
            ended = {ex.id for ex in batch.executions if ex.state.current.is_terminated}
            commits.append((len(batch.changes.deleted_executions), ended))

        h.engine.listeners.append(listen)
        end = "\"{{ now() | dateAdd(1, 'MINUTES') }}\""
        purge = await h.deploy(PURGE.format(props=props(flowId="target", endDate=end)))
        purging = await h.create(purge)
        await h.wait_for(purging.id, lambda _: any(n for n, _ in commits), what="first batch")
        other = await h.create(target)
        assert (await h.wait(other.id))["state"]["current"] == "SUCCESS"
        purge_doc = await h.wait(purging.id)
        assert run_of(purge_doc, "purge")["outputs"]["executionsCount"] == 401
        deleted = [n for n, _ in commits]
        assert sum(deleted) == 401 and max(deleted) <= 20, deleted
        other_end = next(i for i, (_, ended) in enumerate(commits) if other.id in ended)
        last_batch = max(i for i, (n, _) in enumerate(commits) if n)
        assert other_end < last_batch, (other_end, last_batch)

    run_engine(body)


PRODUCER = """
id: producer
namespace: run.files
tasks:
  - id: produce
    type: io.kestra.plugin.scripts.shell.Commands
    outputFiles: ["*.txt"]
    commands:
      - echo one > a.txt
      - echo two > b.txt
"""


def files_of(db_path: Path, execution_id: str) -> list[Path]:
    root = Path(f"{db_path}.files")
    return [p for p in root.rglob("*") if p.is_file() and execution_id in p.parts]


@pytest.mark.parametrize("storage", [True, False])
def test_purge_storage_removes_the_purged_executions_files(
    run_engine: Any, db_path: Path, storage: bool
) -> None:
    """`purgeStorage` (default true) removes the files of every purged execution once the batch
    is committed and counts them in `storagesCount`; false leaves them."""

    async def body(h: Harness) -> None:
        producer = await h.deploy(PRODUCER)
        done = (await h.create(producer)).id
        assert (await h.wait(done))["state"]["current"] == "SUCCESS"
        assert len(files_of(db_path, done)) == 2
        doc = await h.run(
            PURGE.format(
                props=props(
                    namespace="run.files",
                    endDate="\"{{ now() | dateAdd(1, 'MINUTES') }}\"",
                    purgeStorage=str(storage).lower(),
                )
            )
        )
        outputs = run_of(doc, "purge")["outputs"]
        assert outputs["executionsCount"] == 1, outputs
        assert outputs["storagesCount"] == (2 if storage else 0), outputs
        assert len(files_of(db_path, done)) == (0 if storage else 2)

    run_engine(body)
