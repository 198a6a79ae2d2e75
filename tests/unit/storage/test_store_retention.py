"""Retention reads and deletes (docs/semantics.md#retention) held to one contract on SQLite and in
memory: which executions a purge matches, log purges by filter, rows purged in place."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from memrun import MemoryRun
from test_memory_actions import TWO_BRANCHES

from tercel.engine import changes, model, states
from tercel.engine.store import ExecutionPurge, LogPurge, Store
from tercel.storage.memory import MemoryStore
from tercel.storage.sqlite import Database

S = states.StateType
L = model.LogLevel


def said(namespace: str) -> str:
    return f"""
id: said
namespace: {namespace}
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hi
"""


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    found: Store = Database(str(tmp_path / "t.db")) if request.param == "sqlite" else MemoryStore()
    yield found
    found.close()


def test_candidates_are_ended_executions_in_the_window_by_id(store: Store) -> None:
    child = MemoryRun(said("company.team"), store=store)
    cousin = MemoryRun(said("company.teamx"), store=store)
    running = MemoryRun(TWO_BRANCHES, store=store)
    assert child.es.ex.state.current is S.SUCCESS
    assert running.es.ex.state.current is S.RUNNING
    end = child.clock.now() + timedelta(minutes=1)
    everything = store.purge_candidates(ExecutionPurge(end), "", 10)
    expected = sorted([child.es.ex.id, cousin.es.ex.id])
    assert [c.id for c in everything] == expected
    assert all(c.logs > 0 and c.metrics == 0 for c in everything)
    team = ExecutionPurge(end, namespace="company.team")
    assert [c.id for c in store.purge_candidates(team, "", 10)] == [child.es.ex.id]
    assert [c.id for c in store.purge_candidates(ExecutionPurge(end, namespace="company"), "", 1)]
    assert store.purge_candidates(ExecutionPurge(end), expected[0], 10)[0].id == expected[1]
    assert store.purge_candidates(ExecutionPurge(end, states=frozenset({S.FAILED})), "", 10) == []
    assert (
        store.purge_candidates(ExecutionPurge(end, spare=expected[0]), "", 10)[0].id
        == (expected[1])
    )
    early = child.clock.now() - timedelta(minutes=1)
    assert store.purge_candidates(ExecutionPurge(early), "", 10) == []
    late_start = ExecutionPurge(end, start=end)
    assert store.purge_candidates(late_start, "", 10) == []
    assert store.purge_candidates(ExecutionPurge(end, flow_id="parallel"), "", 10) == []


def test_log_purge_by_level_execution_and_namespace_in_batches(store: Store) -> None:
    one = MemoryRun(said("company.team"), store=store)
    other = MemoryRun(said("elsewhere"), store=store)
    now = one.clock.now()
    rows = [
        changes.LogRow(one.es.ex.id, None, None, None, L.ERROR, "bad", now),
        changes.LogRow(one.es.ex.id, None, None, None, L.ERROR, "worse", now),
    ]
    store.commit(changes.ChangeSet(logs=rows))
    before = store.purge_candidates(ExecutionPurge(now + timedelta(minutes=1)), "", 10)
    logs = {c.id: c.logs for c in before}
    end = now + timedelta(minutes=1)
    errors = LogPurge(end, levels=frozenset({L.ERROR}), namespace="company")
    assert store.purge_logs(errors, 1) == 1
    assert store.purge_logs(errors, 10) == 1
    assert store.purge_logs(errors, 10) == 0
    assert store.purge_logs(LogPurge(end, execution_id=other.es.ex.id), 10) == logs[other.es.ex.id]
    left = store.purge_candidates(ExecutionPurge(end), "", 10)
    assert {c.id: c.logs for c in left} == {one.es.ex.id: logs[one.es.ex.id] - 2, other.es.ex.id: 0}
    assert store.purge_logs(LogPurge(now - timedelta(minutes=1)), 10) == 0


def test_rows_purged_in_place_keep_the_execution(store: Store) -> None:
    one = MemoryRun(said("company.team"), store=store)
    end = one.clock.now() + timedelta(minutes=1)
    store.purge_rows([one.es.ex.id], frozenset({"logs", "metrics"}))
    (left,) = store.purge_candidates(ExecutionPurge(end), "", 10)
    assert (left.id, left.logs, left.metrics) == (one.es.ex.id, 0, 0)
    assert store.load_executions([one.es.ex.id]).executions
