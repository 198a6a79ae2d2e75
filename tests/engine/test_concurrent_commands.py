"""#12 item 9: commands sent concurrently on one execution decide on the engine loop's own
state, so every answer matches what was committed. Every pair of kill, restart, resume, replay
and delete, on a PAUSED execution (kill and resume apply) and on a FAILED one (restart, replay
and delete apply)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tests.engine.conftest import Harness, db_rows

from tercel.engine import changes, model, service, states
from tercel.engine.runtime.scheduler import Batch, Engine

COMMANDS = ("kill", "restart", "resume", "replay", "delete")
PAIRS = list(itertools.product(COMMANDS, repeat=2))  # both orders: the first is sent first

HELD_THEN_FAIL = """
id: held
namespace: t.pairs
tasks:
  - id: hold
    type: io.kestra.plugin.core.flow.Pause
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
"""


def _send(engine: Engine, name: str, execution_id: str) -> Awaitable[Any]:
    if name == "kill":
        return service.kill_execution(engine, execution_id)
    if name == "restart":
        return service.restart_execution(engine, execution_id)
    if name == "resume":
        return service.resume_execution(engine, execution_id, None)
    if name == "replay":
        return service.replay_execution(engine, execution_id, None)
    return service.delete_execution(engine, execution_id)


class Committed:
    """Every execution history entry and deletion the engine committed, from its listener."""

    def __init__(self, engine: Engine) -> None:
        self.rows: list[changes.StateRow] = []
        self.deleted: list[str] = []
        engine.listeners.append(self._seen)

    def _seen(self, batch: Batch) -> None:
        self.rows += [r for r in batch.changes.states if r.entity is states.Entity.EXECUTION]
        self.deleted += batch.changes.deleted_executions

    def history(self, execution_id: str) -> list[str]:
        return [r.state.value for r in self.rows if r.execution_id == execution_id]


async def _settled_terminal(h: Harness, execution_id: str) -> None:
    if db_rows(h.db_path, "SELECT count(*) FROM executions WHERE id = ?", execution_id)[0][0]:
        await h.wait(execution_id)


def _check(
    h: Harness,
    seen: Committed,
    execution_id: str,
    answers: list[tuple[str, Any]],
    before: list[str],
) -> None:
    ok = [(name, a) for name, a in answers if isinstance(a, model.Execution)]
    refused = [(name, a) for name, a in answers if not isinstance(a, model.Execution)]
    names = [name for name, _ in ok]
    why = (service.InvalidState, service.NotFound) if "delete" in names else service.InvalidState
    assert all(isinstance(a, why) for _, a in refused), refused
    history = seen.history(execution_id)
    added = history[len(before) :]
    assert history[: len(before)] == before
    # every answer that changed the execution shows a state it was committed in, in order
    for name, answer in ok:
        if name == "replay":
            assert answer.id != execution_id
            assert seen.history(answer.id)[:1] == ["CREATED"], (name, answer.id)
            continue
        shown = [h_.state.value for h_ in answer.state.histories]
        assert history[: len(shown)] == shown, (name, shown, history)
    # ... and as many changes were committed as were answered
    assert added.count("RESTARTED") == names.count("restart") + names.count("resume")
    assert added.count("KILLING") == min(1, names.count("kill"))
    assert seen.deleted.count(execution_id) == names.count("delete")
    kept = db_rows(h.db_path, "SELECT count(*) FROM executions WHERE id = ?", execution_id)
    assert kept == [(0 if "delete" in names else 1,)]
    if "delete" in names:  # nothing written after the deletion either
        for table in ("task_runs", "attempts", "state_changes", "logs", "timers", "labels"):
            sql = f"SELECT count(*) FROM {table} WHERE execution_id = ?"
            assert db_rows(h.db_path, sql, execution_id) == [(0,)], table
    sql = "SELECT count(*) FROM executions WHERE parent_id = ?"
    replays = db_rows(h.db_path, sql, execution_id)
    assert replays == [(names.count("replay"),)]


@pytest.mark.parametrize("start", ["PAUSED", "FAILED"])
@pytest.mark.parametrize(("first", "second"), PAIRS, ids=["+".join(p) for p in PAIRS])
def test_concurrent_pair(run_engine: Any, start: str, first: str, second: str) -> None:
    async def body(h: Harness) -> None:
        seen = Committed(h.engine)
        flow = await h.deploy(HELD_THEN_FAIL)
        created = await h.create(flow)
        doc = await h.wait(created.id)
        if start == "FAILED":
            resumed = await service.resume_execution(h.engine, created.id, None)
            assert isinstance(resumed, model.Execution), resumed
            doc = await h.wait(created.id)
        assert doc["state"]["current"] == start
        before = seen.history(created.id)
        sent: list[Callable[[], Awaitable[Any]]] = [
            lambda n=name: _send(h.engine, n, created.id) for name in (first, second)
        ]
        answers = await asyncio.wait_for(asyncio.gather(*(s() for s in sent)), 10)
        for answer in answers:
            if isinstance(answer, model.Execution):
                await _settled_terminal(h, answer.id)
        await _settled_terminal(h, created.id)
        _check(h, seen, created.id, list(zip((first, second), answers, strict=True)), before)

    run_engine(body)
