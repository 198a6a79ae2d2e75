"""One contract for both implementations of `engine.store.Store`: SQLite (`Database`, on a real
file) and `MemoryStore`. Every test runs against each; the last ones commit the very same
change sets to both and compare what they give back, so the two cannot drift."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from memrun import MemoryRun
from test_memory_actions import RETRIED, TWO_BRANCHES

from tercel.engine import changes, model, states
from tercel.engine.actions import lifecycle
from tercel.engine.store import Store
from tercel.engine.types import TimerKind
from tercel.storage.memory import MemoryStore
from tercel.storage.sqlite import Database

S = states.StateType
NOW = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    found: Store = Database(str(tmp_path / "t.db")) if request.param == "sqlite" else MemoryStore()
    yield found
    found.close()


def _log(execution_id: str, text: str) -> changes.LogRow:
    return changes.LogRow(execution_id, None, None, None, model.LogLevel.INFO, text, NOW)


def test_a_commit_numbers_its_state_and_log_rows_in_order(store: Store) -> None:
    run = MemoryRun(RETRIED, store=store)
    first = store.last_state_seq
    assert first > 0 and store.last_log_seq > 0
    cs = changes.ChangeSet(logs=[_log(run.es.ex.id, "a"), _log(run.es.ex.id, "b")])
    before = store.last_log_seq
    store.commit(cs)
    assert [row.seq for row in cs.logs] == [before + 1, before + 2]
    assert store.last_log_seq == before + 2 and store.last_state_seq == first


def test_a_failed_commit_stores_nothing_and_numbers_nothing(store: Store) -> None:
    run = MemoryRun(RETRIED, store=store)
    state_seq, log_seq = store.last_state_seq, store.last_log_seq
    stored = store.load_executions([run.es.ex.id])
    again = changes.ChangeSet(
        new_executions={run.es.ex.id: run.es.ex},  # stored already: refused
        logs=[_log(run.es.ex.id, "lost")],
        timers_added=[changes.TimerRow("t1", run.es.ex.id, TimerKind.RETRY, None, NOW)],
    )
    with pytest.raises(Exception):  # noqa: B017 (sqlite3.IntegrityError / ValueError)
        store.commit(again)
    assert [row.seq for row in again.logs] == [0]
    assert (store.last_state_seq, store.last_log_seq) == (state_seq, log_seq)
    assert store.load_timers(run.es.ex.id) == []
    assert store.load_executions([run.es.ex.id]) == stored


def test_active_executions_and_unknown_ids(store: Store) -> None:
    done = MemoryRun(RETRIED, store=store)
    for _ in range(2):
        done.finish("flaky", S.FAILED)
        done.advance(30)
    done.finish("flaky", S.FAILED)
    waiting = MemoryRun(TWO_BRANCHES, store=store)
    assert store.active_execution_ids() == [waiting.es.ex.id]
    loaded = store.load_executions(["nope", done.es.ex.id, waiting.es.ex.id])
    assert [ex.id for ex in loaded.executions] == [done.es.ex.id, waiting.es.ex.id]
    assert loaded.plans  # the Parallel's plan, stored when it started


def test_processes_recorded_and_ended_in_one_commit(store: Store) -> None:
    store.commit(changes.ChangeSet(processes=[("r1", 1, 100), ("r2", 1, 200)]))
    store.commit(
        changes.ChangeSet(processes=[("r3", 2, 300), ("r1", 1, 999)], processes_ended=[("r3", 2)])
    )
    assert sorted(store.leftover_processes()) == [("r1", 1, 100), ("r1", 1, 999), ("r2", 1, 200)]
    store.forget_processes()
    assert store.leftover_processes() == []


def test_timers_replace_by_id_and_come_back_earliest_first(store: Store) -> None:
    late = changes.TimerRow("a", "ex1", TimerKind.RETRY, "r1", NOW + timedelta(seconds=9))
    early = changes.TimerRow("b", "ex2", TimerKind.PAUSE_DELAY, "r2", NOW, {"k": [1]})
    store.commit(changes.ChangeSet(timers_added=[late, early]))
    moved = dataclasses.replace(late, due=NOW - timedelta(seconds=1))
    store.commit(changes.ChangeSet(timers_added=[moved]))
    assert [(t.id, t.due) for t in store.load_timers()] == [("a", moved.due), ("b", NOW)]
    assert store.load_timers("ex2") == [early]
    store.commit(changes.ChangeSet(timers_removed=["a"]))
    assert [t.id for t in store.load_timers()] == ["b"]


def test_flow_revisions_deploy_disable_delete(store: Store) -> None:
    one = store.deploy_flow("ns", "f", "v1", False, NOW)
    assert store.deploy_flow("ns", "f", "v1", False, NOW) == one  # same source, same revision
    two = store.deploy_flow("ns", "f", "v2", False, NOW)
    store.deploy_flow("a", "z", "x", True, NOW)
    assert (one.revision, two.revision) == (1, 2)
    assert store.set_flow_disabled("ns", "f", True) == 2
    assert store.latest_flow("ns", "f") == dataclasses.replace(two, disabled=True)
    assert [(r.namespace, r.id, r.revision) for r in store.latest_flows()] == [
        ("a", "z", 1),
        ("ns", "f", 2),
    ]
    assert store.delete_flow("ns", "f") == 2
    assert store.delete_flow("ns", "f") is None
    assert store.set_flow_disabled("ns", "f", False) is None
    assert store.latest_flow("ns", "f") is None
    assert store.flow("ns", "f", 1) is not None  # deleted revisions stay readable
    assert store.deploy_flow("ns", "f", "v2", False, NOW).revision == 3
    assert [r.id for r in store.latest_flows()] == ["z", "f"]


def test_flow_heads_and_latest_flows_of_a_namespace(store: Store) -> None:
    store.deploy_flow("team", "a", "v1", False, NOW)
    store.deploy_flow("team", "a", "v2", False, NOW)
    store.deploy_flow("team.sub", "b", "x", True, NOW)
    store.deploy_flow("teams", "c", "x", False, NOW)  # not under `team`
    store.deploy_flow("other", "d", "x", False, NOW)
    store.delete_flow("other", "d")
    assert [(r.namespace, r.id) for r in store.latest_flows("team")] == [
        ("team", "a"),
        ("team.sub", "b"),
    ]
    assert [(h.namespace, h.id, h.revision, h.disabled) for h in store.latest_flow_heads()] == [
        ("team", "a", 2, False),
        ("team.sub", "b", 1, True),
        ("teams", "c", 1, False),
    ]


def _trigger(next_date: datetime | None, **given: object) -> changes.TriggerStateRow:
    return changes.TriggerStateRow("ns", "f", "t", next_date, **given)  # type: ignore[arg-type]


def test_trigger_states_keep_what_a_save_leaves_out(store: Store) -> None:
    store.save_trigger_states([_trigger(NOW, definition="d1", last_execution_id="e1")])
    store.save_trigger_states([_trigger(NOW + timedelta(hours=1), definition="d2", watermark=7)])
    (found,) = store.trigger_states().values()
    assert found.row == _trigger(
        NOW + timedelta(hours=1), definition="d2", last_execution_id="e1", watermark=7
    )
    assert not found.disabled and store.switched_off_triggers() == set()
    found.row.last_execution_id = "changed by the caller"  # a copy: the store keeps its own
    assert store.trigger_states()[("ns", "f", "t")].row.last_execution_id == "e1"


def test_switching_a_trigger_off_forgets_its_next_date(store: Store) -> None:
    store.save_trigger_states([_trigger(NOW, definition="d")])
    store.set_trigger_disabled("ns", "f", "t", True)
    store.set_trigger_disabled("ns", "g", "unseen", True)
    assert store.switched_off_triggers() == {("ns", "f", "t"), ("ns", "g", "unseen")}
    stored = store.trigger_states()
    assert stored[("ns", "f", "t")].row == _trigger(None, definition="d")
    assert stored[("ns", "g", "unseen")].row == changes.TriggerStateRow("ns", "g", "unseen", None)
    store.save_trigger_states([_trigger(NOW)])  # the runner's writes keep the switch
    store.set_trigger_disabled("ns", "g", "unseen", False)
    assert store.switched_off_triggers() == {("ns", "f", "t")}
    assert store.trigger_states()[("ns", "f", "t")].row.next_date == NOW


def test_a_trigger_state_commits_with_its_execution_or_not_at_all(store: Store) -> None:
    run = MemoryRun(RETRIED, store=store)
    refused = changes.ChangeSet(
        new_executions={run.es.ex.id: run.es.ex},  # stored already: the commit fails
        trigger_states=[_trigger(NOW, last_execution_id=run.es.ex.id)],
    )
    with pytest.raises(Exception):  # noqa: B017 (sqlite3.IntegrityError / ValueError)
        store.commit(refused)
    assert store.trigger_states() == {}
    store.commit(changes.ChangeSet(trigger_states=[_trigger(NOW, last_execution_id="e9")]))
    assert store.trigger_states()[("ns", "f", "t")].row.last_execution_id == "e9"


def test_execution_ends_since_a_seq(store: Store) -> None:
    first = MemoryRun(RETRIED, store=store)
    for _ in range(2):
        first.finish("flaky", S.FAILED)
        first.advance(30)
    first.finish("flaky", S.FAILED)
    middle = store.last_state_seq
    second = MemoryRun(TWO_BRANCHES, store=store)
    second.kill()
    second.finish("left", S.KILLED)
    second.finish("right", S.KILLED)
    ends = store.executions_ended_since(0)
    # the execution went FAILED -> RETRYING twice (its task retried) before its last FAILED
    assert [(e.id, e.state, e.flow_id, e.flow_revision) for e in ends] == [
        *[(first.es.ex.id, S.FAILED, "retried", 1)] * 3,
        (second.es.ex.id, S.KILLED, "parallel", 1),
    ]
    assert ends[0].seq < ends[1].seq < ends[2].seq <= middle < ends[3].seq
    assert [e.id for e in store.executions_ended_since(middle)] == [second.es.ex.id]
    store.commit(changes.ChangeSet(deleted_executions=[first.es.ex.id]))
    assert [e.id for e in store.executions_ended_since(0)] == [second.es.ex.id]


class Tee:
    """Commits every change set to both stores (the memory one gets a deep copy)."""

    def __init__(self, sqlite: Database, memory: MemoryStore) -> None:
        self.sqlite, self.memory = sqlite, memory

    def commit(self, cs: changes.ChangeSet) -> None:
        self.memory.commit(copy.deepcopy(cs))
        self.sqlite.commit(cs)

    def __getattr__(self, name: str) -> object:
        return getattr(self.sqlite, name)


def test_both_stores_give_back_the_same_executions(tmp_path: Path) -> None:
    sqlite, memory = Database(str(tmp_path / "t.db")), MemoryStore()
    tee = Tee(sqlite, memory)
    retried = MemoryRun(RETRIED, store=tee)  # type: ignore[arg-type]
    tee.commit(changes.ChangeSet(trigger_states=[_trigger(NOW, watermark=3)]))
    retried.finish("flaky", S.FAILED)
    killed = MemoryRun(TWO_BRANCHES, store=tee)  # type: ignore[arg-type]
    killed.kill()
    killed.finish("left", S.KILLED)
    ids = [retried.es.ex.id, killed.es.ex.id]
    _same(sqlite, memory, ids)

    retried.advance(30)
    for _ in range(2):
        retried.finish("flaky", S.FAILED)
        retried.advance(30)
    assert lifecycle.restart(retried.es, retried.clock.now) is None
    retried.settle()
    killed.finish("right", S.KILLED)
    tee.commit(changes.ChangeSet(deleted_executions=[killed.es.ex.id]))
    _same(sqlite, memory, ids)
    sqlite.close()


def _same(sqlite: Database, memory: MemoryStore, ids: list[str]) -> None:
    assert memory.load_executions(ids) == sqlite.load_executions(ids)
    assert memory.load_timers() == sqlite.load_timers()
    assert memory.active_execution_ids() == sqlite.active_execution_ids()
    assert memory.executions_ended_since(0) == sqlite.executions_ended_since(0)
    assert memory.trigger_states() == sqlite.trigger_states()
    assert (memory.last_state_seq, memory.last_log_seq) == (
        sqlite.last_state_seq,
        sqlite.last_log_seq,
    )
