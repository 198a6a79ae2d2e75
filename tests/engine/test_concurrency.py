"""Flow concurrency (semantics.md#concurrency) on a real engine and SQLite file: the queue is
rebuilt from the file by an engine started again on it, and the commands that act on
it (unqueue, force run, kill, delete, bulk) answer after their commit."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from tests.engine.conftest import Doc, Harness, states_of, with_engine

from tercel.engine import model, operations, service, states
from tercel.engine.actions import bulk

S = states.StateType

LIMITED = """
id: limited
namespace: t.conc
concurrency:
  limit: 1
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: {duration}
"""

#: LIMITED whose executions first wait while the file {hold} exists: each holds its slot for as
#: long as the test needs, however slow the host (a Sleep alone may end before the next step)
HELD = """
id: limited
namespace: t.conc
concurrency:
  limit: 1
tasks:
  - id: hold
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - while [ -e {hold} ]; do sleep 0.02; done
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.2S
"""


def state_is(*wanted: str) -> Any:
    return lambda doc: doc["state"]["current"] in wanted


async def _queue_of_three(h: Harness, source: str) -> list[str]:
    flow = await h.deploy(source)
    first = await h.create(flow)
    await h.wait_for(first.id, state_is("RUNNING"))
    queued = [(await h.create(flow)).id for _ in range(2)]
    for execution_id in queued:
        await h.wait_for(execution_id, state_is("QUEUED"))
    return [first.id, *queued]


def test_the_queue_comes_back_from_the_file(db_path: Path) -> None:
    """An engine stopped with one RUNNING (held there by `HELD`, whatever the host's speed) and
    two QUEUED: the next engine on the same file resubmits the running one and starts the
    queued ones one at a time, oldest first."""
    hold = db_path.parent / "hold"
    hold.touch()

    async def first_engine(h: Harness) -> list[str]:
        return await _queue_of_three(h, HELD.format(hold=hold))

    async def second_engine(h: Harness) -> list[Doc]:
        return [await h.wait(execution_id, timeout=20) for execution_id in ids]

    ids = asyncio.run(with_engine(db_path, first_engine))
    hold.unlink()
    docs = asyncio.run(with_engine(db_path, second_engine))
    assert [d["state"]["current"] for d in docs] == ["SUCCESS"] * 3
    assert [states_of(d["state"]) for d in docs[1:]] == [
        ["CREATED", "QUEUED", "RUNNING", "SUCCESS"]
    ] * 2
    starts = [d["state"]["histories"][2]["date"] for d in docs[1:]]
    ends = [d["state"]["histories"][-1]["date"] for d in docs]
    assert ends[0] <= starts[0] and ends[1] <= starts[1]  # one at a time, in creation order


def test_unqueue_force_run_kill_delete_and_bulk(run_engine: Any) -> None:
    async def body(h: Harness) -> None:
        running, queued, other = await _queue_of_three(h, LIMITED.format(duration="PT30S"))
        engine = h.engine
        dry = await operations.run_bulk(engine, bulk.Action.UNQUEUE, [queued, running], dry=True)
        assert [i.outcome for i in dry.items] == [bulk.BulkOutcome.OK, bulk.BulkOutcome.SKIPPED]
        unqueued = await operations.unqueue_execution(engine, queued, S.CANCELLED)
        assert isinstance(unqueued, model.Execution) and unqueued.state.current is S.CANCELLED
        refused = await operations.force_run_execution(engine, queued)
        assert isinstance(refused, service.InvalidState), refused
        as_is = await operations.force_run_execution(engine, running)
        assert isinstance(as_is, model.Execution) and as_is.state.current is S.RUNNING
        killed = await service.kill_execution(engine, other)
        assert isinstance(killed, model.Execution), killed
        assert [h.state for h in killed.state.histories] == [S.CREATED, S.QUEUED, S.KILLED]
        deleted = await service.delete_execution(engine, other)
        assert isinstance(deleted, model.Execution), deleted
        flow = await h.deploy(LIMITED.format(duration="PT30S"))
        spare = (await h.create(flow)).id
        await h.wait_for(spare, state_is("QUEUED"))
        forced = await operations.run_bulk(engine, bulk.Action.FORCE_RUN, [spare])
        assert [(i.outcome, i.state) for i in forced.items] == [(bulk.BulkOutcome.OK, S.RUNNING)]
        for execution_id in (running, spare):
            await service.kill_execution(engine, execution_id)
            await h.wait_for(execution_id, state_is("KILLED"))

    run_engine(body)


def test_a_replay_from_the_start_is_a_new_execution_and_waits_its_turn(
    run_engine: Any, tmp_path: Path
) -> None:
    """The replay is QUEUED while the running one holds the slot (`HELD` until then)."""
    hold = tmp_path / "hold"

    async def body(h: Harness) -> None:
        flow = await h.deploy(HELD.format(hold=hold))
        done = await h.create(flow)
        await h.wait(done.id)
        hold.touch()
        running = await h.create(flow)
        await h.wait_for(running.id, state_is("RUNNING"))
        replayed = await service.replay_execution(h.engine, done.id, None)
        assert isinstance(replayed, model.Execution), replayed
        await h.wait_for(replayed.id, state_is("QUEUED"))
        hold.unlink()
        doc = await h.wait(replayed.id)
        assert states_of(doc["state"])[:3] == ["CREATED", "QUEUED", "RUNNING"]

    run_engine(body)


def test_a_bug_in_the_gate_fails_that_execution_not_the_loop(
    run_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gate step that raises quarantines its execution (FAILED, the reason in its logs);
    the loop goes on and the next execution of the flow runs."""
    from tercel.engine.actions import queueing

    real_start = queueing.start
    broken: list[str] = []

    def start_once_broken(es: Any, why: str, now: Any) -> None:
        if not broken:
            broken.append(es.ex.id)
            raise RuntimeError("gate bug")
        real_start(es, why, now)

    monkeypatch.setattr(queueing, "start", start_once_broken)

    async def body(h: Harness) -> None:
        flow = await h.deploy(LIMITED.format(duration="PT0.1S"))
        first = await h.create(flow)
        doc = await h.wait_for(first.id, state_is("FAILED"))
        assert broken == [first.id]
        second = await h.create(flow)
        doc = await h.wait(second.id)
        assert states_of(doc["state"]) == ["CREATED", "RUNNING", "SUCCESS"]

    run_engine(body)
