"""Engine scenario helpers: a real `Engine` on a temporary SQLite file, flows deployed from YAML,
executions waited for until they settle, and the state rules and invariants (semantics.md#states,
semantics.md#invariants) checked against the `state_changes` table read from the database file."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sqlite3
import textwrap
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tercel.clock import FakeClock
from tercel.engine import model, service
from tercel.engine.run import document
from tercel.engine.runtime.scheduler import Batch, Engine

TERMINAL = {"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "RETRIED", "SKIPPED"}
ACTIVE_RUN = {"CREATED", "RESTARTED", "RUNNING", "KILLING", "RETRYING", "PAUSED"}

Doc = dict[str, Any]


# --------------------------------------------------------------------------- document helpers


def states_of(state: Doc) -> list[str]:
    """The state names of a State document's history."""
    return [h["state"] for h in state["histories"]]


def runs_of(doc: Doc, task_id: str) -> list[Doc]:
    return [r for r in doc["taskRunList"] if r["taskId"] == task_id]


def run_of(doc: Doc, task_id: str) -> Doc:
    found = runs_of(doc, task_id)
    assert len(found) == 1, f"{task_id}: {len(found)} task runs"
    return found[0]


def order_of(doc: Doc) -> list[str]:
    return [r["taskId"] for r in doc["taskRunList"]]


def attempt_states(run: Doc) -> list[list[str]]:
    return [states_of(a["state"]) for a in run["attempts"] or []]


def flow_yaml(source: str) -> str:
    return textwrap.dedent(source).strip() + "\n"


def process_group_alive(pgid: int) -> bool:
    """True when some non-zombie process of the group exists."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


# --------------------------------------------------------------------------- database helpers


@contextlib.contextmanager
def open_db(db_path: Path | str) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        yield conn
    finally:
        conn.close()


def db_rows(db_path: Path | str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with open_db(db_path) as conn:
        return list(conn.execute(sql, params))


def pgids_of(db_path: Path | str) -> list[int]:
    return [int(r[0]) for r in db_rows(db_path, "SELECT pgid FROM processes")]


def log_messages(db_path: Path | str, execution_id: str) -> list[str]:
    rows = db_rows(
        db_path, "SELECT message FROM logs WHERE execution_id = ? ORDER BY seq", execution_id
    )
    return [r[0] for r in rows]


def micros(text: str) -> int:
    parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    delta = parsed - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def check_state(state: Doc, what: str) -> None:
    """semantics.md#states: current = last entry, dates never decrease, no state twice in a row,
    dates."""
    hist = state["histories"]
    assert hist, f"{what}: empty history"
    assert state["current"] == hist[-1]["state"], f"{what}: current != last history entry"
    dates = [micros(h["date"]) for h in hist]
    assert dates == sorted(dates), f"{what}: dates decrease: {hist}"
    names = states_of(state)
    for a, b in itertools.pairwise(names):
        assert a != b, f"{what}: {a} twice in a row in {names}"
    assert state["startDate"] == hist[0]["date"], f"{what}: startDate"
    if state["current"] in TERMINAL or state["current"] in {"PAUSED", "RESUBMITTED"}:
        assert state["endDate"] == hist[-1]["date"], f"{what}: endDate"
        assert state["duration"] is not None, f"{what}: duration"
    else:
        assert state["endDate"] is None, f"{what}: endDate set while active"
        assert state["duration"] is None, f"{what}: duration set while active"


def check_document(doc: Doc) -> None:
    check_state(doc["state"], f"execution {doc['id']}")
    ids = [r["id"] for r in doc["taskRunList"]]
    assert len(ids) == len(set(ids)), "duplicate task run ids"
    for run in doc["taskRunList"]:
        what = f"task run {run['taskId']}@{run['value']}"
        check_state(run["state"], what)
        assert run["executionId"] == doc["id"]
        if run["parentTaskRunId"] is not None:
            assert run["parentTaskRunId"] in ids[: ids.index(run["id"])], f"{what}: parent order"
        for number, attempt in enumerate(run["attempts"] or [], 1):
            check_state(attempt["state"], f"{what} attempt {number}")
    # I1: a terminal task run has no active child; a terminal execution has no active task run
    # and no running attempt
    by_id = {r["id"]: r for r in doc["taskRunList"]}
    for run in doc["taskRunList"]:
        parent = by_id.get(run["parentTaskRunId"])
        if parent is not None and parent["state"]["current"] in TERMINAL:
            assert run["state"]["current"] in TERMINAL, f"{run['taskId']} active under an end"
    if doc["state"]["current"] in TERMINAL:
        for run in doc["taskRunList"]:
            assert run["state"]["current"] in TERMINAL, f"{run['taskId']} active at the end"
            for attempt in run["attempts"] or []:
                assert attempt["state"]["current"] in TERMINAL | {"RESUBMITTED"}


def check_state_log(db_path: Path | str, doc: Doc) -> None:
    """I4: the `state_changes` rows of the execution reproduce exactly, in order, every history
    of the document (execution, each task run, each attempt) with strictly increasing seq."""
    rows = db_rows(
        db_path,
        "SELECT seq, entity, task_run_id, attempt_number, state, previous, date"
        " FROM state_changes WHERE execution_id = ? ORDER BY seq",
        doc["id"],
    )
    seqs = [r[0] for r in rows]
    assert seqs == sorted(set(seqs)), "seq not strictly increasing"
    groups: dict[tuple[str, str | None, int | None], list[tuple[str, str | None, int]]] = {}
    for _, entity, tr_id, number, state, previous, date in rows:
        # TASK_RUN rows may carry the current attempt number as context: key them by id only
        key = (entity, tr_id, number if entity == "ATTEMPT" else None)
        groups.setdefault(key, []).append((state, previous, date))
    for key, entries in groups.items():
        assert entries[0][1] is None, f"{key}: the first entry has a previous state"
        for i in range(1, len(entries)):
            assert entries[i][1] == entries[i - 1][0], f"{key}: previous mismatch {entries}"

    def same(key: tuple[str, str | None, int | None], state: Doc) -> None:
        logged = [(s, d) for s, _, d in groups.pop(key, [])]
        wanted = [(h["state"], micros(h["date"])) for h in state["histories"]]
        assert logged == wanted, f"{key}: state_changes {logged} != document {wanted}"

    same(("EXECUTION", None, None), doc["state"])
    kept = {r["id"] for r in doc["taskRunList"]}
    for run in doc["taskRunList"]:
        same(("TASK_RUN", run["id"], None), run["state"])
        for number, attempt in enumerate(run["attempts"] or [], 1):
            same(("ATTEMPT", run["id"], number), attempt["state"])
    # What is left belongs to task runs a restart removed (errors/finally, semantics.md#restart):
    # the log is append-only, so their rows stay, but nothing else may be left over.
    leftovers = {key for key in groups if key[1] in kept or key[0] == "EXECUTION"}
    assert not leftovers, f"state_changes rows not in the document: {leftovers}"


# --------------------------------------------------------------------------- the harness


@dataclass
class Harness:
    db_path: Path
    engine: Engine
    #: the last in-memory document seen by a listener, per execution id
    seen: dict[str, Doc] = field(default_factory=dict)
    batches: int = 0

    def _listen(self, batch: Batch) -> None:
        self.batches += 1
        for ex in batch.executions:
            self.seen[ex.id] = document.execution_document(ex)

    async def deploy(self, source: str) -> model.Flow:
        return await service.deploy_flow(self.engine, flow_yaml(source))

    async def create(
        self,
        flow: model.Flow,
        inputs: dict[str, Any] | None = None,
        labels: list[model.Label] | None = None,
    ) -> model.Execution:
        created = await service.create_execution(
            self.engine, flow.namespace, flow.id, inputs or {}, labels or []
        )
        assert isinstance(created, model.Execution), created
        return created

    async def doc(self, execution_id: str) -> Doc:
        ex = await service.get_execution(self.engine, execution_id)
        assert ex is not None, execution_id
        return document.execution_document(ex)

    async def wait_for(
        self,
        execution_id: str,
        predicate: Callable[[Doc], bool],
        timeout: float = 10.0,
        what: str = "condition",
    ) -> Doc:
        """Poll the committed execution every 10 ms until `predicate(doc)` holds."""
        deadline = time.monotonic() + timeout
        last: Doc | None = None
        while True:
            ex = await service.get_execution(self.engine, execution_id)
            if ex is not None:
                last = document.execution_document(ex)
                if predicate(last):
                    return last
            if time.monotonic() > deadline:
                current = None if last is None else states_of(last["state"])
                raise AssertionError(f"timeout waiting for {what}; execution {current}")
            await asyncio.sleep(0.01)

    async def turn(self) -> None:
        """Wait until the engine has acted on its clock's time. An iteration fires the due
        timers before it runs commands, but answers a command after the commit of the commands
        alone, before its passes: so one empty command to reach an iteration that saw the
        time, and a second one, taken by a later iteration, to know its passes committed.
        With a `FakeClock`, this is how a test sees that nothing fired before a due date."""
        for _ in range(2):
            await self.engine.submit(lambda: None)

    async def advance(self, clock: FakeClock, seconds: float) -> None:
        """Move the engine's fake clock, then wait for the iteration that acts on it."""
        clock.advance(seconds)
        await self.turn()

    def _timers(self, execution_id: str) -> int:
        rows = db_rows(
            self.db_path, "SELECT count(*) FROM timers WHERE execution_id = ?", execution_id
        )
        return int(rows[0][0])

    def _paused_for_good(self, execution_id: str) -> bool:
        """No timer is left, and the execution's last committed state is still PAUSED: one
        statement, one snapshot (a timer that fired between two reads made a paused execution
        look settled while it was moving on)."""
        rows = db_rows(
            self.db_path,
            "SELECT (SELECT count(*) FROM timers WHERE execution_id = ?1), (SELECT state FROM "
            "state_changes WHERE execution_id = ?1 AND entity = 'EXECUTION' ORDER BY seq DESC "
            "LIMIT 1)",
            execution_id,
        )
        return int(rows[0][0]) == 0 and rows[0][1] == "PAUSED"

    def settled(self, doc: Doc) -> bool:
        """Terminal, or PAUSED with nothing left to do but a manual resume
        (semantics.md#pause, item 6)."""
        current = doc["state"]["current"]
        if current in TERMINAL:
            return True
        if current != "PAUSED" or not self._paused_for_good(doc["id"]):
            return False
        active = [r for r in doc["taskRunList"] if r["state"]["current"] in ACTIVE_RUN]
        parents = {r["parentTaskRunId"] for r in active}
        return all(
            r["state"]["current"] == "PAUSED"
            or (r["state"]["current"] == "RUNNING" and r["id"] in parents)
            for r in active
        )

    async def wait(self, execution_id: str, timeout: float = 10.0, *, i2: bool = True) -> Doc:
        doc = await self.wait_for(execution_id, self.settled, timeout, "settled")
        self.check(doc, i2=i2)
        return doc

    async def run(
        self,
        source: str,
        inputs: dict[str, Any] | None = None,
        labels: list[model.Label] | None = None,
        timeout: float = 10.0,
        *,
        i2: bool = True,
    ) -> Doc:
        flow = await self.deploy(source)
        created = await self.create(flow, inputs, labels)
        return await self.wait(created.id, timeout, i2=i2)

    def check(self, doc: Doc, *, i2: bool = True) -> None:
        """Every durability invariant of the committed document (`i2`: no timer left once
        terminal)."""
        check_document(doc)
        check_state_log(self.db_path, doc)
        if i2 and doc["state"]["current"] in TERMINAL:
            assert self._timers(doc["id"]) == 0, "I2: a terminal execution has timers left"
        # what the engine held in memory after its last commit is what the database holds
        if self.engine.active.get(doc["id"]) is None and doc["id"] in self.seen:
            assert self.seen[doc["id"]] == doc, "in-memory and committed documents differ"


async def with_engine(
    db_path: Path, body: Callable[[Harness], Awaitable[Any]], **engine_options: Any
) -> Any:
    engine = Engine(str(db_path), **engine_options)
    harness = Harness(db_path, engine)
    engine.listeners.append(harness._listen)
    await engine.start()
    try:
        return await body(harness)
    finally:
        await engine.stop()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "tercel.db"


@pytest.fixture
def run_engine(db_path: Path) -> Callable[..., Any]:
    """`run_engine(async_body)` runs `async_body(harness)` on a fresh engine with asyncio.run."""

    def runner(body: Callable[[Harness], Awaitable[Any]], **engine_options: Any) -> Any:
        return asyncio.run(asyncio.wait_for(with_engine(db_path, body, **engine_options), 60))

    return runner
